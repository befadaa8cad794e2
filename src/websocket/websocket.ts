// WebSocket: one connection, server side or client side, with the events and methods of `ws`.
// Frames are parsed and written by the native connection (native/ws/connection.cc); this file owns
// the connection's states and the close handshake: who sends which close frame, who closes TCP
// (the server, RFC 6455 §7.1.1), the lingering close (half-close, then read and discard until the
// peer's FIN, so unread input never turns our close into a reset that loses what we sent), and the
// timeouts that end a handshake the peer does not finish.
import { Buffer } from 'node:buffer'; // not the global: an accessor in Node 20
import { EventEmitter } from 'node:events';
import { BEV } from '../constants.ts';
import { Bufferevent } from '../bufferevent.ts';
import { native, type ConnectionId } from '../native.ts';
import { buffereventHandles } from '../native-handles.ts';
import { LeanEventEmitter, makeListenerTablesOnFirstListener } from './listener-table.ts';
import { SLAB_MAX_PAYLOAD, writeSlabFrame } from './send-slab.ts';
import { ConnectionOwners, connections, NO_CONNECTION } from './socket-connection.ts';
import { WebSocketError, WebSocketRangeError, WebSocketTypeError } from './errors.ts';
import { connectClient, type ClientOptions, type UpgradeResponse } from './client-handshake.ts';
import { cleanClose, installBrowserApi } from './event-target.ts';
import { ListenerErrors } from './listener-errors.ts';
import {
  BINARY_TYPES,
  binaryMessage,
  isBlob,
  toBuffer,
  type BinaryType,
  type WebSocketData,
} from './message-data.ts';
import { resolveLimits, type SocketSettings } from './options.ts';
import { CLOSE_ABNORMAL, NO_REASON, RareState, type SendCallback as Callback } from './rare-state.ts';
import { isBinaryEntry, poolIndexOf, poolMessage } from './message-batch.ts';
import { checkTopic } from './topics.ts';
import { EXTENSION_NAME, nativeDeflateSettings, type CodecSettings } from './deflate/agreement.ts';
import type { RedirectRequest } from './request-headers.ts';
import type { createWebSocketStream } from './stream.ts';
import type { WebSocketServer } from './websocket-server.ts';

const enum NativeEvent {
  Message = 0,
  Ping = 1,
  Pong = 2,
  Close = 3,
  Error = 4,
  Socket = 5,
  Drain = 6,
  Batch = 7,
}

const enum Opcode {
  Continuation = 0,
  Text = 1,
  Binary = 2,
  Close = 8,
  Ping = 9,
  Pong = 10,
}

/**
 * The first byte of a frame's header, as the native send() takes it with its opcode: the last
 * frame of a message, and (RSV1) a message to compress. One number rather than three arguments.
 */
const enum FrameBits {
  Fin = 0x80,
  Compress = 0x40,
}
/** The native send()'s limit when there is none. */
const NO_LIMIT = -1;

/**
 * The state of a socket as bits of one number: the readyState in the low two bits (STATE_MASK),
 * the yes/no flags above them. An idle connection's object stays small (memory per connection),
 * and the bits cost no more to test than fields would.
 */
const STATE_MASK = 3;
const enum Flag {
  Server = 1 << 2,
  Deflated = 1 << 3, // permessage-deflate was agreed
  Paused = 1 << 4, // as the user set it, also while lingering
  FragmentedSend = 1 << 5, // a message sent with fin false is still open
  CloseFrameSent = 1 << 6,
  CloseFrameReceived = 1 << 7,
  // The close handshake completed or failed: what the peer still sends is read and discarded.
  Lingering = 1 << 8,
  // The peer's FIN came while our last frames were still queued: close once they are sent.
  FinishWhenSent = 1 << 9,
  HeldScheduled = 1 << 10, // a tick to deliver held events is pending
  // EventEmitter.captureRejections was on when this socket was made: emit() must see every result.
  CaptureRejections = 1 << 11,
}

const emitterEmit = EventEmitter.prototype.emit;

/**
 * The connection whose event is being delivered, as the addon has it (its Dispatch), set around
 * every call of the dispatcher: a send to it from one of its listeners (an echo, a reply) is
 * written to the send slab (see send-slab.ts).
 */
let dispatchingConnection: ConnectionId = NO_CONNECTION;
/** The WebSocket of each open native connection: what the dispatcher reports to. */
const owners = new ConnectionOwners<WebSocket>();
/** The flags that keep a send out of the slab, and the one it needs (see send-slab.ts). */
const SLAB_FLAGS = Flag.Server | Flag.Deflated | Flag.FragmentedSend;

const CLOSE_NO_STATUS = 1005;
/** The settings of a socket made without options: a client's, and a server socket's until it is attached. */
const CLIENT_DEFAULTS: SocketSettings = { ...resolveLimits({}), topicScope: 0 };
const STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'];

export type SendResult = 'ok' | 'backpressure' | 'dropped';
export type { BinaryType, WebSocketData };

