// The only place the compiled addon is loaded. The declarations describe the native classes exactly;
// the public classes in the other files validate arguments before calling them.
import { createRequire } from 'node:module';
import type { NativeDeflateSettings } from './websocket/deflate/agreement.ts';
import path from 'node:path';
import { BuffereventError } from './errors.ts';

export interface NativeStats {
  passes: number;
  wakeups: number;
  callbacks: number;
  budgetBreaks: number;
  writeThroughs: number;
  liveBufferevents: number;
  liveListeners: number;
  liveEvents: number;
  liveEvBuffers: number;
  liveWebSockets: number;
  liveRateLimitGroups: number;
  addedEvents: number;
  activeEvents: number;
  cachedChainBytes: number;
}

export declare class NativeEvBuffer {
  constructor();
  readonly length: number;
  add(data: Buffer): void;
  addBuffer(source: NativeEvBuffer): void;
  prepend(data: Buffer): void;
  remove(count?: number): Buffer;
  drain(count?: number): number;
  copyOut(count?: number): Buffer;
  pullup(count?: number): Buffer;
  search(needle: Buffer, start: number): number;
  readLine(style: number): Buffer | null;
  addFile(fd: number, offset: number, length: number): void;
  writeTo(fd: number, most?: number): number;
  readFrom(fd: number, most?: number): number;
  free(): void;
}

export interface NativeSocketOptions {
  fd: number;
  closeOnFree: boolean;
  deferCallbacks: boolean;
  maxReadPerWakeup: number;
  writeThrough: boolean;
}

export interface NativeFilterOptions {
  underlying: NativeBufferevent;
  closeOnFree: boolean;
  input: 'js' | { native: string; options: Readonly<Record<string, number>> } | undefined;
  output: 'js' | { native: string; options: Readonly<Record<string, number>> } | undefined;
}

export interface NativeRateLimit {
  readRate?: number;
  readBurst?: number;
  writeRate?: number;
  writeBurst?: number;
  tickMs: number;
}

export declare class NativeBufferevent {
  constructor(owner: object, kind: 'socket', options: NativeSocketOptions);
  constructor(owner: object, kind: 'pair', options: { partnerOf?: NativeBufferevent });
  constructor(owner: object, kind: 'filter', options: NativeFilterOptions);
  setCallbackMask(mask: number): void;
  keepAlive(keep: boolean): void;
  enable(events: number): void;
  disable(events: number): void;
  enabled(): number;
  setWatermark(events: number, low: number, high: number): void;
  getWatermark(events: number): { low: number; high: number };
  setTimeouts(readMs: number | null, writeMs: number | null): void;
  write(data: Buffer): void;
  writeBuffer(source: NativeEvBuffer): void;
  read(count?: number): Buffer;
  input(): NativeEvBuffer;
  output(): NativeEvBuffer;
  flush(events: number, mode: number): number;
  getPriority(): number;
  setPriority(priority: number): void;
  fd(): number;
  trigger(events: number, ignoreWatermarks: boolean): void;
  triggerEvent(events: number): void;
  free(): void;
  connect(family: 0 | 4 | 6, address: string, port: number, localAddress?: string, localPort?: number): void;
  connectHostname(
    host: string,
    port: number,
    family: 0 | 4 | 6,
    localAddress?: string,
    localPort?: number,
  ): void;
  shutdownWrite(): void;
  filterBuffers(side: 0 | 1): [NativeEvBuffer, NativeEvBuffer];
  setRateLimit(limit: NativeRateLimit | null): void;
  getReadLimit(): number;
  getWriteLimit(): number;
  decrementReadLimit(bytes: number): void;
  decrementWriteLimit(bytes: number): void;
}

export declare class NativeRateLimitGroup {
  constructor(owner: object, limit: NativeRateLimit);
  add(member: NativeBufferevent): void;
  remove(member: NativeBufferevent): void;
  setRate(limit: NativeRateLimit): void;
  totals(): { read: number; written: number; members: number };
  resetTotals(): void;
  free(): void;
}

export interface NativeListenOptions {
  family: 4 | 6;
  address: string;
  port: number;
  backlog: number;
  reusePort: boolean;
}

