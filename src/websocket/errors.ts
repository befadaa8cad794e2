// Errors of the WebSocket layer: BuffereventErrors whose code is a WS_ERR_* from docs/errors.md,
// with the close code sent to the peer when the error closed the connection. Wrong arguments are
// thrown as the TypeError, RangeError or SyntaxError `ws` throws for them, so code that checks the
// class keeps working, and each still carries its WS_ERR_* code.
import { BuffereventError } from '../errors.ts';

export class WebSocketError extends BuffereventError {
  /** The close code sent to the peer because of this error, if it closed the connection. */
  closeCode?: number;
  constructor(message: string, code: string, closeCode?: number) {
    super(message, code);
    if (closeCode !== undefined) this.closeCode = closeCode;
  }
}

/** An argument of the wrong type or value (ws: an invalid close code, header or data). */
export class WebSocketTypeError extends TypeError {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/** An argument out of range (ws: a close reason or control payload too long, a protocol version). */
export class WebSocketRangeError extends RangeError {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/** A malformed URL or subprotocol (ws throws SyntaxError for these). */
export class WebSocketSyntaxError extends SyntaxError {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/**
 * The error of a failed system call, shaped as Node's own (`connect ECONNREFUSED 127.0.0.1:80`):
 * code, a negative errno, syscall and the address tried, so `ws` error handling keeps working.
 */
export function systemError(
  syscall: string,
  code: string,
  errno: number | undefined,
  where: { address?: string; port?: number; hostname?: string },
  detail = '',
): WebSocketError {
  const at =
    where.hostname !== undefined
      ? ` ${where.hostname}`
      : where.address !== undefined
        ? ` ${where.address}${where.port !== undefined ? `:${where.port}` : ''}`
        : '';
  const error = new WebSocketError(`${syscall} ${code}${detail}${at}`, code);
  if (errno !== undefined) error.errno = -Math.abs(errno);
  error.syscall = syscall;
  const fields = error as WebSocketError & { address?: string; port?: number; hostname?: string };
  if (where.address !== undefined) fields.address = where.address;
  if (where.port !== undefined) fields.port = where.port;
  if (where.hostname !== undefined) fields.hostname = where.hostname;
  return error;
}