export interface SendOptions {
  /** Send as a binary message (default: true for binary data, false for strings). */
  binary?: boolean;
  /** false starts or continues a fragmented message; the send with fin true (default) ends it. */
  fin?: boolean;
  /**
   * false sends the message uncompressed. Default true: compressed when permessage-deflate was
   * agreed and the message is at least its threshold (decided on a message's first fragment).
   */
  compress?: boolean;
  /** Accepted for ws compatibility; clients always mask, servers never do. */
  mask?: boolean;
}

const succeeded = (callback: Callback) => (callback as unknown as (error: null) => void)(null);

/** Close codes an endpoint may put in a close frame (RFC 6455 §7.4). */
export function isSendableCloseCode(code: number): boolean {
  return (
    Number.isInteger(code) &&
    ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999))
  );
}

/** How a server hands an upgraded socket to a new WebSocket (not public). */
export const attachServerSide = Symbol('attachServerSide');

export class WebSocket extends LeanEventEmitter {
  // Read-only, on the class and its prototype (defined below the class), as in ws.
  declare static readonly CONNECTING: 0;
  declare static readonly OPEN: 1;
  declare static readonly CLOSING: 2;
  declare static readonly CLOSED: 3;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;
  // ws's aliases, set by the package entry (index.ts).
  declare static Server: typeof WebSocketServer;
  declare static WebSocketServer: typeof WebSocketServer;
  declare static WebSocket: typeof WebSocket;
  declare static createWebSocketStream: typeof createWebSocketStream;

  // Only what an open connection uses on every message is a field; every field costs each idle
  // connection 8 bytes. The rest is in #rare, made on first use (see rare-state.ts).
  #bits: number = CONNECTING; // the readyState and the Flag bits (see Flag)
  #settings: SocketSettings;
  #connection: ConnectionId = NO_CONNECTION;
  /** Never set back to null once made, so a reference taken to it stays the socket's. */
  #rare: RareState | null = null;

  static {
    native.setHooks({
      websocket: (connection, event, a, b, c) => {
        const socket = owners.get(connection);
        // Another connection's socket in the same slot cannot be told an event: ids differ.
        if (socket === undefined || socket.#connection !== connection) return;
        const outer = dispatchingConnection;
        dispatchingConnection = connection;
        try {
          socket.#onNative(event, a, b, c);
        } finally {
          dispatchingConnection = outer;
        }
      },
    });
  }

  /**
   * A client connecting to `address` (ws://host:port/path). Servers create their sockets
   * themselves; `new WebSocket(null)` is reserved for them.
   */
  constructor(
    address: string | URL | null,
    protocols?: string | string[] | ClientOptions,
    options?: ClientOptions,
  ) {
    super();
    if (EventEmitter.captureRejections) this.#setFlag(Flag.CaptureRejections);
    if (protocols !== undefined && typeof protocols === 'object' && !Array.isArray(protocols)) {
      options = protocols;
      protocols = undefined;
    }
    this.#settings = options === undefined ? CLIENT_DEFAULTS : { ...resolveLimits(options), topicScope: 0 };
    if (address === null) return;
    const offered = protocols === undefined ? [] : Array.isArray(protocols) ? protocols : [protocols];
    const { url, abort } = connectClient(address, offered, options ?? {}, this.#settings, {
      upgraded: (bufferevent, protocol, response, deflate) =>
        this.#onClientUpgraded(bufferevent, protocol, response, deflate),
      failed: (error, response) => this.#onClientFailed(error, response),
      redirect: (next, request) => this.#onRedirect(next, request),
      listensForRedirect: () => this.listenerCount('redirect') > 0,
    });
    const rare = this.#rareState();
    rare.url = url;
    rare.abortConnect = abort;
  }

  /** @internal Called by WebSocketServer once the 101 answer is queued. */
  [attachServerSide](
    bufferevent: Bufferevent,
    protocol: string,
    settings: SocketSettings,
    deflate: CodecSettings | null,
  ): void {
    this.#setFlag(Flag.Server);
    this.#settings = settings;
    if (protocol !== '') this.#rareState().protocol = protocol;
    this.#open(bufferevent, false, deflate);
  }

  /** What binary messages are delivered as; text messages are Buffers whatever it says (as ws). */
  get binaryType(): BinaryType {
    return this.#rare === null ? 'nodebuffer' : this.#rare.binaryType;
  }

