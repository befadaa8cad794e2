// Errors of the bundled server's operator-facing parts (users file, config file, command line). Each
// carries a `code` listed in docs/errors.md. None of them ever holds a password: messages name the
// user, the file and the key, never a secret value.
import { BuffereventError } from '../errors.ts';

export class ServerError extends BuffereventError {
  constructor(message: string, code: string) {
    super(message, code);
    this.name = 'ServerError';
  }
}

/** One thing wrong in a config file: `keyPath` is the dotted path of the bad key ('' for the whole file). */
export interface ConfigIssue {
  readonly keyPath: string;
  readonly message: string;
}

/** A config file that cannot be used. `issues` lists every bad key found. */
export class ConfigError extends ServerError {
  readonly issues: readonly ConfigIssue[];
  constructor(message: string, code: string, issues: readonly ConfigIssue[] = []) {
    super(message, code);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** A command line that cannot be run as written (exit code 2). */
export class UsageError extends ServerError {
  /** The command whose line was wrong ('user add'), when it was found; its --help is suggested. */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(command === undefined ? message : `${command}: ${message}`, 'ERR_CLI_USAGE');
    this.name = 'UsageError';
    this.command = command;
  }
}
