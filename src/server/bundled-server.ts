// The bundled server (`bufferevent serve`): login, chat rooms and the live log tail, assembled from
// the Channels layer. One port for pages and WebSockets; sessions shared by both (one
// SessionMiddleware); WebSockets only from allowed origins and only for logged-in users.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CookieMiddleware } from '../channels/middleware/cookies.ts';
import { AuthMiddleware } from '../channels/middleware/auth.ts';
import { OriginValidator } from '../channels/middleware/origin.ts';
import { SessionMiddleware } from '../channels/middleware/session-middleware.ts';
import type { SessionStore } from '../channels/middleware/session-store.ts';
import type { ChannelLayer } from '../channels/layers/channel-layer.ts';
import { InMemoryChannelLayer } from '../channels/layers/in-memory.ts';
import { RedisChannelLayer } from '../channels/layers/redis.ts';
import { RedisSessionStore } from '../channels/middleware/session-store-redis.ts';
import {
  ProtocolTypeRouter,
  URLRouter,
  path as route,
  rePath,
  type RoutingApplication,
} from '../channels/routing.ts';
import { refuse } from '../channels/middleware/prepare.ts';
import { serve, type ChannelsServer } from '../channels/server/serve.ts';
import { TailEngine } from '../tail/index.ts';
import { chatConsumer } from './chat/chat-consumer.ts';
import { MemoryChatRooms, type ChatRooms } from './chat/chat-rooms.ts';
import { RedisChatRooms } from './chat/chat-rooms-redis.ts';
import { RateLimiter } from './chat/rate-limiter.ts';
import type { ServerConfig } from './config.ts';
import { EventLog } from './event-log.ts';
import { PageSessions } from './http/page-session.ts';
import { Pages, type LoginGate, type UserDirectory } from './http/pages.ts';
import { loadStaticFiles } from './http/static-files.ts';
import { LoginThrottle } from './login-throttle.ts';
import { RedisThrottleStore } from './throttle-store-redis.ts';
import { Metrics } from './metrics.ts';
import { endSessionSockets } from './session-group.ts';
import { tailConsumer } from './tail/tail-consumer.ts';
import { UsersFile } from './users-file.ts';

/** web/ of the package: two levels up from src/server (tests) and from dist/server (the build). */
export const WEB_DIRECTORY = path.resolve(__dirname, '../../web');

export interface BundledServerOptions {
  readonly config: ServerConfig;
  /** Signs session cookies (see resolveSecretKey). */
  readonly secretKey: string;
  readonly log?: EventLog;
  /** Default: the Redis layer when the config names Redis, else the in-memory layer (one process). */
  readonly channelLayer?: ChannelLayer;
  /** Default: sessions in Redis when the config names Redis, else in memory. */
  readonly sessionStore?: SessionStore;
  readonly users?: UserDirectory;
  readonly loginGate?: LoginGate;
  readonly webDirectory?: string;
  /** Listen with SO_REUSEPORT (each worker of `serve --workers N` does, on the same port). */
  readonly reusePort?: boolean;
}

export interface BundledServer {
  readonly server: ChannelsServer;
  readonly tail: TailEngine;
  readonly metrics: Metrics;
  readonly chatRooms: ChatRooms;
  /** http://host:port of the listener. */
  readonly url: string;
  /** Closes every WebSocket with 1001, stops following files, closes the layer it created. */
  close(): Promise<void>;
}

function ownOrigins(host: string, port: number): string[] {
  const hosts =
    host === '127.0.0.1' || host === '::1' || host === 'localhost'
      ? ['127.0.0.1', 'localhost', '[::1]']
      : [host.includes(':') ? `[${host}]` : host];
  return hosts.flatMap((name) => [`http://${name}:${port}`, `https://${name}:${port}`]);
}

