// What a command of the `bufferevent` program is: a name (one or two words: 'serve', 'user add'),
// its options and arguments (which drive parsing and --help alike) and `run`. Commands are listed in
// commands.ts; the dispatcher (main.ts) finds them there.
import type { Readable, Writable } from 'node:stream';

export interface OptionSpec {
  /** Long name without dashes: 'users-file'. */
  readonly name: string;
  /** The placeholder of its value ('PATH'); absent for a flag. */
  readonly value?: string;
  readonly description: string;
}

export interface ArgumentSpec {
  /** Shown in usage as <name>. */
  readonly name: string;
  readonly description: string;
}

/** The process's streams and surroundings, replaceable in tests. */
export interface CliIO {
  readonly stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly cwd: string;
}

export interface CommandContext {
  /** Option values by long name: a string for options with a value, true for flags given. */
  readonly options: Readonly<Record<string, string | true>>;
  /** The arguments, one per ArgumentSpec, in order. */
  readonly args: readonly string[];
  readonly io: CliIO;
}

export interface Command {
  /** 'serve', 'user add'. */
  readonly name: string;
  /** One line, for the program's and the group's command lists. */
  readonly summary: string;
  /** Paragraphs shown by `--help` after the usage line. */
  readonly description: string;
  readonly arguments: readonly ArgumentSpec[];
  readonly options: readonly OptionSpec[];
  /** Resolves to the exit code. Throws UsageError (exit 2), ServerError (exit 1). */
  run(context: CommandContext): Promise<number>;
}

/** The exit codes of the program. */
export const EXIT = Object.freeze({ ok: 0, failure: 1, usage: 2, interrupted: 130 });