export declare class NativeListener {
  constructor(owner: object, options: NativeListenOptions);
  address(): { address: string; port: number; family: 'IPv4' | 'IPv6' };
  enable(): void;
  disable(): void;
  fd(): number;
  close(): void;
}

export declare class NativeEvent {
  constructor(owner: object, fd: number, what: number);
  add(timeoutMs?: number): void;
  del(): void;
  activate(what: number): void;
  pending(what: number): boolean;
  setPriority(priority: number): void;
  getPriority(): number;
  free(): void;
}

export declare class NativeInotify {
  constructor();
  fd(): number;
  addWatch(path: string, mask: number): number;
  removeWatch(wd: number): void;
  /** Flat records: wd, mask, cookie, name, wd, mask, ... */
  readEvents(): Array<number | string>;
  close(): void;
}

export type BuffereventDispatch = (
  owner: object,
  which: number,
  events: number,
  errno: number,
  code: string | undefined,
  message: string | undefined,
) => void;
export type ListenerDispatch = (
  owner: object,
  which: number,
  value: number,
  address?: string | number,
  port?: number,
  family?: number,
) => void;
export type EventDispatch = (owner: object, fd: number, what: number) => void;
export type FilterDispatch = (owner: object, side: 0 | 1, limit: number, mode: 0 | 1 | 2) => string;

/** See native/ws/connection.h: one call per message, control frame or socket event. */
/** Called with the connection's id (see ConnectionId). */
export type WebSocketDispatch = (
  connection: ConnectionId,
  event: number,
  a?: unknown,
  b?: unknown,
  c?: unknown,
) => void;

export interface NativeWebSocketOptions {
  client: boolean;
  maxPayload: number;
  maxFragments: number;
  /** permessage-deflate's codec settings, when it was agreed. */
  deflate?: NativeDeflateSettings | undefined;
}

/**
 * A WebSocket connection's id: JavaScript knows a native connection by this number only (a small
 * integer kept in its WebSocket), and passes it first to every function of
 * `native.WebSocketConnection`. An id of a closed connection finds nothing (ERR_FREED).
 */
export type ConnectionId = number;

export interface NativeWebSocketConnections {
  /**
   * Takes the socket bufferevent over (its object no longer owns it) and starts the connection;
   * `socket` (the WebSocket) is the async resource its events run in, and what the dispatcher is
   * told about it is its id.
   */
  open(bufferevent: NativeBufferevent, options: NativeWebSocketOptions, socket: object): ConnectionId;
  /**
   * Frames and queues; returns the bytes queued afterwards, or -1 (nothing queued) when the bytes
   * queued plus the message would exceed `limit` (-1: no limit). `frame` is the opcode with 0x80
   * for the last frame of a message and 0x40 to compress it, as the header's first byte has them.
   */
  send(id: ConnectionId, data: Buffer, frame: number, limit: number): number;
  bufferedAmount(id: ConnectionId): number;
  /** Starts holding frames; false when they are held already (a batch, another cork). */
  cork(id: ConnectionId): boolean;
  uncork(id: ConnectionId): void;
  pause(id: ConnectionId): void;
  resume(id: ConnectionId): void;
  notifyDrain(id: ConnectionId): void;
  shutdownWrite(id: ConnectionId): void;
  /** Releases the connection: its id finds nothing from now on. */
  close(id: ConnectionId): void;
  /**
   * Pub/sub (native/ws/topics.h): true when the subscription changed. Publishes are skipped while
   * more than `backpressureBytes` is queued.
   */
  subscribe(id: ConnectionId, scope: number, topic: string, backpressureBytes: number): boolean;
  unsubscribe(id: ConnectionId, topic: string): boolean;
  isSubscribed(id: ConnectionId, topic: string): boolean;
  topics(id: ConnectionId): string[];
  skippedPublishes(id: ConnectionId): number;
}

