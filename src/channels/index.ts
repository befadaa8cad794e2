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
