// Errors of the WebSocket layer: BuffereventErrors whose code is a WS_ERR_* from docs/errors.md,
// with the close code sent to the peer when the error closed the connection.
import { BuffereventError } from '../errors.ts';

export class WebSocketError extends BuffereventError {
  /** The close code sent to the peer because of this error, if it closed the connection. */
  closeCode?: number;
  constructor(message: string, code: string, closeCode?: number) {
    super(message, code);
    if (closeCode !== undefined) this.closeCode = closeCode;
  }
}
