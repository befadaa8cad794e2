// WebSocket: one connection, server side or client side, with the events and methods of `ws`.
// Frames are parsed and written by the native connection (native/ws/connection.cc); this file owns
// the connection's states and the close handshake: who sends which close frame, who closes TCP
// (the server, RFC 6455 §7.1.1), the lingering close (half-close, then read and discard until the
// peer's FIN, so unread input never turns our close into a reset that loses what we sent), and the
// timeouts that end a handshake the peer does not finish.
import { EventEmitter } from 'node:events';
import { BEV } from '../constants.ts';
import { Bufferevent } from '../bufferevent.ts';
import { native, type NativeWebSocketConnection } from '../native.ts';
import { buffereventHandles } from '../native-handles.ts';
import { WebSocketError } from './errors.ts';
import { connectClient, type ClientOptions, type UpgradeResponse } from './client-handshake.ts';
import { resolveLimits, type ResolvedLimits } from './options.ts';

const enum NativeEvent {
  Message = 0,
  Ping = 1,
  Pong = 2,
  Close = 3,
  Error = 4,
  Socket = 5,
  Drain = 6,
}

const enum Opcode {
  Continuation = 0,
  Text = 1,
  Binary = 2,
  Close = 8,
  Ping = 9,
  Pong = 10,
}

const CLOSE_NO_STATUS = 1005;
const CLOSE_ABNORMAL = 1006;
const STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'];

export type SendResult = 'ok' | 'backpressure' | 'dropped';
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments';
export type WebSocketData = string | Buffer | ArrayBuffer | ArrayBufferView;

export interface SendOptions {
  /** Send as a binary message (default: true for binary data, false for strings). */
  binary?: boolean;
  /** false starts or continues a fragmented message; the send with fin true (default) ends it. */
  fin?: boolean;
  /** Accepted for ws compatibility; compression is not negotiated yet. */
  compress?: boolean;
  /** Accepted for ws compatibility; clients always mask, servers never do. */
  mask?: boolean;
}

type Callback = (error?: Error) => void;

/** Close codes an endpoint may put in a close frame (RFC 6455 §7.4). */
export function isSendableCloseCode(code: number): boolean {
  return (
    Number.isInteger(code) &&
    ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999))
  );
}

/** How a server hands an upgraded socket to a new WebSocket (not public). */
export const attachServerSide = Symbol('attachServerSide');

export class WebSocket extends EventEmitter {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;

  binaryType: BinaryType = 'nodebuffer';
  #readyState = WebSocket.CONNECTING;
  #url = '';
  #protocol = '';
  #isServer = false;
  #limits: ResolvedLimits;
  #connection: NativeWebSocketConnection | null = null;
  #abortConnect: (() => void) | null = null;
  #closeFrameSent = false;
  #closeFrameReceived = false;
  #closeCode = CLOSE_ABNORMAL;
  #closeReason: Buffer = Buffer.alloc(0);
  #closeTimer: NodeJS.Timeout | null = null;
  // The close handshake completed or failed: what the peer still sends is read and discarded.
  #lingering = false;
  // The peer's FIN came while our last frames were still queued: close once they are sent.
  #finishWhenSent = false;
  #fragmentedSend = false; // a message sent with fin false is still open
  #paused = false;
  #drainCallbacks: Callback[] = [];
  #dropped = 0;

