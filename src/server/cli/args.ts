// Parsing a command's arguments against its OptionSpecs: `--name value`, `--name=value`, flags, `--`
// ending the options. Anything unexpected is a UsageError naming it (with a suggestion for a typo).
import { closestKey } from '../config-checks.ts';
import { UsageError } from '../errors.ts';
import type { Command, CommandContext } from './command.ts';

export type ParsedArguments = Pick<CommandContext, 'options' | 'args'>;

export function parseArguments(command: Command, argv: readonly string[]): ParsedArguments {
  const options: Record<string, string | true> = Object.create(null);
  const args: string[] = [];
  const known = command.options.map((option) => option.name);
  let onlyArguments = false;
  for (let index = 0; index < argv.length; index++) {
    const word = argv[index]!;
    if (onlyArguments || !word.startsWith('-') || word === '-') {
      args.push(word);
      continue;
    }
    if (word === '--') {
      onlyArguments = true;
      continue;
    }
    // Only the option's name is ever repeated back: a mistyped line may hold a secret after it.
    if (!word.startsWith('--'))
      throw new UsageError(`unknown option ${word.slice(0, 2)} (options are spelt --name)`);
    const equals = word.indexOf('=');
    const name = word.slice(2, equals < 0 ? undefined : equals);
    const spec = command.options.find((option) => option.name === name);
    if (spec === undefined && /^pass(word)?$/i.test(name))
      throw new UsageError(`${PASSWORD_ARGUMENT_REFUSED}`);
    if (spec === undefined) {
      const suggestion = closestKey(name, known);
      throw new UsageError(
        `unknown option --${name}` + (suggestion === undefined ? '' : ` (did you mean --${suggestion}?)`),
      );
    }
    if (Object.hasOwn(options, name)) throw new UsageError(`--${name} given twice`);
    if (spec.value === undefined) {
      if (equals >= 0) throw new UsageError(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    const value = equals >= 0 ? word.slice(equals + 1) : argv[++index];
    if (value === undefined || value === '')
      throw new UsageError(`--${name} needs a value (--${name} ${spec.value})`);
    options[name] = value;
  }
  const expected = command.arguments.map((argument) => `<${argument.name}>`).join(' ');
  if (args.length < command.arguments.length)
    throw new UsageError(
      `missing ${command.arguments
        .slice(args.length)
        .map((a) => `<${a.name}>`)
        .join(' ')}`,
    );
  // The extra argument is not quoted: it may be a password typed after the name.
  if (args.length > command.arguments.length)
    throw new UsageError(
      `${args.length} argument${args.length === 1 ? '' : 's'} given, expected ${command.arguments.length}` +
        (expected === '' ? '' : ` (usage: ${command.name} ${expected})`) +
        (command.options.some((option) => option.name === 'password-stdin')
          ? `; ${PASSWORD_ARGUMENT_REFUSED}`
          : ''),
    );
  return { options, args };
}

/** Refuses two options that exclude each other. */
export function refuseTogether(options: ParsedArguments['options'], a: string, b: string): void {
  if (options[a] !== undefined && options[b] !== undefined)
    throw new UsageError(`--${a} and --${b} cannot be used together`);
}

export const PASSWORD_ARGUMENT_REFUSED =
  'passwords are never taken as command-line arguments (ps and shell history would show them): ' +
  'type it at the prompt, or pipe it with --password-stdin';
