// The perMessageDeflate option in the `ws` shape, checked once when a server or client is made.
// Window bits: the side that compresses with our zlib needs 9..15 (zlib cannot make a raw deflate
// stream with a 256-byte window); the side we only inflate may be limited to 8..15.
import { WebSocketRangeError, WebSocketTypeError } from '../errors.ts';

export type Role = 'server' | 'client';

export interface ZlibDeflateOptions {
  /** zlib compression level, -1 (zlib's default, 6) to 9. Default -1. */
  level?: number;
  /** zlib memLevel, 1 to 9: memory of the compressor's hash tables and pending output. Default 8. */
  memLevel?: number;
  /** zlib strategy, 0 (Z_DEFAULT_STRATEGY) to 4 (Z_FIXED). Default 0. */
  strategy?: number;
  /** Accepted for `ws` compatibility and ignored: output goes straight into the socket's buffer. */
  chunkSize?: number;
}

export interface ZlibInflateOptions {
  /** Accepted for `ws` compatibility and ignored. */
  chunkSize?: number;
}

export interface PerMessageDeflateOptions {
  /** true: the server resets its compressor after each message; false: offers asking for it are declined. */
  serverNoContextTakeover?: boolean;
  /** true: the client resets its compressor after each message (asked by a server, offered by a client). */
  clientNoContextTakeover?: boolean;
  /** The server's window: 9..15 on a server (its own), 8..15 on a client (a limit it asks for); false: none. */
  serverMaxWindowBits?: number | boolean;
  /** The client's window: 8..15 on a server (a limit it asks for), 9..15 on a client (its own); false: none. */
  clientMaxWindowBits?: number | boolean;
  /** Messages shorter than this many bytes are sent uncompressed. Default 1024. */
  threshold?: number;
  zlibDeflateOptions?: ZlibDeflateOptions;
  zlibInflateOptions?: ZlibInflateOptions;
  /** Most compression jobs at once (`ws`: zlib's thread pool). Default 10. */
  concurrencyLimit?: number;
}

/** The checked options. `undefined` for a takeover or window option: follow the peer's offer. */
export interface DeflateOptions {
  serverNoContextTakeover: boolean | undefined;
  clientNoContextTakeover: boolean | undefined;
  serverMaxWindowBits: number | boolean | undefined;
  clientMaxWindowBits: number | boolean | undefined;
  threshold: number;
  level: number;
  memLevel: number;
  strategy: number;
  concurrencyLimit: number;
}

const CODE = 'WS_ERR_INVALID_DEFLATE_OPTION';
const TOP_LEVEL_KEYS = new Set([
  'serverNoContextTakeover',
  'clientNoContextTakeover',
  'serverMaxWindowBits',
  'clientMaxWindowBits',
  'threshold',
  'zlibDeflateOptions',
  'zlibInflateOptions',
  'concurrencyLimit',
]);
const DEFLATE_KEYS = new Set(['level', 'memLevel', 'strategy', 'chunkSize']);
const INFLATE_KEYS = new Set(['chunkSize']);

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

function plainObject(value: unknown, name: string, keys: Set<string>): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new WebSocketTypeError(`${name} must be an object, got ${describe(value)}`, CODE);
  }
  for (const key of Object.keys(value)) {
    if (!keys.has(key)) {
      throw new WebSocketTypeError(`${name}.${key} is not an option; known: ${[...keys].join(', ')}`, CODE);
    }
  }
  return value as Record<string, unknown>;
}

function optionalBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw new WebSocketTypeError(`perMessageDeflate.${name} must be a boolean, got ${describe(value)}`, CODE);
}

function integer(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new WebSocketTypeError(`${name} must be an integer, got ${describe(value)}`, CODE);
  }
  if (value < min || value > max) {
    throw new WebSocketRangeError(`${name} must be from ${min} to ${max}, got ${value}`, CODE);
  }
  return value;
}

function windowBits(value: unknown, name: string, min: 8 | 9): number | boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  const why = min === 9 ? ' (this side compresses, and zlib cannot use an 8-bit window)' : '';
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 15) {
    const error = typeof value === 'number' ? WebSocketRangeError : WebSocketTypeError;
    throw new error(
      `perMessageDeflate.${name} must be true, false or an integer from ${min} to 15${why}, got ${describe(value)}`,
      CODE,
    );
  }
  return value;
}

/**
 * Checks `perMessageDeflate` for a server or a client: false or absent gives null (no compression),
 * true the defaults, an object its checked values. Unknown keys are refused, so a misspelt option
 * does not pass silently.
 */
export function resolveDeflateOptions(value: unknown, role: Role): DeflateOptions | null {
  if (value === undefined || value === false) return null;
  const options = value === true ? {} : plainObject(value, 'perMessageDeflate', TOP_LEVEL_KEYS);
  const zlib =
    options.zlibDeflateOptions === undefined
      ? {}
      : plainObject(options.zlibDeflateOptions, 'perMessageDeflate.zlibDeflateOptions', DEFLATE_KEYS);
  if (options.zlibInflateOptions !== undefined) {
    plainObject(options.zlibInflateOptions, 'perMessageDeflate.zlibInflateOptions', INFLATE_KEYS);
    const inflate = options.zlibInflateOptions as Record<string, unknown>;
    integer(inflate.chunkSize, 'perMessageDeflate.zlibInflateOptions.chunkSize', 0, 64, 2 ** 31 - 1);
  }
  integer(zlib.chunkSize, 'perMessageDeflate.zlibDeflateOptions.chunkSize', 0, 64, 2 ** 31 - 1);
  return {
    serverNoContextTakeover: optionalBoolean(options.serverNoContextTakeover, 'serverNoContextTakeover'),
    clientNoContextTakeover: optionalBoolean(options.clientNoContextTakeover, 'clientNoContextTakeover'),
    serverMaxWindowBits: windowBits(
      options.serverMaxWindowBits,
      'serverMaxWindowBits',
      role === 'server' ? 9 : 8,
    ),
    clientMaxWindowBits: windowBits(
      options.clientMaxWindowBits,
      'clientMaxWindowBits',
      role === 'client' ? 9 : 8,
    ),
    threshold: integer(options.threshold, 'perMessageDeflate.threshold', 1024, 0, Number.MAX_SAFE_INTEGER),
    level: integer(zlib.level, 'perMessageDeflate.zlibDeflateOptions.level', -1, -1, 9),
    memLevel: integer(zlib.memLevel, 'perMessageDeflate.zlibDeflateOptions.memLevel', 8, 1, 9),
    strategy: integer(zlib.strategy, 'perMessageDeflate.zlibDeflateOptions.strategy', 0, 0, 4),
    concurrencyLimit: integer(
      options.concurrencyLimit,
      'perMessageDeflate.concurrencyLimit',
      10,
      1,
      2 ** 31 - 1,
    ),
  };
}