export async function startBundledServer(options: BundledServerOptions): Promise<BundledServer> {
  const { config } = options;
  const log = options.log ?? new EventLog();
  const metrics = new Metrics();
  const webDirectory = options.webDirectory ?? WEB_DIRECTORY;
  const templates = {
    login: readFileSync(path.join(webDirectory, 'login.html'), 'utf8'),
    chat: readFileSync(path.join(webDirectory, 'chat.html'), 'utf8'),
    tail: readFileSync(path.join(webDirectory, 'tail.html'), 'utf8'),
  };
  const staticFiles = loadStaticFiles(path.join(webDirectory, 'static'));
  const limits = config.limits;
  const tail = new TailEngine(
    Object.fromEntries(
      Object.values(config.logs).map((entry) => [
        entry.id,
        {
          path: entry.path,
          title: entry.title,
          ...(entry.users === null ? {} : { users: [...entry.users] }),
        },
      ]),
    ),
    {
      backlogLines: limits.tailBacklogLines,
      backlogBytes: limits.tailBacklogBytes,
      maxLineBytes: limits.maxLineLength,
      viewerQueueLines: limits.viewerQueueLines,
    },
  );
  const users = options.users ?? new UsersFile(config.usersFile);
  // Keys of this server in a Redis shared with other applications start with 'bufferevent'.
  const redisLog = {
    info: (message: string) => log.event('redis', { message }),
    warn: (message: string) => log.event('redis', { message }, 'warn'),
  };
  const ownsLayer = options.channelLayer === undefined;
  const layer =
    options.channelLayer ??
    (config.redis === null
      ? new InMemoryChannelLayer()
      : new RedisChannelLayer({ url: config.redis, prefix: 'bufferevent', logger: redisLog }));
  const ownsSessionStore = options.sessionStore === undefined && config.redis !== null;
  const sessionStore =
    options.sessionStore ??
    (config.redis === null
      ? undefined
      : new RedisSessionStore({ url: config.redis, prefix: 'bufferevent:session:', logger: redisLog }));
  // With Redis, history, presence and login throttling are shared by every worker (see
  // chat-rooms-redis.ts, throttle-store-redis.ts); a room losing a dead worker's users is told so
  // through its group, like a leave.
  const presenceChanged: { broadcast?: (room: string, users: string[]) => void } = {};
  const chatRooms: ChatRooms =
    config.redis === null
      ? new MemoryChatRooms({ historySize: limits.chatHistory, maxRooms: 10_000 })
      : new RedisChatRooms({
          url: config.redis,
          historySize: limits.chatHistory,
          logger: redisLog,
          onPresenceChange: (room, users) => presenceChanged.broadcast?.(room, users),
        });
  const throttleStore =
    options.loginGate !== undefined || config.redis === null
      ? undefined
      : new RedisThrottleStore({ url: config.redis, logger: redisLog });
  const rateLimiter = new RateLimiter({ perSecond: limits.chatMessagesPerSecond, burst: limits.chatBurst });

  const consumerDeps = { metrics, log };
  const websocketRoutes = new URLRouter([
    // Room names are checked by the route, so a bad one is a 404 like any unknown path.
    rePath(
      /^ws\/chat\/(?<room>[A-Za-z0-9_-]{1,64})\/$/,
      chatConsumer({
        ...consumerDeps,
        rooms: chatRooms,
        rateLimiter,
        maxMessageChars: limits.chatMessageChars,
      }),
    ),
    route('ws/tail/', tailConsumer({ ...consumerDeps, engine: tail })),
  ]);
  const sessions = new SessionMiddleware(
    new AuthMiddleware(websocketRoutes, {
      getUser: async (name: string) => {
        const user = await users.get(name).catch(() => undefined);
        return user === undefined
          ? null
          : { username: user.name, isAuthenticated: true as const, isAdmin: user.admin };
      },
      onError: (error) => log.event('auth.error', { error }, 'error'),
    }),
    {
      secret: options.secretKey,
      maxAge: config.sessionMaxAge,
      ...(sessionStore === undefined ? {} : { store: sessionStore }),
    },
  );
  const pages = new Pages({
    sessions: new PageSessions(sessions),
    users,
    loginGate: options.loginGate ?? LoginThrottle.fromLimits(limits, throttleStore),
    templates,
    staticFiles,
    metrics,
    log,
    trustProxy: config.trustProxy,
    logsFor: (username) => tail.logs(username),
    activeRooms: () => chatRooms.activeRooms(),
    onSignOut: (sessionId) => endSessionSockets(layer, sessionId),
    chatMessageChars: limits.chatMessageChars,
  });

  // Counters first: a request may arrive as soon as the listener is up.
  metrics.counter('bufferevent_logins_total', 'Successful logins.');
  metrics.counter('bufferevent_login_failures_total', 'Failed logins (wrong username or password).');
  metrics.counter('bufferevent_login_throttled_total', 'Login attempts refused by throttling.');
  metrics.counter('bufferevent_chat_joins_total', 'Chat room joins.');
  metrics.counter('bufferevent_chat_messages_total', 'Chat messages posted.');
  metrics.counter('bufferevent_chat_rate_limited_total', 'Chat messages refused by the per-user rate limit.');
  metrics.counter('bufferevent_tail_starts_total', 'Log tail starts.');

  // The server's own origin includes the port, known only once listening (port 0 picks one).
  const origins: { check?: OriginValidator } = {};
  const websocket: RoutingApplication = {
    resolve: (scope) =>
      origins.check === undefined
        ? refuse(scope, 503, 'the server is starting')
        : origins.check.resolve(scope),
  };
  const application = new ProtocolTypeRouter({ websocket, http: pages.handle });
  const releaseRedis = async () => {
    if (chatRooms instanceof RedisChatRooms) await chatRooms.close();
    await throttleStore?.close();
  };
  const server = await serve(application, {
    host: config.host,
    port: config.port,
    channelLayer: layer,
    logger: log,
    maxPayload: limits.maxMessageBytes,
    maxConnections: limits.maxConnections,
    // Without context takeover either way, compression costs no zlib memory per connection:
    // contexts are borrowed from a pool for one message at a time. Chat messages stay under the
    // threshold; tail backlogs and bursts of lines are what it is for.
    perMessageDeflate: config.compression
      ? { serverNoContextTakeover: true, clientNoContextTakeover: true }
      : false,
    reusePort: options.reusePort ?? false,
  }).catch(async (error: unknown) => {
    // Nothing may keep the process alive after a failed start (Redis clients reconnect forever).
    tail.close();
    await releaseRedis();
    if (ownsLayer) await layer.close();
    if (ownsSessionStore) await (sessionStore as RedisSessionStore).close();
    throw error;
  });
  presenceChanged.broadcast = (room, users) => {
    void layer
      .groupBroadcast(`chat.${room}`, JSON.stringify({ type: 'presence', room, users }))
      .catch((error: unknown) => log.event('chat.presence_failed', { room, error }, 'warn'));
  };
  const running = server;
  origins.check = new OriginValidator(new CookieMiddleware(sessions), [
    ...ownOrigins(config.host, running.port),
    ...config.allowedOrigins,
  ]);
  metrics.gauge('bufferevent_consumers', 'WebSocket consumers running.', () => running.stats().consumers);
  metrics.gauge(
    'bufferevent_refused_handshakes_total',
    'WebSocket handshakes refused.',
    () => running.stats().refusedHandshakes,
  );
  metrics.gauge('bufferevent_tail_followers', 'Log files being followed.', () => tail.stats().followers);
  if (layer instanceof RedisChannelLayer) {
    metrics.gauge(
      'bufferevent_layer_reconnects_total',
      'Reconnections of the channel layer to Redis.',
      () => {
        const stats = layer.stats();
        return stats.reconnects + stats.pubsubReconnects;
      },
    );
    metrics.gauge('bufferevent_layer_available', '1 while the channel layer reaches Redis.', () =>
      layer.stats().available ? 1 : 0,
    );
  }
  metrics.gauge('bufferevent_tail_viewers', 'Log viewers.', () => tail.stats().viewers);
  metrics.gauge(
    'bufferevent_tail_skipped_lines_total',
    'Log lines dropped for slow viewers.',
    () => tail.stats().skippedLines,
  );
  metrics.gauge(
    'bufferevent_chat_rooms',
    'Chat rooms with state in this process.',
    () => chatRooms.roomCount,
  );

  const address = running.address();
  const url = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
  log.event('server.listening', { url });
  let closing: Promise<void> | undefined;
  return {
    server: running,
    tail,
    metrics,
    chatRooms,
    url,
    close: () =>
      (closing ??= (async () => {
        await running.close();
        tail.close();
        if (ownsLayer) await layer.close();
        if (ownsSessionStore) await (sessionStore as RedisSessionStore).close();
        await releaseRedis();
        log.event('server.stopped', {});
      })()),
  };
}
