// Bufferevent: libevent's bufferevent with its callbacks, watermarks, timeouts and event flags.
// Created by kind (Bufferevent.socket here; pair and filter in their own files).
import { isIP } from 'node:net';
import { native, type NativeBufferevent } from './native.ts';
import { BEV, EV } from './constants.ts';
import { BuffereventError, socketError } from './errors.ts';
import { EvBuffer, evbufferView } from './evbuffer.ts';
import { EventBase } from './event-base.ts';
import { BuffereventStream, type BuffereventStreamOptions } from './bufferevent-stream.ts';
import { isNativeFilter, type Filter, type FilterFunction, type FlushMode } from './filters.ts';
import { buffereventHandles, evbufferHandles } from './native-handles.ts';
import { checkRateLimit, type RateLimit } from './rate-limit-config.ts';
import {
  optionalBoolean,
  requireFd,
  requireFunction,
  requireHostname,
  requireInteger,
  requireIoEvents,
  requireLocalEndpoint,
  requireOptions,
  requirePort,
  requireTimeout,
  toBuffer,
  type BinaryLike,
} from './validate.ts';

import type {
  BuffereventKind,
  ConnectHostnameOptions,
  ConnectTarget,
  FilterOptions,
  SocketOptions,
  Timeouts,
  Watermark,
} from './bufferevent-types.ts';

export type ReadCallback = (bev: Bufferevent) => void;
export type WriteCallback = (bev: Bufferevent) => void;
/** `events` are libevent's flags (BEV.CONNECTED, BEV.EOF | BEV.READING, ...); `error` accompanies BEV.ERROR. */
export type EventCallback = (bev: Bufferevent, events: number, error?: BuffereventError) => void;

export interface BuffereventCallbacks {
  read?: ReadCallback | null;
  write?: WriteCallback | null;
  event?: EventCallback | null;
}

const enum Callback {
  Read = 0,
  Write = 1,
  Event = 2,
}

const MAX_WATERMARK = 2 ** 52;
/** The timeouts of a bufferevent that never had any set, shared: most never do. */
type SetTimeouts = Readonly<{ read: number | null; write: number | null }>;
const NO_TIMEOUTS: SetTimeouts = Object.freeze({ read: null, write: null });

export class Bufferevent {
  readonly kind: BuffereventKind;
  readonly #native: NativeBufferevent;
  #read: ReadCallback | null = null;
  #write: WriteCallback | null = null;
  #event: EventCallback | null = null;
  #input: EvBuffer | undefined;
  #output: EvBuffer | undefined;
  #freed = false;
  #finished = false; // EOF or ERROR was delivered
  /** Set once setTimeouts() was called; the shared NO_TIMEOUTS before. */
  #timeouts: SetTimeouts = NO_TIMEOUTS;
  #partner: Bufferevent | null = null;
  #underlying: Bufferevent | null = null;
  #closesUnderlying = false;
  /** A filter's functions and the evbuffer views they get, by side; null for the other kinds. */
  #filters: [FilterFunction | null, FilterFunction | null] | null = null;
  #filterBuffers: [[EvBuffer, EvBuffer] | undefined, [EvBuffer, EvBuffer] | undefined] | null = null;

  static {
    native.setHooks({
      bufferevent: (owner, which, events, errno, code, message) =>
        (owner as Bufferevent).#deliver(which, events, errno, code, message),
      filter: (owner, side, limit, mode) => (owner as Bufferevent).#runFilter(side, limit, mode),
    });
  }