  set binaryType(type: BinaryType) {
    // As ws: other values are ignored. The default needs no state of its own.
    if (BINARY_TYPES.includes(type) && (type !== 'nodebuffer' || this.#rare !== null)) {
      this.#rareState().binaryType = type;
    }
  }

  // The browser-style API (onopen…onclose, addEventListener, removeEventListener) is installed on
  // the prototype by event-target.ts (below the class) and typed in events.ts.

  /** @internal CloseEvent.wasClean: both close frames were exchanged. */
  [cleanClose](): boolean {
    return this.#hasFlag(Flag.CloseFrameSent) && this.#hasFlag(Flag.CloseFrameReceived);
  }

  get readyState(): number {
    return this.#state();
  }

  get protocol(): string {
    return this.#rare === null ? '' : this.#rare.protocol;
  }

  /** 'permessage-deflate' once compression was agreed, else '' (the names, as in ws). */
  get extensions(): string {
    return this.#hasFlag(Flag.Deflated) ? EXTENSION_NAME : '';
  }

  get url(): string {
    return this.#rare === null ? '' : this.#rare.url;
  }

  get isPaused(): boolean {
    return this.#hasFlag(Flag.Paused);
  }

  /** Bytes queued for sending that the kernel has not taken yet. */
  get bufferedAmount(): number {
    return this.#connection === NO_CONNECTION ? 0 : connections.bufferedAmount(this.#connection);
  }

  /** Messages dropped by send() because maxBufferedBytes was reached. */
  get droppedMessages(): number {
    return this.#rare === null ? 0 : this.#rare.dropped;
  }

  /**
   * Subscribes to `topic` of this socket's server (see WebSocketServer.publish); false when it was
   * subscribed already or the socket is closing or closed. Server-side sockets only.
   */
  subscribe(topic: string): boolean {
    checkTopic(topic);
    if (this.#settings.topicScope === 0) {
      throw new WebSocketError(
        'only a socket of a WebSocketServer can subscribe',
        'WS_ERR_NOT_SERVER_SOCKET',
      );
    }
    if (this.#connection === NO_CONNECTION || this.#state() !== OPEN || this.#hasFlag(Flag.CloseFrameSent)) {
      return false;
    }
    return connections.subscribe(
      this.#connection,
      this.#settings.topicScope,
      topic,
      this.#settings.backpressureBytes,
    );
  }

  /** Leaves `topic`; false when not subscribed. Closing leaves every topic by itself. */
  unsubscribe(topic: string): boolean {
    checkTopic(topic);
    return this.#connection !== NO_CONNECTION && connections.unsubscribe(this.#connection, topic);
  }

  isSubscribed(topic: string): boolean {
    checkTopic(topic);
    return this.#connection !== NO_CONNECTION && connections.isSubscribed(this.#connection, topic);
  }

  /** The topics subscribed to, in subscription order. */
  get topics(): string[] {
    return this.#connection === NO_CONNECTION ? [] : connections.topics(this.#connection);
  }

  /** Publishes not sent to this socket because more than backpressureBytes were queued. */
  get skippedPublishes(): number {
    if (this.#connection !== NO_CONNECTION) return connections.skippedPublishes(this.#connection);
    return this.#rare === null ? 0 : this.#rare.skippedPublishes;
  }

  /**
   * Sends a message (or a fragment, with `fin: false`). Returns 'ok', 'backpressure' (queued, but
   * more than backpressureBytes are waiting: wait for 'drain') or 'dropped' (not sent: the queue
   * is at maxBufferedBytes, or the socket is not open). A Blob is read first, and what is sent
   * after it waits for it (as in ws): such a send returns 'ok' and reports a drop to its callback.
   */
  send(data?: WebSocketData | number, options?: SendOptions | Callback, callback?: Callback): SendResult {
    if (typeof options === 'function') {
      callback = options;
      options = {};
    }
    options ??= {};
    if (this.#state() === CONNECTING) {
      throw new WebSocketError('WebSocket is not open: readyState 0 (CONNECTING)', 'WS_ERR_NOT_OPEN');
    }
    const binary = options.binary ?? (typeof data !== 'string' && typeof data !== 'number');
    const fin = options.fin !== false;
    const compress = options.compress !== false;
    if (this.#state() !== OPEN || this.#hasFlag(Flag.CloseFrameSent)) {
      this.#failCallback(callback, this.#notOpenError());
      return 'dropped';
    }
    if (isBlob(data) || this.#blobQueue() !== null) {
      this.#enqueue(async () => {
        const payload = isBlob(data) ? Buffer.from(await data.arrayBuffer()) : toBuffer(data);
        this.#sendNow(payload, binary, fin, compress, callback);
      });
      return 'ok';
    }
    return this.#sendNow(toBuffer(data), binary, fin, compress, callback);
  }

  ping(data?: WebSocketData | number | Callback, mask?: boolean | Callback, callback?: Callback): void {
    this.#sendControl(Opcode.Ping, data, mask, callback);
  }

  pong(data?: WebSocketData | number | Callback, mask?: boolean | Callback, callback?: Callback): void {
    this.#sendControl(Opcode.Pong, data, mask, callback);
  }

