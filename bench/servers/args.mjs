// Command-line options shared by the benchmark servers: `--port N` (default 0,
// a free port) plus the flags each server declares; env variables as fallback.

/**
 * @param {Record<string, { type: 'integer' | 'boolean' | 'string', env?: string, choices?: string[] }>} flags
 *   e.g. { 'max-read': { type: 'integer', env: 'BENCH_MAX_READ' } }; a string flag with `choices`
 *   takes one of them
 * @returns {Record<string, number | boolean | string | undefined>} values by flag name
 */
export function parseServerArgs(flags, argv = process.argv.slice(2)) {
  const all = { port: { type: 'integer', env: 'PORT' }, ...flags };
  const values = {};
  for (const [name, flag] of Object.entries(all)) {
    const fromEnv = flag.env ? process.env[flag.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') values[name] = parseValue(name, flag, fromEnv);
  }
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : null;
    const flag = name ? all[name] : undefined;
    if (!flag) usage(`unknown argument '${argv[i]}'`, all);
    if (flag.type === 'boolean') values[name] = true;
    else if (i + 1 < argv.length) values[name] = parseValue(name, flag, argv[++i]);
    else usage(`--${name} needs a value`, all);
  }
  values.port ??= 0;
  return values;
}

function parseValue(name, flag, text) {
  if (flag.type === 'boolean') return text !== '0' && text !== 'false';
  if (flag.type === 'string') {
    if (flag.choices && !flag.choices.includes(text))
      usage(`--${name} must be one of ${flag.choices.join(', ')}, got '${text}'`);
    return text;
  }
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0)
    usage(`--${name} must be a non-negative integer, got '${text}'`);
  return value;
}

function usage(message, flags = {}) {
  const names = Object.entries(flags).map(([name, flag]) => {
    if (flag.type === 'boolean') return `[--${name}]`;
    if (flag.type === 'string') return `[--${name} ${flag.choices ? flag.choices.join('|') : 'TEXT'}]`;
    return `[--${name} N]`;
  });
  process.stderr.write(`${message}\nusage: node ${process.argv[1]} ${names.join(' ')}\n`);
  process.exit(64);
}