  static {
    native.setHooks({
      websocket: (owner, event, a, b, c) => (owner as WebSocket).#onNative(event, a, b, c),
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
    if (protocols !== undefined && typeof protocols === 'object' && !Array.isArray(protocols)) {
      options = protocols;
      protocols = undefined;
    }
    this.#limits = resolveLimits(options ?? {});
    if (address === null) return;
    const offered = protocols === undefined ? [] : Array.isArray(protocols) ? protocols : [protocols];
    const { url, abort } = connectClient(address, offered, options ?? {}, this.#limits, {
      upgraded: (bufferevent, protocol, response) => this.#onClientUpgraded(bufferevent, protocol, response),
      failed: (error, response) => this.#onClientFailed(error, response),
    });
    this.#url = url;
    this.#abortConnect = abort;
  }

  /** @internal Called by WebSocketServer once the 101 answer is queued. */
  [attachServerSide](bufferevent: Bufferevent, protocol: string, limits: ResolvedLimits): void {
    this.#isServer = true;
    this.#limits = limits;
    this.#protocol = protocol;
    this.#open(bufferevent, false);
  }

  get readyState(): number {
    return this.#readyState;
  }

  get protocol(): string {
    return this.#protocol;
  }

  get extensions(): string {
    return '';
  }

  get url(): string {
    return this.#url;
  }

  get isPaused(): boolean {
    return this.#paused;
  }

  /** Bytes queued for sending that the kernel has not taken yet. */
  get bufferedAmount(): number {
    return this.#connection === null ? 0 : this.#connection.bufferedAmount();
  }

  /** Messages dropped by send() because maxBufferedBytes was reached. */
  get droppedMessages(): number {
    return this.#dropped;
  }

  /**
   * Sends a message (or a fragment, with `fin: false`). Returns 'ok', 'backpressure' (queued, but
   * more than backpressureBytes are waiting: wait for 'drain') or 'dropped' (not sent: the queue
   * is at maxBufferedBytes, or the socket is not open).
   */
  send(data: WebSocketData | number, options?: SendOptions | Callback, callback?: Callback): SendResult {
    if (typeof options === 'function') {
      callback = options;
      options = {};
    }
    options ??= {};
    if (this.#readyState === WebSocket.CONNECTING) {
      throw new WebSocketError('WebSocket is not open: readyState 0 (CONNECTING)', 'WS_ERR_NOT_OPEN');
    }
    const payload = toBuffer(typeof data === 'number' ? String(data) : data);
    const binary = options.binary ?? (typeof data !== 'string' && typeof data !== 'number');
    if (this.#readyState !== WebSocket.OPEN || this.#closeFrameSent) {
      this.#failCallback(callback, this.#notOpenError());
      return 'dropped';
    }
    const connection = this.#connection!;
    const fin = options.fin !== false;
    if (
      !this.#fragmentedSend &&
      connection.bufferedAmount() + payload.length > this.#limits.maxBufferedBytes
    ) {
      this.#dropped++;
      this.#failCallback(
        callback,
        new WebSocketError(
          `message dropped: ${connection.bufferedAmount()} bytes are already queued (maxBufferedBytes ${this.#limits.maxBufferedBytes})`,
          'WS_ERR_BUFFER_FULL',
        ),
      );
      return 'dropped';
    }
    const opcode = this.#fragmentedSend ? Opcode.Continuation : binary ? Opcode.Binary : Opcode.Text;
    this.#fragmentedSend = !fin;
    const queued = connection.send(payload, opcode, fin);
    return this.#afterWrite(queued, callback);
  }

  ping(data?: WebSocketData | number, mask?: boolean | Callback, callback?: Callback): void {
    this.#sendControl(Opcode.Ping, data, typeof mask === 'function' ? mask : callback);
  }

  pong(data?: WebSocketData | number, mask?: boolean | Callback, callback?: Callback): void {
    this.#sendControl(Opcode.Pong, data, typeof mask === 'function' ? mask : callback);
  }

