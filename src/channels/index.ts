// bufferevent/channels: Django Channels' concepts for Node (see docs/channels.md).
export {
  DEFAULT_CAPACITY,
  DEFAULT_EXPIRY_SECONDS,
  DEFAULT_GROUP_EXPIRY_SECONDS,
  MAX_NAME_LENGTH,
  validateChannelName,
  validateGroupName,
  validateMessage,
} from './layers/channel-layer.ts';
export type {
  ChannelLayer,
  ChannelLayerOptions,
  ChannelMessage,
  GroupSendResult,
  JsonValue,
  ReceiveOptions,
} from './layers/channel-layer.ts';
export { InMemoryChannelLayer } from './layers/in-memory.ts';
export type { InMemoryChannelLayerOptions, InMemoryChannelLayerStats } from './layers/in-memory.ts';
export { DEFAULT_MAX_MESSAGE_BYTES, RedisChannelLayer } from './layers/redis.ts';
export type { RedisChannelLayerOptions, RedisChannelLayerStats } from './layers/redis.ts';
export type { RedisConnectionOptions, RedisLayerLogger } from './layers/redis-connection.ts';
export { ChannelFull, ChannelLayerError, ChannelLayerRangeError, ChannelLayerTypeError } from './errors.ts';
export {
  PROTOCOL_TYPES,
  ProtocolTypeRouter,
  URLRouter,
  assertApplication,
  decodePath,
  path,
  rePath,
  resolveApplication,
  resolveWebSocket,
  supportsProtocol,
} from './routing.ts';
export type {
  Application,
  Resolved,
  Route,
  RouteOptions,
  RoutingApplication,
  Scope,
  UrlRoute,
} from './routing.ts';
export {
  PREPARE_STEPS,
  prepareScope,
  refusalOf,
  refuseConnection,
  withPrepareStep,
} from './middleware/prepare.ts';
export type { PrepareStep, Refusal } from './middleware/prepare.ts';
export { headerValues } from './middleware/headers.ts';
export type { HeaderPair } from './middleware/headers.ts';
export {
  AllowedHostsOriginValidator,
  OriginValidator,
  isSameDomain,
  parseOrigin,
} from './middleware/origin.ts';
export type { OriginValidatorOptions, ParsedOrigin } from './middleware/origin.ts';
export { CookieMiddleware, parseCookies } from './middleware/cookies.ts';
export { MemorySessionStore } from './middleware/session-store.ts';
export { RedisSessionStore } from './middleware/session-store-redis.ts';
export type { RedisSessionStoreOptions } from './middleware/session-store-redis.ts';
export type { MemorySessionStoreOptions, SessionData, SessionStore } from './middleware/session-store.ts';
export { Session } from './middleware/session.ts';
export {
  DEFAULT_SESSION_MAX_AGE_SECONDS,
  SessionMiddleware,
  SessionMiddlewareStack,
} from './middleware/session-middleware.ts';
export type { SessionMiddlewareOptions } from './middleware/session-middleware.ts';
export {
  ANONYMOUS_USER,
  AuthMiddleware,
  AuthMiddlewareStack,
  SESSION_USER_ID_KEY,
  login,
  logout,
} from './middleware/auth.ts';
export type { AnonymousUser, AuthMiddlewareOptions } from './middleware/auth.ts';
export { WebsocketConsumer, isConsumerClass } from './consumer/websocket-consumer.ts';
export type { ConsumerSendData } from './consumer/websocket-consumer.ts';
export { ClientProtocolError, JsonWebsocketConsumer } from './consumer/json-consumer.ts';
export { handlerNamesOf } from './consumer/handler-names.ts';
export { ChannelsServer, serve } from './server/serve.ts';
export type { ChannelsServerStats, ServeOptions } from './server/serve.ts';
export { SERVE_DEFAULT_MAX_PAYLOAD } from './server/serve-options.ts';
export { stderrLogger } from './logger.ts';
export type { ChannelsLogger, LogDetails } from './logger.ts';
export { WebsocketCommunicator } from './testing/communicator.ts';
export type { CommunicatorOptions, CommunicatorOutput, ConnectResult } from './testing/communicator.ts';
export { LocalGroupSockets, topicOfGroup } from './layers/group-sockets.ts';
export type {
  BroadcastData,
  BroadcastOptions,
  BroadcastTarget,
  GroupSocket,
} from './layers/group-sockets.ts';
export { MAX_BROADCAST_BYTES, validateBroadcastData } from './layers/channel-layer.ts';
export type { BroadcastResult } from './layers/channel-layer.ts';