  private constructor(kind: BuffereventKind, create: (owner: Bufferevent) => NativeBufferevent) {
    this.kind = kind;
    this.#native = create(this);
    buffereventHandles.register(this, this.#native);
  }

  /** A socket bufferevent (bufferevent_socket_new) on `fd`, or on no fd yet for connect(). */
  static socket(options?: SocketOptions): Bufferevent {
    const given = requireOptions<SocketOptions>(
      options,
      '{ fd?, closeOnFree?, deferCallbacks?, maxReadPerWakeup?, writeThrough? }',
    );
    const nativeOptions = {
      fd: given.fd === undefined ? -1 : requireFd(given.fd),
      closeOnFree: optionalBoolean(given.closeOnFree, 'closeOnFree', true),
      deferCallbacks: optionalBoolean(given.deferCallbacks, 'deferCallbacks', true),
      maxReadPerWakeup: requireInteger(given.maxReadPerWakeup ?? 0, 'maxReadPerWakeup', 0, 64 * 1024 * 1024),
      writeThrough: optionalBoolean(given.writeThrough, 'writeThrough', false),
    };
    return new Bufferevent('socket', (owner) => new native.Bufferevent(owner, 'socket', nativeOptions));
  }

  /**
   * Two bufferevents joined to each other (bufferevent_pair_new): what one writes the other reads.
   * Callbacks are always deferred. Freeing one half gives the other BEV.EOF | BEV.READING.
   */
  static pair(): [Bufferevent, Bufferevent] {
    const first = new Bufferevent('pair', (owner) => new native.Bufferevent(owner, 'pair', {}));
    const second = new Bufferevent(
      'pair',
      (owner) => new native.Bufferevent(owner, 'pair', { partnerOf: first.#native }),
    );
    first.#partner = second;
    second.#partner = first;
    return [first, second];
  }

  /**
   * A filtering bufferevent over `underlying` (bufferevent_filter_new): bytes read pass through the
   * input filter, bytes written through the output filter; an omitted side passes bytes through.
   * The filter owns the underlying bufferevent's callbacks from now on.
   */
  static filter(
    underlying: Bufferevent,
    sides: { input?: Filter; output?: Filter },
    options?: FilterOptions,
  ): Bufferevent {
    const underlyingNative = buffereventHandles.of(underlying, 'underlying');
    underlying.#check();
    if (typeof sides !== 'object' || sides === null) {
      throw new BuffereventError('sides must be an object { input?, output? }', 'ERR_INVALID_ARG');
    }
    const closeOnFree = optionalBoolean(
      requireOptions<FilterOptions>(options, '{ closeOnFree? }').closeOnFree,
      'closeOnFree',
      true,
    );
    const describe = (filter: Filter | undefined, name: string) => {
      if (filter === undefined) return undefined;
      if (typeof filter === 'function') return 'js' as const;
      if (isNativeFilter(filter)) return { native: filter.native, options: filter.options };
      throw new BuffereventError(
        `${name} must be a filter function or one of filters.*()`,
        'ERR_INVALID_FILTER',
      );
    };
    const nativeOptions = {
      underlying: underlyingNative,
      closeOnFree,
      input: describe(sides.input, 'input'),
      output: describe(sides.output, 'output'),
    };
    const filter = new Bufferevent(
      'filter',
      (owner) => new native.Bufferevent(owner, 'filter', nativeOptions),
    );
    filter.#underlying = underlying;
    filter.#closesUnderlying = nativeOptions.closeOnFree;
    filter.#filters = [
      typeof sides.input === 'function' ? sides.input : null,
      typeof sides.output === 'function' ? sides.output : null,
    ];
    return filter;
  }

  /** The other half of a pair, or null (not a pair). */
  get partner(): Bufferevent | null {
    return this.#partner;
  }

  /** The bufferevent a filter reads from and writes to, or null (not a filter). */
  get underlying(): Bufferevent | null {
    return this.#underlying;
  }

  /**
   * Limits this socket bufferevent's reading and writing (bufferevent_set_rate_limit); null removes
   * the limit. Pairs and filters throw ERR_RATE_LIMIT_UNSUPPORTED: limit the underlying socket.
   */
  setRateLimit(limit: RateLimit | null): this {
    this.#check();
    this.#native.setRateLimit(limit === null ? null : checkRateLimit(limit));
    return this;
  }

  /** Bytes the read bucket allows now (bufferevent_get_read_limit). */
  getReadLimit(): number {
    this.#check();
    return this.#native.getReadLimit();
  }

  getWriteLimit(): number {
    this.#check();
    return this.#native.getWriteLimit();
  }

  /** Takes bytes out of the read bucket (bufferevent_decrement_read_limit); needs setRateLimit. */
  decrementReadLimit(bytes: number): this {
    this.#check();
    this.#native.decrementReadLimit(requireInteger(bytes, 'bytes', -(2 ** 40), 2 ** 40));
    return this;
  }

  decrementWriteLimit(bytes: number): this {
    this.#check();
    this.#native.decrementWriteLimit(requireInteger(bytes, 'bytes', -(2 ** 40), 2 ** 40));
    return this;
  }

  /** True once free() was called. */
  get freed(): boolean {
    return this.#freed;
  }

  /** Replaces all three callbacks, like bufferevent_setcb: an omitted one is removed. */
  setCallbacks(callbacks: BuffereventCallbacks): this {
    this.#check();
    if (typeof callbacks !== 'object' || callbacks === null) {
      throw new BuffereventError('callbacks must be an object { read?, write?, event? }', 'ERR_INVALID_ARG');
    }
    const read = callbacks.read == null ? null : requireFunction<ReadCallback>(callbacks.read, 'read');
    const write = callbacks.write == null ? null : requireFunction<WriteCallback>(callbacks.write, 'write');
    const event = callbacks.event == null ? null : requireFunction<EventCallback>(callbacks.event, 'event');
    this.#native.setCallbackMask((read ? 1 : 0) | (write ? 2 : 0) | (event ? 4 : 0)); // may refuse: ERR_FILTERED
    this.#read = read;
    this.#write = write;
    this.#event = event;
    this.#syncKeepAlive();
    return this;
  }

  enable(events: number): this {
    this.#check();
    this.#native.enable(requireIoEvents(events));
    this.#finished = false;
    this.#syncKeepAlive();
    return this;
  }

  disable(events: number): this {
    this.#check();
    this.#native.disable(requireIoEvents(events));
    return this;
  }

  /** EV.READ and/or EV.WRITE, as bufferevent_get_enabled reports. */
  get enabled(): number {
    this.#check();
    return this.#native.enabled();
  }

  /**
   * Read: the read callback runs only when at least `low` bytes are buffered, and reading stops at
   * `high` (0 = unlimited). Write: the write callback runs when the output drains to `low` or below.
   */
  setWatermark(events: number, low: number, high = 0): this {
    this.#check();
    requireIoEvents(events);
    requireInteger(low, 'low', 0, MAX_WATERMARK, 'ERR_INVALID_WATERMARK');
    requireInteger(high, 'high', 0, MAX_WATERMARK, 'ERR_INVALID_WATERMARK');
    if (high !== 0 && low > high) {
      throw new BuffereventError(
        `the low watermark (${low}) is above the high watermark (${high})`,
        'ERR_INVALID_WATERMARK',
      );
    }
    this.#native.setWatermark(events, low, high);
    return this;
  }

  getWatermark(events: number): Watermark {
    this.#check();
    if (events !== EV.READ && events !== EV.WRITE) {
      throw new BuffereventError('getWatermark takes exactly one of EV.READ or EV.WRITE', 'ERR_INVALID_ARG');
    }
    return this.#native.getWatermark(events);
  }

  /** Idle timeouts: when one expires the event callback gets BEV.TIMEOUT and that direction is disabled. */
  setTimeouts(timeouts: Timeouts): this {
    this.#check();
    if (typeof timeouts !== 'object' || timeouts === null) {
      throw new BuffereventError(
        'timeouts must be an object { read?, write? } in milliseconds',
        'ERR_INVALID_ARG',
      );
    }
    const read = timeouts.read === undefined ? this.#timeouts.read : requireTimeout(timeouts.read, 'read');
    const write =
      timeouts.write === undefined ? this.#timeouts.write : requireTimeout(timeouts.write, 'write');
    this.#native.setTimeouts(read, write);
    this.#timeouts = { read, write };
    return this;
  }

  get timeouts(): { read: number | null; write: number | null } {
    this.#check();
    return { ...this.#timeouts };
  }

  /** The input buffer: what was read and not yet consumed. */
  get input(): EvBuffer {
    this.#check();
    this.#input ??= evbufferView(this.#native.input());
    return this.#input;
  }

  /** The output buffer: what was written and not yet sent. */
  get output(): EvBuffer {
    this.#check();
    this.#output ??= evbufferView(this.#native.output());
    return this.#output;
  }

  /**
   * Queues data for sending. Buffers of 16 KiB or more are sent by reference: do not modify them
   * afterwards. An EvBuffer is moved whole, without copying (bufferevent_write_buffer): an echo is
   * `bev.write(bev.input)`.
   */
  write(data: BinaryLike | EvBuffer): this {
    this.#check();
    if (data instanceof EvBuffer) this.#native.writeBuffer(evbufferHandles.of(data, 'data'));
    else this.#native.write(toBuffer(data));
    return this;
  }

  /** Removes and returns up to `count` bytes of input (all when omitted). */
  read(count?: number): Buffer {
    this.#check();
    return this.#native.read(
      count === undefined ? undefined : requireInteger(count, 'count', 0, Number.MAX_SAFE_INTEGER),
    );
  }

  /** bufferevent_flush: returns 1 if data was flushed, 0 if none. A no-op for sockets in libevent 2.1. */
  flush(events: number = EV.WRITE, mode: number = BEV.NORMAL): number {
    this.#check();
    requireIoEvents(events);
    requireInteger(mode, 'mode', BEV.NORMAL, BEV.FINISHED);
    return this.#native.flush(events, mode);
  }

  get priority(): number {
    this.#check();
    return this.#native.getPriority();
  }

  set priority(priority: number) {
    this.#check();
    const base = EventBase.default();
    this.#native.setPriority(
      requireInteger(priority, 'priority', 0, base.priorities - 1, 'ERR_INVALID_PRIORITY'),
    );
  }

  /** The underlying fd, or -1. */
  get fd(): number {
    this.#check();
    return this.#native.fd();
  }

  /** Runs the read and/or write callback as if data had arrived/drained (always from the loop, deferred). */
  trigger(events: number, options: { ignoreWatermarks?: boolean } = {}): this {
    this.#check();
    this.#native.trigger(requireIoEvents(events), options.ignoreWatermarks === true);
    return this;
  }

  /** Runs the event callback with `events` (bufferevent_trigger_event, deferred). */
  triggerEvent(events: number): this {
    this.#check();
    requireInteger(events, 'events', 1, 0xff);
    this.#native.triggerEvent(events);
    return this;
  }

  /**
   * Connects to a numeric IPv4/IPv6 address or a Unix socket path (bufferevent_socket_connect),
   * with `localAddress` (and `localPort`) binding the socket first. A connect that cannot start,
   * a failed bind included, throws ERR_CONNECT.
   */
  connect(target: ConnectTarget): this {
    this.#check();
    if (typeof target !== 'object' || target === null) {
      throw new BuffereventError('connect takes { host, port } or { path }', 'ERR_INVALID_ARG');
    }
    if ('path' in target) {
      if (typeof target.path !== 'string' || target.path.length === 0) {
        throw new BuffereventError('path must be a non-empty string', 'ERR_INVALID_PATH');
      }
      const tcpOnly = target as { localAddress?: unknown; localPort?: unknown };
      if (tcpOnly.localAddress !== undefined || tcpOnly.localPort !== undefined) {
        throw new BuffereventError(
          'localAddress and localPort apply to TCP connects only',
          'ERR_INVALID_ARG',
        );
      }
      this.#native.connect(0, target.path, 0);
    } else {
      const family = isIP(typeof target.host === 'string' ? target.host : '');
      if (family === 0) {
        throw new BuffereventError(
          `host must be a numeric IP address, got ${JSON.stringify(target.host)}; use connectHostname() for names`,
          'ERR_INVALID_HOST',
        );
      }
      const port = requirePort(target.port, { allowZero: false });
      const local = requireLocalEndpoint(target, family as 4 | 6);
      if (local === null) this.#native.connect(family as 4 | 6, target.host, port);
      else this.#native.connect(family as 4 | 6, target.host, port, local.address, local.port);
    }
    this.#finished = false;
    this.#syncKeepAlive();
    return this;
  }

  /**
   * Resolves `host` with libevent's asynchronous resolver and connects, trying each address in turn
   * (with `localAddress`, each from a fresh socket bound to it, and only addresses of its family).
   * Failures arrive as BEV.ERROR with code ERR_DNS (resolution) or the last connect error.
   */
  connectHostname(host: string, port: number, options: ConnectHostnameOptions = {}): this {
    this.#check();
    const family = options.family ?? 0;
    if (family !== 0 && family !== 4 && family !== 6) {
      throw new BuffereventError('family must be 0 (any), 4 or 6', 'ERR_INVALID_ARG');
    }
    const name = requireHostname(host);
    const checkedPort = requirePort(port, { allowZero: false });
    const local = requireLocalEndpoint(options, family);
    if (local === null) this.#native.connectHostname(name, checkedPort, family);
    else this.#native.connectHostname(name, checkedPort, family, local.address, local.port);
    this.#finished = false;
    this.#syncKeepAlive();
    return this;
  }

  /**
   * Ends the write side once the queued output has been sent. A socket shuts down (the peer reads
   * EOF). A pair or filter flushes with BEV.FINISHED: the partner reads EOF, an output filter ends
   * its stream, and the socket at the bottom of a filter chain is shut down once drained.
   */
  shutdownWrite(): this {
    this.#check();
    this.#native.shutdownWrite();
    return this;
  }

  /**
   * A node:stream Duplex over this bufferevent. The stream takes over the callbacks and enables
   * reading and writing; destroying the stream frees the bufferevent.
   */
  toStream(options: BuffereventStreamOptions = {}): BuffereventStream {
    this.#check();
    return new BuffereventStream(this, options);
  }

  /** Frees the bufferevent. Idempotent; no callback runs after it returns. */
  free(): void {
    if (this.#freed) return;
    this.#native.free(); // throws ERR_FILTERED for the underlying of a live filter
    this.#freed = true;
    this.#read = this.#write = this.#event = null;
    this.#filters = null;
    if (this.#underlying && this.#closesUnderlying) this.#underlying.#markFreedWithFilter();
  }

  #markFreedWithFilter(): void {
    this.#freed = true;
    this.#read = this.#write = this.#event = null;
    if (this.#underlying && this.#closesUnderlying) this.#underlying.#markFreedWithFilter();
  }

  [Symbol.dispose](): void {
    this.free();
  }

  #check(): void {
    if (this.#freed) throw new BuffereventError('this bufferevent was freed; create a new one', 'ERR_FREED');
  }

  // A bufferevent with callbacks and no final event yet is work in flight: it stays alive even if
  // user code dropped it. Once EOF or ERROR was delivered, only user references keep it.
  #syncKeepAlive(): void {
    const hasCallback = this.#read !== null || this.#write !== null || this.#event !== null;
    this.#native.keepAlive(!this.#freed && hasCallback && !this.#finished);
  }

  #runFilter(side: 0 | 1, limit: number, mode: 0 | 1 | 2): string {
    const filter = this.#filters === null ? null : this.#filters[side];
    if (!filter || this.#freed) return 'error';
    const buffers = ((this.#filterBuffers ??= [undefined, undefined])[side] ??= this.#native
      .filterBuffers(side)
      .map((view) => evbufferView(view)) as [EvBuffer, EvBuffer]);
    return String(filter(buffers[0], buffers[1], limit, mode as FlushMode));
  }

  #deliver(
    which: number,
    events: number,
    errno: number,
    code: string | undefined,
    message: string | undefined,
  ): void {
    if (this.#freed) return;
    if (which === Callback.Read) {
      this.#read?.(this);
    } else if (which === Callback.Write) {
      this.#write?.(this);
    } else {
      let error: BuffereventError | undefined;
      if (code !== undefined) {
        error = new BuffereventError(message ?? code, code);
        if (errno !== 0) error.errno = errno;
      } else if (events & BEV.ERROR) {
        error =
          errno !== 0
            ? socketError(errno, 'bufferevent error')
            : new BuffereventError('bufferevent error', 'ERR_SOCKET');
      }
      if (events & (BEV.EOF | BEV.ERROR)) {
        this.#finished = true;
        this.#syncKeepAlive();
      }
      const callback = this.#event;
      if (callback) {
        if (error) callback(this, events, error);
        else callback(this, events);
      }
    }
  }
}
