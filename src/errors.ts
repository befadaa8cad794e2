// The binding's one error class. Every error it throws or reports has a `code` listed in docs/errors.md.
import { getSystemErrorName } from 'node:util';

export class BuffereventError extends Error {
  readonly code: string;
  /** The system error number, for errors that come from a system call. */
  errno?: number;
  /** The system call that failed, where there was one. */
  syscall?: string;

  constructor(message: string, code: string) {
    super(message);
    this.name = 'BuffereventError';
    this.code = code;
  }

  /** The symbolic name of `errno` (e.g. `ECONNREFUSED`), when there is one. */
  get systemCode(): string | undefined {
    return this.errno === undefined ? undefined : systemErrorName(this.errno);
  }
}

export function invalidArgument(code: string, message: string): BuffereventError {
  return new BuffereventError(message, code);
}

function systemErrorName(errno: number): string | undefined {
  try {
    return getSystemErrorName(-Math.abs(errno));
  } catch {
    return undefined;
  }
}

/**
 * An error reported by libevent through an event callback. Its code is the system error's name
 * (ECONNREFUSED, ECONNRESET, EPIPE, ...), like Node's own socket errors.
 */
export function socketError(errno: number, what: string): BuffereventError {
  const name = systemErrorName(errno) ?? 'ERR_SOCKET';
  const error = new BuffereventError(`${what}: ${name} (errno ${errno})`, name);
  error.errno = errno;
  return error;
}