interface NativeModule {
  EvBuffer: typeof NativeEvBuffer;
  Bufferevent: typeof NativeBufferevent;
  Listener: typeof NativeListener;
  Event: typeof NativeEvent;
  Inotify: typeof NativeInotify;
  /** The IN_* values of <sys/inotify.h> (without the prefix), for tests. */
  inotifyConstants: Readonly<Record<string, number>>;
  RateLimitGroup: typeof NativeRateLimitGroup;
  libeventVersion: string;
  /** libevent's flag values from its headers (EV_*, BEV_EVENT_*, BEV_NORMAL…, EVBUFFER_EOL_*), for tests. */
  libeventConstants: Readonly<Record<string, number>>;
  /** True in the AddressSanitizer build (npm run test:asan), where freed memory sits in quarantine. */
  sanitizerBuild: boolean;
  setHooks(hooks: {
    errorClass?: typeof BuffereventError;
    bufferevent?: BuffereventDispatch;
    listener?: ListenerDispatch;
    event?: EventDispatch;
    filter?: FilterDispatch;
    websocket?: WebSocketDispatch;
  }): void;
  baseInfo(): { method: string; priorities: number; defaultPriority: number };
  baseStats(): NativeStats;
  configureDns(options: { servers?: string[]; timeoutMs?: number; attempts?: number }): void;
  socketpair(): [number, number];
  dupSocket(fd: number): number;
  /** Frames once and writes to every subscriber of the topic in the scope: [delivered, skipped]. */
  wsPublish(scope: number, topic: string, data: Buffer, binary: boolean, compress: boolean): [number, number];
  wsTopicCount(): number;
  /** Native WebSocket connections not yet deleted: the open ones, and those closed in a pass still running. */
  wsConnectionObjects(): number;
  /** The send slab (src/websocket/send-slab.ts): its bytes and its [used, queued] cells, the same each call. */
  wsSendSlab(): [Buffer, Uint32Array];
  /** glibc malloc's bytes in use and held free (memory tests and bench/ws-memory.mjs). */
  mallocStats(): { inUse: number; free: number };
  /** Starts a memory-reducing collection of this thread's V8 heap (src/websocket/burst-memory.ts). */
  reduceMemory(): void;
  /** Empties the freed-chain cache and malloc_trim()s (src/websocket/burst-memory.ts). */
  releaseFreeMemory(): void;
  /** permessage-deflate's zlib contexts on this thread; parks those idle for `parkIdleMs` first. */
  wsZlibContexts(parkIdleMs?: number): { held: number; idle: number; created: number; parked: number };
  /** The request head (latin1, without the blank line), or HEAD_INCOMPLETE / HEAD_TOO_LARGE. */
  wsReadRequestHead(bufferevent: NativeBufferevent, maxHeaderSize: number, drain: boolean): string | 0 | 1;
  /** base64(SHA-1(key + the RFC 6455 GUID)). */
  wsAcceptKey(key: string): string;
  WebSocketConnection: NativeWebSocketConnections;
}

const INSTALL_HINT =
  'The binding runs on Linux (epoll). Install libevent 2.1: `sudo apt-get install libevent-dev` (Debian/Ubuntu) ' +
  'or `sudo dnf install libevent-devel` (Fedora/RHEL), then `npm rebuild bufferevent`.';

function loadAddon(): NativeModule {
  // __dirname, not import.meta: the published build is CommonJS (one copy of the library whether it
  // is required or imported, see package.json), and vitest defines __dirname for these ESM sources.
  const here = __dirname;
  // BUFFEREVENT_ADDON_PATH selects another build of the same sources (the sanitizer build).
  const addonPath =
    process.env.BUFFEREVENT_ADDON_PATH ?? path.join(here, '..', 'build', 'Release', 'bufferevent.node');
  try {
    return createRequire(__filename)(addonPath) as NativeModule;
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    if (/libevent/.test(message)) {
      throw new BuffereventError(
        `libevent's shared library cannot be loaded (${message}). ${INSTALL_HINT}`,
        'ERR_LIBEVENT_MISSING',
      );
    }
    if ((cause as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      throw new BuffereventError(
        `the native addon is not built (${addonPath} is missing): run \`npm run build:native\`. ${INSTALL_HINT}`,
        'ERR_NOT_BUILT',
      );
    }
    throw cause;
  }
}

export const native: NativeModule = loadAddon();
native.setHooks({ errorClass: BuffereventError });
