// Reading numeric command-line options the same way in every benchmark script: a value that is
// not a positive number (or integer), or zero where zero is not allowed, ends the script with
// exit code 64 (usage error) and a message naming the option.

/** A reader over parseArgs' `values`: number(name, { integer, zeroAllowed }). */
export function numberOptions(values) {
  return (name, { integer = false, zeroAllowed = false } = {}) => {
    const value = Number(values[name]);
    if (!(value > 0 || (zeroAllowed && value === 0)) || (integer && !Number.isSafeInteger(value))) {
      process.stderr.write(
        `--${name} must be a positive ${integer ? 'integer' : 'number'}, got '${values[name]}'\n`,
      );
      process.exit(64);
    }
    return value;
  };
}
