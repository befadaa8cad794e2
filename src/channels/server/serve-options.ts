// serve()'s options, their defaults and checks.
import { BuffereventError } from '../../errors.ts';
import { resolveLimits, type ConnectionLimits } from '../../websocket/options.ts';
import { resolveDeflateOptions, type PerMessageDeflateOptions } from '../../websocket/deflate/options.ts';
import { requireInteger } from '../../validate.ts';
import type { ChannelLayer } from '../layers/channel-layer.ts';
import { stderrLogger, type ChannelsLogger } from '../logger.ts';

export interface ServeOptions extends ConnectionLimits {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 8000; 0 picks a free port (see server.port). */
  port?: number;
  backlog?: number;
  /**
   * Listen with SO_REUSEPORT, so several processes (workers) can listen on the same host:port and
   * the kernel spreads new connections among them. Default false.
   */
  reusePort?: boolean;
  /**
   * The channel layer consumers use; default a new InMemoryChannelLayer that close() closes.
   * `null` runs consumers without one (no channelName, no groups).
   */
  channelLayer?: ChannelLayer | null;
  /** Messages (and layer messages) that may wait for one consumer's handlers; more closes with 1008. Default 64. */
  inboxSize?: number;
  /**
   * Connections at once, WebSockets (from the handshake on) and page connections together; a
   * WebSocket handshake beyond it is answered 503, a page connection beyond it is closed. Default:
   * no limit.
   */
  maxConnections?: number;
  /** How long close() waits for consumers' disconnect handlers. Default 10 s. */
  shutdownTimeout?: number;
  /** ASGI's root_path: the prefix routing strips from paths. Default ''. */
  rootPath?: string;
  /** Where failures are reported; default one line each on stderr. */
  logger?: ChannelsLogger;
  /** permessage-deflate for the WebSockets, as WebSocketServer takes it. Default false. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

export interface ResolvedServeOptions {
  host: string;
  port: number;
  backlog?: number;
  reusePort: boolean;
  inboxSize: number;
  shutdownTimeout: number;
  maxConnections: number;
  rootPath: string;
  logger: ChannelsLogger;
  limits: ConnectionLimits;
  perMessageDeflate: boolean | PerMessageDeflateOptions;
}

/** serve()'s default largest message: an application server has no use for ws's 100 MiB. */
export const SERVE_DEFAULT_MAX_PAYLOAD = 1024 * 1024;

export function resolveServeOptions(options: ServeOptions): ResolvedServeOptions {
  if (typeof options !== 'object' || options === null)
    throw new BuffereventError('serve(): options must be an object', 'ERR_INVALID_ARG');
  const logger = options.logger ?? stderrLogger;
  for (const level of ['info', 'warn', 'error'] as const) {
    if (typeof logger[level] !== 'function')
      throw new BuffereventError(`serve(): logger.${level} must be a function`, 'ERR_INVALID_ARG');
  }
  if (options.host !== undefined && typeof options.host !== 'string')
    throw new BuffereventError('serve(): host must be a string', 'ERR_INVALID_ARG');
  if (options.reusePort !== undefined && typeof options.reusePort !== 'boolean')
    throw new BuffereventError('serve(): reusePort must be a boolean', 'ERR_INVALID_ARG');
  if (options.rootPath !== undefined && typeof options.rootPath !== 'string')
    throw new BuffereventError('serve(): rootPath must be a string', 'ERR_INVALID_ARG');
  const limits: ConnectionLimits = {
    maxPayload: options.maxPayload ?? SERVE_DEFAULT_MAX_PAYLOAD,
    closeTimeout: options.closeTimeout ?? 5_000,
  };
  for (const key of [
    'maxFragments',
    'maxBufferedBytes',
    'backpressureBytes',
    'handshakeTimeout',
    'maxHeaderSize',
  ] as const) {
    if (options[key] !== undefined) limits[key] = options[key];
  }
  resolveLimits(limits); // checks them now, not at the first connection
  resolveDeflateOptions(options.perMessageDeflate, 'server'); // the same: throws now
  return {
    host: options.host ?? '127.0.0.1',
    port: requireInteger(options.port ?? 8000, 'port', 0, 65535),
    ...(options.backlog === undefined ? {} : { backlog: options.backlog }),
    reusePort: options.reusePort ?? false,
    inboxSize: requireInteger(options.inboxSize ?? 64, 'inboxSize', 1, 1_000_000),
    shutdownTimeout: requireInteger(options.shutdownTimeout ?? 10_000, 'shutdownTimeout', 1, 2 ** 31 - 1),
    maxConnections:
      options.maxConnections === undefined
        ? Number.POSITIVE_INFINITY
        : requireInteger(options.maxConnections, 'maxConnections', 1, 2 ** 31 - 1),
    rootPath: options.rootPath ?? '',
    logger,
    limits,
    perMessageDeflate: options.perMessageDeflate ?? false,
  };
}
