// The `bufferevent` program: finds the command in the table (commands.ts), parses its arguments,
// runs it, and turns errors into messages and exit codes: 2 for a command line or config file that
// cannot be used, 1 for a failure, 130 when a prompt is interrupted. bin/bufferevent.mjs calls `main`.
import { closestKey } from '../config-checks.ts';
import { ConfigError, ServerError, UsageError } from '../errors.ts';
import { parseArguments } from './args.ts';
import { COMMANDS, GROUPS } from './commands.ts';
import { EXIT, type CliIO, type Command } from './command.ts';
import { commandHelp, groupHelp, PROGRAM, programHelp } from './help.ts';
import { PromptInterrupted } from './password-input.ts';

const HELP = new Set(['--help', '-h']);

export function processIO(): CliIO {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() };
}

/** Runs one command line (without the node and script words); resolves to the exit code. */
export async function main(
  argv: readonly string[],
  io: CliIO = processIO(),
  commands = COMMANDS,
): Promise<number> {
  try {
    return await dispatch(argv, io, commands);
  } catch (error) {
    return report(error, io);
  }
}

async function dispatch(argv: readonly string[], io: CliIO, commands: readonly Command[]): Promise<number> {
  const [first, second] = argv;
  if (first === undefined) {
    io.stderr.write(programHelp(commands, GROUPS));
    return EXIT.usage;
  }
  if (HELP.has(first)) {
    io.stdout.write(programHelp(commands, GROUPS));
    return EXIT.ok;
  }
  if (first.startsWith('-'))
    throw new UsageError(`unknown option ${first.split('=')[0]} (give a command first)`);
  const single = commands.find((command) => command.name === first);
  if (single !== undefined) return runCommand(single, argv.slice(1), io);
  const members = commands.filter((command) => command.name.startsWith(`${first} `));
  if (members.length === 0) throw unknownCommand(first, topLevelNames(commands));
  if (second === undefined || HELP.has(second)) {
    const text = groupHelp(first, commands, GROUPS[first]);
    if (second === undefined) {
      io.stderr.write(text);
      return EXIT.usage;
    }
    io.stdout.write(text);
    return EXIT.ok;
  }
  const command = members.find((member) => member.name === `${first} ${second}`);
  if (command === undefined)
    throw unknownCommand(
      `${first} ${second}`,
      members.map((member) => member.name),
    );
  return runCommand(command, argv.slice(2), io);
}

async function runCommand(command: Command, rest: readonly string[], io: CliIO): Promise<number> {
  const beforeEnd = rest.indexOf('--') < 0 ? rest : rest.slice(0, rest.indexOf('--'));
  if (beforeEnd.some((word) => HELP.has(word))) {
    io.stdout.write(commandHelp(command));
    return EXIT.ok;
  }
  try {
    const parsed = parseArguments(command, rest);
    return await command.run({ ...parsed, io });
  } catch (error) {
    // Names the command, so the message can point at its own --help.
    if (error instanceof UsageError && error.command === undefined)
      throw new UsageError(error.message, command.name);
    throw error;
  }
}

function topLevelNames(commands: readonly Command[]): string[] {
  return [...new Set(commands.map((command) => command.name.split(' ')[0]!))];
}

function unknownCommand(name: string, known: readonly string[]): UsageError {
  const last = name.split(' ').at(-1)!;
  const suggestion = closestKey(
    last,
    known.map((candidate) => candidate.split(' ').at(-1)!),
  );
  const full =
    suggestion === undefined ? undefined : known.find((candidate) => candidate.endsWith(suggestion));
  return new UsageError(
    `unknown command "${name}"` + (full === undefined ? '' : ` (did you mean "${full}"?)`),
  );
}

function report(error: unknown, io: CliIO): number {
  if (error instanceof PromptInterrupted) {
    io.stderr.write(`${PROGRAM}: ${error.message}: nothing was changed\n`);
    return EXIT.interrupted;
  }
  if (error instanceof UsageError) {
    const help = error.command === undefined ? PROGRAM : `${PROGRAM} ${error.command}`;
    io.stderr.write(`${PROGRAM}: ${error.message}\nRun "${help} --help" for usage.\n`);
    return EXIT.usage;
  }
  if (error instanceof ConfigError) {
    io.stderr.write(`${PROGRAM}: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof ServerError) {
    io.stderr.write(`${PROGRAM}: ${error.message}\n`);
    return EXIT.failure;
  }
  // The system refused what was asked (the port is taken, a file cannot be read): said plainly.
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof Error && typeof code === 'string' && /^(ERR_LISTEN|E[A-Z]+)$/.test(code)) {
    const hint = /EADDRINUSE|ERR_LISTEN/.test(`${code} ${error.message}`)
      ? ' (is another server on that port? choose another with --port)'
      : '';
    io.stderr.write(`${PROGRAM}: ${error.message}${hint}\n`);
    return EXIT.failure;
  }
  io.stderr.write(
    `${PROGRAM}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return EXIT.failure;
}
