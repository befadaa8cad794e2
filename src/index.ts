// Public entry point of the binding: libevent's bufferevents, evbuffers, listeners and events.
export { EventBase, type EventBaseStats, type DnsOptions } from './event-base.ts';
export {
  Bufferevent,
  type BuffereventCallbacks,
  type EventCallback,
  type ReadCallback,
  type WriteCallback,
} from './bufferevent.ts';
export type {
  BuffereventKind,
  ConnectHostnameOptions,
  ConnectTarget,
  LocalEndpoint,
  FilterOptions,
  SocketOptions,
  Timeouts,
  Watermark,
} from './bufferevent-types.ts';
export { BuffereventStream, type BuffereventStreamOptions } from './bufferevent-stream.ts';
export { EvBuffer } from './evbuffer.ts';
export {
  filters,
  type Filter,
  type FilterFunction,
  type FilterResult,
  type FlushMode,
  type NativeFilterDescriptor,
  type ZlibFilterOptions,
} from './filters.ts';
export { RateLimitGroup, type RateLimit } from './rate-limit.ts';
export { Listener, type AcceptCallback, type ListenOptions, type SocketAddress } from './listener.ts';
export { Event, type EventCallbackFn } from './event.ts';
export { Inotify, IN, type InotifyEvent } from './inotify.ts';
export { socketpair } from './socketpair.ts';
export { BuffereventError } from './errors.ts';
export { EV, BEV, EOL, type EolStyle } from './constants.ts';
