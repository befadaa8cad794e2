// The part of a WebSocket's state that an open, idle connection does not use: a subprotocol and a
// binaryType other than the defaults, the close handshake's details, events held behind a pause, sends waiting behind a Blob, callbacks waiting
// for 'drain', the counts of what was dropped, and a client's URL and connect abort. A socket
// makes it on first use and keeps it to the end (websocket.ts), so each of thousands of idle
// server connections carries one empty slot instead of a dozen fields.

import type { BinaryType } from './message-data.ts';

/** Typed as in @types/ws; called with null on success (as ws does), an Error on failure. */
export type SendCallback = (error?: Error) => void;

/** 1006: the connection ended without a close frame (RFC 6455 §7.1.5). */
export const CLOSE_ABNORMAL = 1006;
/** The reason of a close without one: shared by every socket (it has no bytes to change). */
export const NO_REASON = Buffer.alloc(0);

export class RareState {
  /** The subprotocol agreed, when one was. */
  protocol = '';
  binaryType: BinaryType = 'nodebuffer';
  /** A client's URL (the last one, after redirects); a server socket has none. */
  url = '';
  /** Ends a client's connection attempt (the TCP connect or the opening handshake). */
  abortConnect: (() => void) | null = null;
  /** What 'close' reports: the peer's close frame, our code after a protocol error, else 1006. */
  closeCode = CLOSE_ABNORMAL;
  closeReason: Buffer = NO_REASON;
  /** Bounds the close handshake and the lingering close (closeTimeout). */
  closeTimer: NodeJS.Timeout | null = null;
  /**
   * Events the native side reported that are not delivered yet, in stream order, four slots each
   * (event, a, b, c): what followed a pause() or a throwing listener in the same read. While any
   * are held the native side reads nothing more, so order holds across reads too.
   */
  held: unknown[] | null = null;
  /** The slot of `held` delivered next. */
  heldNext = 0;
  /** The callbacks of sends still queued, run at the next 'drain' (or with an error at 'close'). */
  drainCallbacks: SendCallback[] | null = null;
  /** Sends (and a close) waiting behind a Blob being read, in call order; null when none waits. */
  queue: (() => void | Promise<void>)[] | null = null;
  /** Messages dropped by send() because maxBufferedBytes was reached. */
  dropped = 0;
  /** The native count of skipped publishes, kept once the connection is released. */
  skippedPublishes = 0;
}
