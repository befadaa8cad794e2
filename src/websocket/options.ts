// Limits shared by the server and the client, with their defaults and checks.
import { requireInteger } from '../validate.ts';

export interface ConnectionLimits {
  /** Largest message in bytes; larger closes with 1009. Default 100 MiB. */
  maxPayload?: number;
  /**
   * Most frames per message; more closes with 1009. Default 0: no limit (a fragment costs the
   * assembler no memory beyond its payload, which maxPayload bounds).
   */
  maxFragments?: number;
  /** Most bytes queued for sending; a send beyond it is dropped. Default 64 MiB. */
  maxBufferedBytes?: number;
  /** Queued bytes from which send() answers 'backpressure'. Default 1 MiB. */
  backpressureBytes?: number;
  /**
   * After the first close frame (or a protocol error), how long the close handshake and the
   * lingering close may take before TCP is dropped. Milliseconds, 1 to 2^31-1. Default 30 s.
   */
  closeTimeout?: number;
  /** The opening handshake must finish within it. Milliseconds, 1 to 2^31-1. Default 10 s. */
  handshakeTimeout?: number;
  /** Bytes of HTTP head accepted. Default 16 KiB. */
  maxHeaderSize?: number;
}

export type ResolvedLimits = Required<ConnectionLimits>;

/**
 * What a socket takes from whoever made it, shared by all the sockets of one server: the limits,
 * and the server's pub/sub topic scope (0 for a client, which cannot subscribe).
 */
export interface SocketSettings extends ResolvedLimits {
  readonly topicScope: number;
  /**
   * The server's `clients` (with clientTracking): a socket leaves it just before its 'close', as
   * ws's listener would take it out, with no listener on each socket.
   */
  readonly clients?: Set<object>;
}

const MAX_BYTES = 2 ** 53 - 1;
/** The longest delay setTimeout holds; a larger one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function resolveLimits(options: ConnectionLimits): ResolvedLimits {
  return {
    maxPayload: requireInteger(options.maxPayload ?? 100 * 1024 * 1024, 'maxPayload', 0, MAX_BYTES),
    maxFragments: requireInteger(options.maxFragments ?? 0, 'maxFragments', 0, 2 ** 32 - 1),
    maxBufferedBytes: requireInteger(
      options.maxBufferedBytes ?? 64 * 1024 * 1024,
      'maxBufferedBytes',
      0,
      MAX_BYTES,
    ),
    backpressureBytes: requireInteger(
      options.backpressureBytes ?? 1024 * 1024,
      'backpressureBytes',
      0,
      MAX_BYTES,
    ),
    closeTimeout: requireInteger(options.closeTimeout ?? 30_000, 'closeTimeout', 1, MAX_TIMER_MS),
    handshakeTimeout: requireInteger(options.handshakeTimeout ?? 10_000, 'handshakeTimeout', 1, MAX_TIMER_MS),
    maxHeaderSize: requireInteger(options.maxHeaderSize ?? 16 * 1024, 'maxHeaderSize', 256, 1024 * 1024),
  };
}

/** Socket options of every WebSocket connection: the binding's larger reads and write-through. */
export const SOCKET_FAST_PATHS = { maxReadPerWakeup: 64 * 1024, writeThrough: true } as const;