  /** Starts the close handshake (RFC 6455 §7.1.2). Without a code the close frame is empty (1005). */
  close(code?: number, reason?: string | Buffer): void {
    if (this.#state() === CLOSED) return;
    if (this.#state() === CONNECTING) {
      this.#abortBeforeOpen();
      return;
    }
    if (code !== undefined && !isSendableCloseCode(code)) {
      throw new WebSocketTypeError(
        `close code ${code} may not be sent: use 1000-1003, 1007-1014 or 3000-4999`,
        'WS_ERR_INVALID_CLOSE_CODE',
      );
    }
    const reasonBytes = reason === undefined ? Buffer.alloc(0) : toBuffer(reason);
    if (reasonBytes.length > 123) {
      throw new WebSocketRangeError(
        `the close reason is ${reasonBytes.length} bytes; at most 123 fit in a close frame`,
        'WS_ERR_CLOSE_REASON_TOO_LONG',
      );
    }
    if (code === undefined && reasonBytes.length > 0) {
      throw new WebSocketTypeError('a close reason needs a close code', 'WS_ERR_INVALID_CLOSE_CODE');
    }
    if (this.#hasFlag(Flag.CloseFrameSent) || this.#connection === NO_CONNECTION) return;
    if (this.#blobQueue() !== null) {
      // Behind a Blob still being read: the close frame follows it, nothing new is accepted.
      if (this.#state() === OPEN) {
        this.#setState(CLOSING);
        this.#enqueue(() => this.#closeNow(code, reasonBytes));
      }
      return;
    }
    this.#closeNow(code, reasonBytes);
  }

  /** Drops the TCP connection at once; 'close' follows with 1006 (or the peer's code). */
  terminate(): void {
    if (this.#state() === CLOSED) return;
    if (this.#state() === CONNECTING) {
      this.#abortBeforeOpen();
      return;
    }
    // A failed handshake is reporting its 'error' or 'close': that 'close' is the only one.
    if (this.#connection === NO_CONNECTION) return;
    this.#finish(true, false);
  }

  /**
   * Runs `callback` with this socket's output corked: everything it sends leaves in one write when
   * it returns (or throws), as the replies sent from a message listener do. Nested or inside a
   * message listener it just runs `callback`. Returns what `callback` returns.
   */
  cork<T>(callback: () => T): T {
    if (typeof callback !== 'function') {
      throw new WebSocketTypeError('cork(callback): callback must be a function', 'WS_ERR_INVALID_CALLBACK');
    }
    const connection = this.#connection;
    const corked = connection !== NO_CONNECTION && this.#state() !== CLOSED && connections.cork(connection);
    try {
      return callback();
    } finally {
      // Closed by the callback: the close sent or dropped what was held.
      if (corked && this.#connection === connection) connections.uncork(connection);
    }
  }

  pause(): void {
    if (this.#state() === CONNECTING || this.#state() === CLOSED) return;
    this.#setFlag(Flag.Paused);
    // While lingering nothing is delivered anyway, and reading must go on (see #linger).
    if (!this.#hasFlag(Flag.Lingering) && this.#connection !== NO_CONNECTION)
      connections.pause(this.#connection);
  }

  resume(): void {
    if (this.#state() === CONNECTING || this.#state() === CLOSED) return;
    this.#clearFlag(Flag.Paused);
    // What was held is delivered first (on the next tick, as data after a resume comes in ws),
    // and reading resumes after it.
    if (this.#heldEvents() !== null) this.#scheduleHeld();
    else if (this.#connection !== NO_CONNECTION) connections.resume(this.#connection);
  }

  #closeNow(code: number | undefined, reason: Buffer): void {
    if (this.#hasFlag(Flag.CloseFrameSent) || this.#connection === NO_CONNECTION) return;
    this.#sendCloseFrame(code, reason);
    if (this.#hasFlag(Flag.CloseFrameReceived)) this.#closeTcpAfterHandshake();
  }

  #sendNow(
    payload: Buffer,
    binary: boolean,
    fin: boolean,
    compress: boolean,
    callback: Callback | undefined,
  ): SendResult {
    const connection = this.#connection;
    if (connection === NO_CONNECTION || this.#hasFlag(Flag.CloseFrameSent)) {
      this.#failCallback(callback, this.#notOpenError());
      return 'dropped';
    }
    // A reply from one of the socket's own listeners, of the kind the send slab takes (a server's
    // whole message, no deflate, no open fragmented send, no callback to run after it left).
    if (
      connection === dispatchingConnection &&
      callback === undefined &&
      fin &&
      (this.#bits & SLAB_FLAGS) === Flag.Server &&
      payload.length <= SLAB_MAX_PAYLOAD
    ) {
      const queued = writeSlabFrame(payload, binary, this.#settings.maxBufferedBytes);
      if (queued >= 0) return this.#afterWrite(queued, undefined);
    }
    const fragmented = this.#hasFlag(Flag.FragmentedSend);
    const opcode = fragmented ? Opcode.Continuation : binary ? Opcode.Binary : Opcode.Text;
    // A fragmented message is never cut short: only its first frame is checked against the limit.
    const limit = fragmented ? NO_LIMIT : this.#settings.maxBufferedBytes;
    const bits = opcode | (fin ? FrameBits.Fin : 0) | (compress ? FrameBits.Compress : 0);
    const queued = connections.send(connection, payload, bits, limit);
    if (queued < 0) {
      this.#rareState().dropped++;
      this.#failCallback(
        callback,
        new WebSocketError(
          `message dropped: ${connections.bufferedAmount(connection)} bytes are already queued (maxBufferedBytes ${this.#settings.maxBufferedBytes})`,
          'WS_ERR_BUFFER_FULL',
        ),
      );
      return 'dropped';
    }
    if (fin) this.#clearFlag(Flag.FragmentedSend);
    else this.#setFlag(Flag.FragmentedSend);
    return this.#afterWrite(queued, callback);
  }

  #enqueue(step: () => void | Promise<void>): void {
    const rare = this.#rareState();
    if (rare.queue !== null) {
      rare.queue.push(step);
      return;
    }
    rare.queue = [step];
    void this.#runQueue(rare, rare.queue);
  }

  async #runQueue(rare: RareState, queue: (() => void | Promise<void>)[]): Promise<void> {
    while (queue.length > 0) {
      try {
        await queue.shift()!();
      } catch (error) {
        // Reading a Blob failed: the connection cannot go on with a hole in its stream (as ws).
        this.#emitError(error as Error);
        if (this.#connection !== NO_CONNECTION) this.#finish(true);
      }
    }
    rare.queue = null;
  }

  #open(bufferevent: Bufferevent, client: boolean, deflate: CodecSettings | null): void {
    this.#connection = connections.open(
      buffereventHandles.of(bufferevent, 'bufferevent'),
      {
        client,
        maxPayload: this.#settings.maxPayload,
        maxFragments: this.#settings.maxFragments,
        deflate: deflate === null ? undefined : nativeDeflateSettings(deflate),
      },
      this,
    );
    owners.set(this.#connection, this);
    if (deflate !== null) this.#setFlag(Flag.Deflated);
    this.#setState(OPEN);
  }

  /**
   * The 101 was accepted. 'upgrade' comes while still CONNECTING (a close() there aborts the
   * handshake, as in ws); then OPEN and 'open'. A listener that throws does not stop the rest.
   */
  #onClientUpgraded(
    bufferevent: Bufferevent,
    protocol: string,
    response: UpgradeResponse,
    deflate: CodecSettings | null,
  ): void {
    const rare = this.#rareState();
    rare.abortConnect = () => bufferevent.free();
    rare.protocol = protocol;
    const errors = new ListenerErrors();
    errors.run(() => this.emit('upgrade', response));
    if (this.#state() === CONNECTING) {
      rare.abortConnect = null;
      this.#open(bufferevent, true, deflate);
      errors.run(() => this.emit('open'));
    }
    errors.rethrow();
  }

  #onRedirect(url: string, request: RedirectRequest): boolean {
    if (this.#state() !== CONNECTING) return false;
    this.#rareState().url = url;
    this.emit('redirect', url, request);
    return this.#state() === CONNECTING;
  }

  /** The handshake failed: 'unexpected-response' or 'error', then 'close' 1006, each at most once. */
  #onClientFailed(error: Error, response: UpgradeResponse | null): void {
    if (this.#rare !== null) this.#rare.abortConnect = null;
    if (this.#state() === CLOSED) return;
    const errors = new ListenerErrors();
    if (response !== null && this.listenerCount('unexpected-response') > 0) {
      // Still CONNECTING here, as in ws: close() or terminate() in the listener aborts the
      // attempt ('error' then 'close' follow from #abortBeforeOpen); else 'close' comes now.
      errors.run(() => this.emit('unexpected-response', null, response));
      if (this.#state() !== CONNECTING) {
        errors.rethrow();
        return;
      }
      this.#setState(CLOSING);
    } else {
      this.#setState(CLOSING);
      errors.run(() => this.#emitError(error));
    }
    if (this.#state() !== CLOSED) {
      this.#setState(CLOSED);
      errors.run(() => this.emit('close', CLOSE_ABNORMAL, Buffer.alloc(0)));
    }
    errors.rethrow();
  }

  /** close() or terminate() while connecting: one 'error' and one 'close', on the next tick. */
  #abortBeforeOpen(): void {
    const error = new WebSocketError(
      'WebSocket was closed before the connection was established',
      'WS_ERR_CLOSED_BEFORE_OPEN',
    );
    const rare = this.#rare;
    const abort = rare === null ? null : rare.abortConnect;
    if (rare !== null) rare.abortConnect = null;
    abort?.();
    this.#setState(CLOSING);
    process.nextTick(() => this.#onClientFailed(error, null));
  }

  #onNative(event: number, a: unknown, b: unknown, c: unknown): void {
    switch (event) {
      case NativeEvent.Batch:
        this.#onBatch(a as Buffer, b as number, c as number);
        break;
      case NativeEvent.Socket:
        this.#onSocketEvent(a as number, b as number);
        break;
      case NativeEvent.Drain:
        this.#onDrain();
        break;
      default:
        // A message, ping, pong, the peer's close frame or an error: behind what is held.
        if (this.#holding()) this.#hold(event, a, b, c);
        else this.#onStreamEvent(event, a, b, c);
    }
  }

  /**
   * A read's small messages, one 'message' each, in order. A pause() in a listener holds the rest
   * until resume(); terminate() drops it; after close() it is still delivered, as in ws (until
   * the peer's close frame), but nothing can be sent after our close frame. A listener that
   * throws holds the rest too, delivers it on the next tick, and the exception goes on to the
   * process like any listener's.
   */
  #onBatch(pool: Buffer, count: number, indexAt: number): void {
    const index = poolIndexOf(pool);
    const memory = pool.buffer as ArrayBuffer;
    const base = pool.byteOffset;
    const end = (indexAt >>> 2) + 2 * count;
    for (let entry = indexAt >>> 2; entry < end; entry += 2) {
      if (this.#holding()) {
        this.#hold(
          NativeEvent.Message,
          poolMessage(memory, base, index, entry),
          isBinaryEntry(index, entry),
          undefined,
        );
        continue;
      }
      if (this.#state() === CLOSED) return;
      try {
        this.#emitMessage(poolMessage(memory, base, index, entry), isBinaryEntry(index, entry));
      } catch (error) {
        for (let rest = entry + 2; rest < end; rest += 2) {
          this.#hold(
            NativeEvent.Message,
            poolMessage(memory, base, index, rest),
            isBinaryEntry(index, rest),
            undefined,
          );
        }
        if (this.#heldEvents() !== null && !this.#hasFlag(Flag.Paused)) this.#scheduleHeld();
        throw error;
      }
    }
  }

  #emitMessage(data: Buffer, isBinary: boolean): void {
    const message = isBinary && this.#rare !== null ? binaryMessage(data, this.#rare.binaryType) : data;
    // One plain listener (the usual case) is called directly, as emit() would call it, without
    // emit()'s array of arguments and its look at the result for a promise, which only matters with
    // captureRejections and went through a megamorphic lookup for every message. An emit()
    // replaced on the socket still sees every message.
    const listener = (this as unknown as { _events: { message?: unknown } | undefined })._events?.message;
    if (
      typeof listener === 'function' &&
      (this.#bits & Flag.CaptureRejections) === 0 &&
      this.emit === emitterEmit
    ) {
      listener.call(this, message, isBinary);
      return;
    }
    this.emit('message', message, isBinary);
  }

  #onStreamEvent(event: number, a: unknown, b: unknown, c: unknown): void {
    switch (event) {
      case NativeEvent.Message:
        if (this.#state() !== CLOSED) this.#emitMessage(a as Buffer, b as boolean);
        break;
      case NativeEvent.Ping:
        this.emit('ping', a as Buffer);
        break;
      case NativeEvent.Pong:
        this.emit('pong', a as Buffer);
        break;
      case NativeEvent.Close:
        this.#onCloseFrame(a as number, b as Buffer);
        break;
      case NativeEvent.Error:
        this.#onProtocolError(a as number, b as string, c as string);
        break;
    }
  }

  /** Keeps an event for later; the native side stops reading until everything held is delivered. */
  #hold(event: number, a: unknown, b: unknown, c: unknown): void {
    const rare = this.#rareState();
    if (rare.held === null) {
      rare.held = [];
      rare.heldNext = 0;
      if (this.#connection !== NO_CONNECTION) connections.pause(this.#connection);
    }
    rare.held.push(event, a, b, c);
  }

  /** Stream events wait while the user paused and while earlier ones are still held. */
  #holding(): boolean {
    return (this.#bits & Flag.Paused) !== 0 || (this.#rare !== null && this.#rare.held !== null);
  }

  #heldEvents(): unknown[] | null {
    return this.#rare === null ? null : this.#rare.held;
  }

  #scheduleHeld(): void {
    if (this.#hasFlag(Flag.HeldScheduled)) return;
    this.#setFlag(Flag.HeldScheduled);
    process.nextTick(() => this.#deliverHeld());
  }

  #deliverHeld(): void {
    this.#clearFlag(Flag.HeldScheduled);
    const rare = this.#rare;
    if (rare === null || rare.held === null) return;
    const held = rare.held;
    while (rare.heldNext < held.length && !this.#hasFlag(Flag.Paused)) {
      if (this.#state() === CLOSED) return;
      const i = rare.heldNext;
      rare.heldNext += 4;
      try {
        this.#onStreamEvent(held[i] as number, held[i + 1], held[i + 2], held[i + 3]);
      } catch (error) {
        this.#scheduleHeld();
        throw error;
      }
      if (rare.held !== held) return; // finished from a listener
    }
    if (rare.heldNext < held.length) return; // paused again: resume() schedules the rest
    rare.held = null;
    rare.heldNext = 0;
    if (
      (!this.#hasFlag(Flag.Paused) || this.#hasFlag(Flag.Lingering)) &&
      this.#connection !== NO_CONNECTION
    ) {
      connections.resume(this.#connection);
    }
  }

  #onCloseFrame(code: number, reason: Buffer): void {
    this.#setFlag(Flag.CloseFrameReceived);
    const rare = this.#rareState();
    rare.closeCode = code;
    rare.closeReason = reason;
    this.#setState(CLOSING);
    // Echo the peer's code and reason (RFC 6455 §5.5.1, as ws does); an empty close frame is answered with an empty one.
    if (!this.#hasFlag(Flag.CloseFrameSent)) {
      this.#sendCloseFrame(
        code === CLOSE_NO_STATUS ? undefined : code,
        code === CLOSE_NO_STATUS ? Buffer.alloc(0) : reason,
      );
    }
    this.#closeTcpAfterHandshake();
  }

  #onProtocolError(closeCode: number, code: string, message: string): void {
    const error = new WebSocketError(message, code, closeCode);
    if (!this.#hasFlag(Flag.CloseFrameSent)) this.#sendCloseFrame(closeCode, Buffer.alloc(0));
    this.#rareState().closeCode = closeCode;
    // Failing the connection closes it (RFC 6455 §7.1.7), server or client: our close frame, then FIN.
    this.#linger(true);
    this.#emitError(error);
  }

  #onSocketEvent(events: number, errno: number): void {
    if (events & BEV.TIMEOUT) return; // no idle timeouts are set on open connections
    void errno;
    const connection = this.#connection;
    if (!(events & BEV.ERROR) && connection !== NO_CONNECTION && connections.bufferedAmount(connection) > 0) {
      // The peer's FIN (a half-close) came before our last frames left: freeing now would drop
      // them. Send them, then close; closeTimeout bounds the wait for a peer that does not read.
      this.#setFlag(Flag.FinishWhenSent);
      connections.notifyDrain(connection);
      this.#startCloseTimer();
      return;
    }
    // EOF or a socket error (a peer that vanished, ECONNRESET): a closure, 1006 unless the close
    // handshake told us more; not an 'error' of this socket's user.
    this.#finish(false);
  }

  #onDrain(): void {
    const rare = this.#rare;
    const callbacks = rare === null ? null : rare.drainCallbacks;
    if (callbacks !== null) {
      rare!.drainCallbacks = null; // those added by the callbacks wait for the next 'drain'
      for (const callback of callbacks) succeeded(callback);
    }
    this.emit('drain');
    if (this.#hasFlag(Flag.FinishWhenSent)) this.#finish(false);
  }

  /** The close handshake is complete on our side: the server closes TCP, the client waits for it. */
  #closeTcpAfterHandshake(): void {
    this.#linger(this.#hasFlag(Flag.Server));
  }

  /**
   * From here on nothing the peer sends is delivered (the native side discards it as it arrives,
   * so it never accumulates), yet reading goes on, even when the user paused: input left unread
   * when the socket closes makes the kernel send a reset, and the peer's kernel then throws away
   * our close frame if the peer has not read it yet. The socket closes at the peer's FIN, or at
   * closeTimeout. `halfClose`: also shut our write side down once the queued frames are sent.
   */
  #linger(halfClose: boolean): void {
    const connection = this.#connection;
    if (connection === NO_CONNECTION) return;
    this.#setFlag(Flag.Lingering);
    if (halfClose) connections.shutdownWrite(connection);
    if (this.#holding()) connections.resume(connection); // Flag.Paused stays as the user set it
    this.#startCloseTimer();
  }

  #sendCloseFrame(code: number | undefined, reason: Buffer): void {
    const connection = this.#connection;
    if (connection === NO_CONNECTION) return;
    let payload: Buffer = Buffer.alloc(0);
    if (code !== undefined) {
      payload = Buffer.allocUnsafe(2 + reason.length);
      payload.writeUInt16BE(code, 0);
      reason.copy(payload, 2);
    }
    this.#setFlag(Flag.CloseFrameSent);
    this.#setState(CLOSING);
    connections.send(connection, payload, Opcode.Close | FrameBits.Fin, NO_LIMIT);
    this.#startCloseTimer();
  }

  #startCloseTimer(): void {
    const rare = this.#rareState();
    if (rare.closeTimer !== null) return;
    rare.closeTimer = setTimeout(() => this.#finish(true), this.#settings.closeTimeout);
  }

  /**
   * Frees the connection and reports 'close'; later on the next tick when we dropped it ourselves.
   * Events read but held behind a pause are delivered first, as ws reads what the socket still
   * holds when it closes (so the peer's close code is not lost); terminate() drops them.
   */
  #finish(fromUser: boolean, deliverHeld = true): void {
    if (this.#state() === CLOSED) return;
    const errors = new ListenerErrors();
    const held = this.#heldEvents();
    if (deliverHeld && held !== null) {
      this.#rare!.held = null;
      for (let i = this.#rare!.heldNext; i < held.length && this.#state() !== CLOSED; i += 4) {
        errors.run(() => this.#onStreamEvent(held[i] as number, held[i + 1], held[i + 2], held[i + 3]));
      }
      // A listener ended the socket meanwhile: that 'close' was the one.
      if (this.#state() === CLOSED) {
        errors.rethrow();
        return;
      }
    }
    this.#setState(CLOSED);
    const rare = this.#rare;
    if (rare !== null && rare.closeTimer !== null) {
      clearTimeout(rare.closeTimer);
      rare.closeTimer = null;
    }
    const connection = this.#connection;
    if (connection !== NO_CONNECTION) {
      const skipped = connections.skippedPublishes(connection);
      if (skipped !== 0) this.#rareState().skippedPublishes = skipped;
      connections.close(connection);
      owners.delete(connection, this);
    }
    this.#connection = NO_CONNECTION;
    // The peer's code, our code after a protocol error, else 1006: the handshake never completed.
    let code = CLOSE_ABNORMAL;
    let reason: Buffer = NO_REASON;
    let callbacks: Callback[] | null = null;
    if (rare !== null) {
      rare.held = null;
      code = rare.closeCode;
      reason = rare.closeReason;
      callbacks = rare.drainCallbacks;
      rare.drainCallbacks = null;
    }
    const report = () => {
      if (callbacks !== null && callbacks.length > 0) {
        const error = this.#notOpenError();
        for (const callback of callbacks) callback(error);
      }
      this.#settings.clients?.delete(this);
      this.emit('close', code, reason);
    };
    if (fromUser) process.nextTick(report);
    else report();
    errors.rethrow();
  }

  #sendControl(
    opcode: Opcode,
    data: WebSocketData | number | Callback | undefined,
    mask: boolean | Callback | undefined,
    callback: Callback | undefined,
  ): void {
    if (this.#state() === CONNECTING) {
      throw new WebSocketError('WebSocket is not open: readyState 0 (CONNECTING)', 'WS_ERR_NOT_OPEN');
    }
    // ping(cb) and ping(data, cb), as ws takes them.
    if (typeof data === 'function') {
      callback = data;
      data = undefined;
    } else if (typeof mask === 'function') {
      callback = mask;
    }
    const blob = isBlob(data) ? data : null;
    const bytes = blob === null ? toBuffer(data as Exclude<WebSocketData, Blob> | number | undefined) : null;
    const size = blob !== null ? blob.size : bytes!.length;
    if (size > 125) {
      throw new WebSocketRangeError(
        `a ${opcode === Opcode.Ping ? 'ping' : 'pong'} carries at most 125 bytes, not ${size}`,
        'WS_ERR_CONTROL_TOO_LONG',
      );
    }
    if (this.#state() !== OPEN || this.#hasFlag(Flag.CloseFrameSent)) {
      this.#failCallback(callback, this.#notOpenError());
      return;
    }
    const send = (payload: Buffer) => {
      if (this.#connection === NO_CONNECTION || this.#hasFlag(Flag.CloseFrameSent)) {
        this.#failCallback(callback, this.#notOpenError());
        return;
      }
      this.#afterWrite(
        connections.send(this.#connection, payload, opcode | FrameBits.Fin, NO_LIMIT),
        callback,
      );
    };
    if (blob !== null || this.#blobQueue() !== null) {
      this.#enqueue(async () => send(blob !== null ? Buffer.from(await blob.arrayBuffer()) : bytes!));
      return;
    }
    send(bytes!);
  }

  #afterWrite(queued: number, callback: Callback | undefined): SendResult {
    if (callback !== undefined) {
      if (queued === 0) process.nextTick(succeeded, callback);
      else (this.#rareState().drainCallbacks ??= []).push(callback);
    }
    const over = queued > this.#settings.backpressureBytes;
    if (queued > 0 && (over || callback !== undefined)) connections.notifyDrain(this.#connection);
    return over ? 'backpressure' : 'ok';
  }

  #rareState(): RareState {
    return (this.#rare ??= new RareState());
  }

  #blobQueue(): RareState['queue'] {
    return this.#rare === null ? null : this.#rare.queue;
  }

  // Methods, not a private accessor: Node 20's V8 reads a private getter through its runtime, about
  // five times the cost of the method, and the message and send paths read the state every time.
  #state(): number {
    return this.#bits & STATE_MASK;
  }

  #setState(state: number): void {
    this.#bits = (this.#bits & ~STATE_MASK) | state;
  }

  #hasFlag(flag: Flag): boolean {
    return (this.#bits & flag) !== 0;
  }

  #setFlag(flag: Flag): void {
    this.#bits |= flag;
  }

  #clearFlag(flag: Flag): void {
    this.#bits &= ~flag;
  }

  #failCallback(callback: Callback | undefined, error: Error): void {
    if (callback !== undefined) process.nextTick(callback, error);
  }

  #notOpenError(): WebSocketError {
    return new WebSocketError(
      `WebSocket is not open: readyState ${this.#state()} (${STATE_NAMES[this.#state()]})`,
      'WS_ERR_NOT_OPEN',
    );
  }

  /** 'error' is emitted only to listeners: a socket nobody listens to never crashes the process. */
  #emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

// As ws: the states are read-only, enumerable values on the class and on its prototype, and the
// attributes are enumerable accessors of the prototype.
for (const [name, value] of [
  ['CONNECTING', CONNECTING],
  ['OPEN', OPEN],
  ['CLOSING', CLOSING],
  ['CLOSED', CLOSED],
] as const) {
  Object.defineProperty(WebSocket, name, { value, enumerable: true });
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
}
installBrowserApi(WebSocket.prototype);
makeListenerTablesOnFirstListener(WebSocket.prototype);
for (const name of [
  'binaryType',
  'bufferedAmount',
  'extensions',
  'isPaused',
  'protocol',
  'readyState',
  'url',
]) {
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true });
}