  /** Starts the close handshake (RFC 6455 §7.1.2). Without a code the close frame is empty (1005). */
  close(code?: number, reason?: string | Buffer): void {
    if (code !== undefined && !isSendableCloseCode(code)) {
      throw new WebSocketError(
        `close code ${code} may not be sent: use 1000-1003, 1007-1014 or 3000-4999`,
        'WS_ERR_INVALID_CLOSE_CODE',
      );
    }
    const reasonBytes = reason === undefined ? Buffer.alloc(0) : toBuffer(reason);
    if (reasonBytes.length > 123) {
      throw new WebSocketError(
        `the close reason is ${reasonBytes.length} bytes; at most 123 fit in a close frame`,
        'WS_ERR_CLOSE_REASON_TOO_LONG',
      );
    }
    if (code === undefined && reasonBytes.length > 0) {
      throw new WebSocketError('a close reason needs a close code', 'WS_ERR_INVALID_CLOSE_CODE');
    }
    if (this.#readyState === WebSocket.CLOSED) return;
    if (this.#readyState === WebSocket.CONNECTING) {
      this.#abortBeforeOpen();
      return;
    }
    if (this.#closeFrameSent) return;
    this.#sendCloseFrame(code, reasonBytes);
    if (this.#closeFrameReceived) this.#closeTcpAfterHandshake();
  }

  /** Drops the TCP connection at once; 'close' follows with 1006 (or the peer's code). */
  terminate(): void {
    if (this.#readyState === WebSocket.CLOSED) return;
    if (this.#readyState === WebSocket.CONNECTING) {
      this.#abortBeforeOpen();
      return;
    }
    this.#finish(true);
  }

  pause(): void {
    if (this.#readyState === WebSocket.CONNECTING || this.#readyState === WebSocket.CLOSED) return;
    this.#paused = true;
    // While lingering nothing is delivered anyway, and reading must go on (see #linger).
    if (!this.#lingering) this.#connection?.pause();
  }

  resume(): void {
    if (this.#readyState === WebSocket.CONNECTING || this.#readyState === WebSocket.CLOSED) return;
    this.#paused = false;
    this.#connection?.resume();
  }

  #open(bufferevent: Bufferevent, client: boolean): void {
    this.#connection = new native.WebSocketConnection(
      this,
      buffereventHandles.of(bufferevent, 'bufferevent'),
      {
        client,
        maxPayload: this.#limits.maxPayload,
        maxFragments: this.#limits.maxFragments,
      },
    );
    this.#readyState = WebSocket.OPEN;
  }

  #onClientUpgraded(bufferevent: Bufferevent, protocol: string, response: UpgradeResponse): void {
    this.#abortConnect = null;
    this.#protocol = protocol;
    this.#open(bufferevent, true);
    this.emit('upgrade', response);
    if (this.#readyState === WebSocket.OPEN) this.emit('open');
  }

  #onClientFailed(error: WebSocketError, response: UpgradeResponse | null): void {
    this.#abortConnect = null;
    this.#readyState = WebSocket.CLOSING;
    if (response !== null && this.listenerCount('unexpected-response') > 0) {
      this.emit('unexpected-response', null, response);
    } else {
      this.#emitError(error);
    }
    this.#readyState = WebSocket.CLOSED;
    this.emit('close', CLOSE_ABNORMAL, Buffer.alloc(0));
  }

  /** close() or terminate() while connecting: one 'error' and one 'close', on the next tick. */
  #abortBeforeOpen(): void {
    const error = new WebSocketError(
      'WebSocket was closed before the connection was established',
      'WS_ERR_CLOSED_BEFORE_OPEN',
    );
    const abort = this.#abortConnect;
    this.#abortConnect = null;
    abort?.();
    this.#readyState = WebSocket.CLOSING;
    process.nextTick(() => this.#onClientFailed(error, null));
  }

  #onNative(event: number, a: unknown, b: unknown, c: unknown): void {
    switch (event) {
      case NativeEvent.Message: {
        const data = a as Buffer;
        this.emit('message', this.binaryType === 'arraybuffer' ? toArrayBuffer(data) : data, b as boolean);
        break;
      }
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
      case NativeEvent.Socket:
        this.#onSocketEvent(a as number, b as number);
        break;
      case NativeEvent.Drain:
        this.#onDrain();
        break;
    }
  }

  #onCloseFrame(code: number, reason: Buffer): void {
    this.#closeFrameReceived = true;
    this.#closeCode = code;
    this.#closeReason = reason;
    this.#readyState = WebSocket.CLOSING;
    // Echo the peer's code and reason (RFC 6455 §5.5.1, as ws does); an empty close frame is answered with an empty one.
    if (!this.#closeFrameSent) {
      this.#sendCloseFrame(
        code === CLOSE_NO_STATUS ? undefined : code,
        code === CLOSE_NO_STATUS ? Buffer.alloc(0) : reason,
      );
    }
    this.#closeTcpAfterHandshake();
  }

  #onProtocolError(closeCode: number, code: string, message: string): void {
    const error = new WebSocketError(message, code, closeCode);
    if (!this.#closeFrameSent) this.#sendCloseFrame(closeCode, Buffer.alloc(0));
    this.#closeCode = closeCode;
    // Failing the connection closes it (RFC 6455 §7.1.7), server or client: our close frame, then FIN.
    this.#linger(true);
    this.#emitError(error);
  }

  #onSocketEvent(events: number, errno: number): void {
    if (events & BEV.TIMEOUT) return; // no idle timeouts are set on open connections
    void errno;
    const connection = this.#connection;
    if (!(events & BEV.ERROR) && connection !== null && connection.bufferedAmount() > 0) {
      // The peer's FIN (a half-close) came before our last frames left: freeing now would drop
      // them. Send them, then close; closeTimeout bounds the wait for a peer that does not read.
      this.#finishWhenSent = true;
      connection.notifyDrain();
      this.#startCloseTimer();
      return;
    }
    // EOF or a socket error (a peer that vanished, ECONNRESET): a closure, 1006 unless the close
    // handshake told us more; not an 'error' of this socket's user.
    this.#finish(false);
  }

  #onDrain(): void {
    const callbacks = this.#drainCallbacks;
    this.#drainCallbacks = [];
    for (const callback of callbacks) callback();
    this.emit('drain');
    if (this.#finishWhenSent) this.#finish(false);
  }

  /** The close handshake is complete on our side: the server closes TCP, the client waits for it. */
  #closeTcpAfterHandshake(): void {
    this.#linger(this.#isServer);
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
    if (connection === null) return;
    this.#lingering = true;
    if (halfClose) connection.shutdownWrite();
    if (this.#paused) connection.resume(); // #paused stays as the user set it
    this.#startCloseTimer();
  }

  #sendCloseFrame(code: number | undefined, reason: Buffer): void {
    const connection = this.#connection;
    if (connection === null) return;
    let payload: Buffer = Buffer.alloc(0);
    if (code !== undefined) {
      payload = Buffer.allocUnsafe(2 + reason.length);
      payload.writeUInt16BE(code, 0);
      reason.copy(payload, 2);
    }
    this.#closeFrameSent = true;
    this.#readyState = WebSocket.CLOSING;
    connection.send(payload, Opcode.Close, true);
    this.#startCloseTimer();
  }

  #startCloseTimer(): void {
    if (this.#closeTimer !== null) return;
    this.#closeTimer = setTimeout(() => this.#finish(true), this.#limits.closeTimeout);
  }

  /** Frees the connection and reports 'close'; later on the next tick when we dropped it ourselves. */
  #finish(fromUser: boolean): void {
    if (this.#readyState === WebSocket.CLOSED) return;
    this.#readyState = WebSocket.CLOSED;
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
    this.#closeTimer = null;
    this.#connection?.close();
    this.#connection = null;
    // The peer's code, our code after a protocol error, else 1006: the handshake never completed.
    const code = this.#closeCode;
    const reason = this.#closeReason;
    const callbacks = this.#drainCallbacks;
    this.#drainCallbacks = [];
    const report = () => {
      if (callbacks.length > 0) {
        const error = this.#notOpenError();
        for (const callback of callbacks) callback(error);
      }
      this.emit('close', code, reason);
    };
    if (fromUser) process.nextTick(report);
    else report();
  }

  #sendControl(opcode: Opcode, data: WebSocketData | number | undefined, callback?: Callback): void {
    if (this.#readyState === WebSocket.CONNECTING) {
      throw new WebSocketError('WebSocket is not open: readyState 0 (CONNECTING)', 'WS_ERR_NOT_OPEN');
    }
    const payload =
      data === undefined ? Buffer.alloc(0) : toBuffer(typeof data === 'number' ? String(data) : data);
    if (payload.length > 125) {
      throw new WebSocketError(
        `a ${opcode === Opcode.Ping ? 'ping' : 'pong'} carries at most 125 bytes, not ${payload.length}`,
        'WS_ERR_CONTROL_TOO_LONG',
      );
    }
    if (this.#readyState !== WebSocket.OPEN || this.#closeFrameSent) {
      this.#failCallback(callback, this.#notOpenError());
      return;
    }
    this.#afterWrite(this.#connection!.send(payload, opcode, true), callback);
  }

  #afterWrite(queued: number, callback: Callback | undefined): SendResult {
    if (callback !== undefined) {
      if (queued === 0) process.nextTick(callback);
      else this.#drainCallbacks.push(callback);
    }
    const over = queued > this.#limits.backpressureBytes;
    if (queued > 0 && (over || callback !== undefined)) this.#connection!.notifyDrain();
    return over ? 'backpressure' : 'ok';
  }

  #failCallback(callback: Callback | undefined, error: Error): void {
    if (callback !== undefined) process.nextTick(callback, error);
  }

  #notOpenError(): WebSocketError {
    return new WebSocketError(
      `WebSocket is not open: readyState ${this.#readyState} (${STATE_NAMES[this.#readyState]})`,
      'WS_ERR_NOT_OPEN',
    );
  }

  /** 'error' is emitted only to listeners: a socket nobody listens to never crashes the process. */
  #emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

function toBuffer(data: WebSocketData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new WebSocketError(
    'data must be a string, a Buffer, a TypedArray, a DataView or an ArrayBuffer',
    'WS_ERR_INVALID_DATA',
  );
}

function toArrayBuffer(data: Buffer): ArrayBuffer {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) return data.buffer as ArrayBuffer;
  return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
}
