// WebSocketServer: accepts WebSocket connections on a native libevent listener, on a Node http
// server's upgrade sockets, or from sockets handed to handleUpgrade, with the options and events
// of `ws`. The handshake is checked completely (handshake.ts) before any user hook runs.
import { EventEmitter } from 'node:events';
import { closeSync } from 'node:fs';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type net from 'node:net';
import { isIP } from 'node:net';
import { BEV, EV } from '../constants.ts';
import { Bufferevent, type BuffereventCallbacks } from '../bufferevent.ts';
import { BuffereventError } from '../errors.ts';
import { Listener, type SocketAddress } from '../listener.ts';
import { WebSocketError, WebSocketTypeError, systemError } from './errors.ts';
import type { VerifyClientCallbackAsync, VerifyClientCallbackSync } from './events.ts';
import {
  acceptHeaders,
  checkUpgradeRequest,
  HandshakeRejection,
  type AcceptedUpgrade,
  isWebSocketUpgrade,
  rejectionResponse,
  type UpgradeRequestFields,
} from './handshake.ts';
import { burstMemory } from './burst-memory.ts';
import { DeadlineQueue } from './deadline-queue.ts';
import { lingerBufferevent, lingerNodeSocket, type Lingering } from './lingering-close.ts';
import { resolveLimits, SOCKET_FAST_PATHS, type ConnectionLimits, type SocketSettings } from './options.ts';
import { handToHttpServer, takeOverNodeSocket } from './socket-handoff.ts';
import { readUpgradeRequest, type UpgradeRequest } from './upgrade-request.ts';
import { newTopicScope, publish, type PublishOptions, type PublishResult } from './topics.ts';
import type { WebSocketData } from './message-data.ts';
import { attachServerSide, WebSocket } from './websocket.ts';
import { codecSettings, type CodecSettings } from './deflate/agreement.ts';
import { negotiateAsServer } from './deflate/negotiation.ts';
import {
  resolveDeflateOptions,
  type DeflateOptions,
  type PerMessageDeflateOptions,
} from './deflate/options.ts';

export type AnyRequest = IncomingMessage | UpgradeRequest;

export interface VerifyClientInfo {
  origin: string | undefined;
  secure: boolean;
  req: AnyRequest;
  /**
   * Aborted when the handshake ends before verifyClient answered (its deadline passed, the server
   * closed, the client left), so an async verifyClient can stop its work; its answer is then ignored.
   * Not in ws. Always set by this server; optional in the type so that callbacks annotated with ws's
   * info type still fit.
   */
  signal?: AbortSignal;
}

export type VerifyClientDone = (
  result: boolean,
  code?: number,
  message?: string,
  headers?: Record<string, string>,
) => void;

export interface WebSocketServerOptions extends ConnectionLimits {
  port?: number;
  host?: string;
  backlog?: number;
  listener?: Listener;
  server?: HttpServer;
  httpFallback?: HttpServer;
  noServer?: boolean;
  path?: string;
  clientTracking?: boolean;
  /**
   * Once a burst of handshakes is over, ask V8 for one memory-reducing collection when the burst
   * grew its young generation (see src/websocket/burst-memory.ts). On unless false.
   */
  reduceMemoryAfterBursts?: boolean;
  /** permessage-deflate (RFC 7692): off by default, as in ws; true for the defaults. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  handleProtocols?: (protocols: Set<string>, request: AnyRequest) => string | false;
  verifyClient?: VerifyClientCallbackSync | VerifyClientCallbackAsync;
}

type ConnectionCallback = (ws: WebSocket, request: AnyRequest) => void;

function handshakeAbandoned(): WebSocketError {
  return new WebSocketError('the handshake ended before verifyClient answered', 'WS_ERR_HANDSHAKE_ABANDONED');
}

/** How long a refused connection may take to read our answer and close (or closeTimeout if shorter). */
const REFUSAL_LINGER_MS = 2000;

const SWITCHING_PROTOCOLS = 'HTTP/1.1 101 Switching Protocols';
const NO_CALLBACKS: BuffereventCallbacks = Object.freeze({});

/** How a handshake's negotiation ends: refused with an HTTP answer, or accepted with a 101. */
interface Negotiation {
  /** Aborted when the handshake ends before an asynchronous verifyClient answered. */
  signal(): AbortSignal;
  refuse(rejection: HandshakeRejection): void;
  accept(responseHeaders: string[], protocol: string, deflate: CodecSettings | null): void;
}

/** The server's side of its pending handshakes' negotiations. */
interface HandshakeHost {
  refuse(handshake: PendingHandshake, rejection: HandshakeRejection): void;
  accept(
    handshake: PendingHandshake,
    responseHeaders: string[],
    protocol: string,
    deflate: CodecSettings | null,
  ): void;
}

/**
 * A connection from the native listener while its opening handshake is under way: its state in
 * one object (a burst of handshakes is a burst of garbage for V8's young generation otherwise).
 */
class PendingHandshake implements Negotiation {
  /** Answered, handed on, timed out, gone, or the server closed: every later callback does nothing. */
  finished = false;
  /** An asynchronous verifyClient is deciding, and reading is stopped meanwhile. */
  waiting = false;
  /** Once its head was read. */
  request: UpgradeRequest | null = null;
  /** Made only when verifyClient asks for its signal: most servers have no verifyClient. */
  #abandoned: AbortController | null = null;
  readonly bufferevent: Bufferevent;
  readonly peer: SocketAddress;
  readonly #host: HandshakeHost;

  constructor(bufferevent: Bufferevent, peer: SocketAddress, host: HandshakeHost) {
    this.bufferevent = bufferevent;
    this.peer = peer;
    this.#host = host;
  }

  signal(): AbortSignal {
    return (this.#abandoned ??= new AbortController()).signal;
  }

  abandon(): void {
    this.#abandoned?.abort(handshakeAbandoned());
  }

  refuse(rejection: HandshakeRejection): void {
    this.#host.refuse(this, rejection);
  }

  accept(responseHeaders: string[], protocol: string, deflate: CodecSettings | null): void {
    this.#host.accept(this, responseHeaders, protocol, deflate);
  }
}

/** Sockets handleUpgrade was given, so a second call for one of them throws (as in ws). */
const upgradedSockets = new WeakSet<object>();

export class WebSocketServer extends EventEmitter {
  /** The open connections; undefined with `clientTracking: false` (as in ws). */
  readonly clients: Set<WebSocket>;
  readonly options: Readonly<WebSocketServerOptions>;
  /** The limits, and the topic scope: what each socket of this server shares. */
  readonly #settings: SocketSettings;
  #listener: Listener | null = null;
  #ownsListener = false;
  #httpServer: HttpServer | null = null;
  #onHttpUpgrade: ((request: IncomingMessage, socket: net.Socket, head: Buffer) => void) | null = null;
  /** handleUpgrade's handshakes waiting for verifyClient, each with what ends it at once. */
  #handshakes = new Set<() => void>();
  /** The native listener's handshakes in progress, oldest first, each with its deadline. */
  readonly #pending: DeadlineQueue<PendingHandshake>;
  /** What pending handshakes call back: one object per server rather than closures per connection. */
  readonly #handshakeHost: HandshakeHost = {
    refuse: (handshake, rejection) => this.#refuseHandshake(handshake, rejection),
    accept: (handshake, headers, protocol, deflate) =>
      this.#acceptHandshake(handshake, headers, protocol, deflate),
  };
  readonly #emitConnection: ConnectionCallback = (ws, request) => this.emit('connection', ws, request);
  /** Refused connections still reading the answer. */
  #lingering = new Set<Lingering>();
  #closed = false;
  /** Whether accepted handshakes are reported to burstMemory (reduceMemoryAfterBursts). */
  readonly #reportsBursts: boolean;
  readonly #topicScope = newTopicScope();
  /** perMessageDeflate, checked; null: compression is declined. */
  readonly #deflate: DeflateOptions | null;
  /** The 'close' listener of every tracked socket (see untrackOnClose). */

  constructor(options: WebSocketServerOptions, callback?: () => void) {
    super();
    if (typeof options !== 'object' || options === null) {
      throw new WebSocketError('options must be an object', 'WS_ERR_INVALID_OPTION');
    }
    const modes = [
      options.port !== undefined,
      options.listener !== undefined,
      options.server !== undefined,
      options.noServer === true,
    ];
    if (modes.filter(Boolean).length !== 1) {
      throw new WebSocketTypeError(
        'exactly one of the options port, listener, server and noServer must be given',
        'WS_ERR_INVALID_OPTION',
      );
    }
    this.#deflate = resolveDeflateOptions(options.perMessageDeflate, 'server');
    if (options.httpFallback !== undefined && options.port === undefined && options.listener === undefined) {
      throw new WebSocketError('httpFallback needs the port or listener option', 'WS_ERR_INVALID_OPTION');
    }
    const reduceMemory = options.reduceMemoryAfterBursts;
    if (reduceMemory !== undefined && typeof reduceMemory !== 'boolean') {
      throw new WebSocketTypeError(
        `reduceMemoryAfterBursts must be true or false, not ${typeof reduceMemory}`,
        'WS_ERR_INVALID_OPTION',
      );
    }
    this.options = { ...options };
    this.#reportsBursts = reduceMemory !== false;
    this.clients = (options.clientTracking === false ? undefined : new Set<WebSocket>()) as Set<WebSocket>;
    // Each socket leaves `clients` itself at its 'close' (see SocketSettings.clients).
    this.#settings = { ...resolveLimits(options), topicScope: this.#topicScope, clients: this.clients };
    this.#pending = new DeadlineQueue(this.#settings.handshakeTimeout, (handshake) =>
      this.#handshakeTimedOut(handshake),
    );
    if (callback !== undefined) this.once('listening', callback);
    if (options.port !== undefined) {
      const listening = listen(options.host, options.port, options.backlog, (fd, peer) =>
        this.#accept(fd, peer),
      );
      if (listening instanceof Error) {
        // As ws (whose http server emits it): 'error' on the next tick, and no 'listening'.
        process.nextTick(() => this.emit('error', listening));
        return;
      }
      this.#listener = listening;
      this.#ownsListener = true;
      process.nextTick(() => this.emit('listening'));
    } else if (options.listener !== undefined) {
      this.#listener = options.listener.setAcceptCallback((fd, peer) => this.#accept(fd, peer));
      process.nextTick(() => this.emit('listening'));
    } else if (options.server !== undefined) {
      const server = options.server;
      this.#httpServer = server;
      this.#onHttpUpgrade = (request, socket, head) => {
        if (!this.shouldHandle(request)) {
          this.#refuseNodeSocket(
            socket,
            new HandshakeRejection(400, `no WebSocket is served at ${request.url}`, 'WS_ERR_PATH'),
          );
          return;
        }
        this.handleUpgrade(request, socket, head, (ws) => this.emit('connection', ws, request));
      };
      server.on('upgrade', this.#onHttpUpgrade);
      if (server.listening) process.nextTick(() => this.emit('listening'));
      else server.once('listening', () => this.emit('listening'));
    }
  }

  /** Where the native listener (or the http server) listens. */
  address(): SocketAddress | ReturnType<HttpServer['address']> | null {
    if (this.#listener !== null) return this.#listener.address;
    if (this.#httpServer !== null) return this.#httpServer.address();
    return null;
  }

  /** True when `request` is for this server's path (or any path when none was set). */
  shouldHandle(request: { url?: string | undefined }): boolean {
    if (this.options.path === undefined) return true;
    return (request.url ?? '').split('?')[0] === this.options.path;
  }

  /**
   * Takes an upgrade socket from a Node http server ('upgrade' event) over. `callback(ws, request)`
   * runs once the handshake is accepted; refused handshakes are answered and closed here.
   */
  handleUpgrade(
    request: IncomingMessage,
    socket: net.Socket,
    head: Buffer,
    callback: ConnectionCallback,
  ): void {
    if (upgradedSockets.has(socket)) {
      throw new WebSocketError(
        'handleUpgrade() was called more than once with the same socket (is another upgrade listener handling it too?)',
        'WS_ERR_HANDLE_UPGRADE_TWICE',
      );
    }
    upgradedSockets.add(socket);
    if (this.#closed) {
      this.#refuseNodeSocket(
        socket,
        new HandshakeRejection(503, 'the server is closed', 'WS_ERR_SERVER_NOT_RUNNING'),
      );
      return;
    }
    const fields: UpgradeRequestFields = {
      method: request.method ?? '',
      url: request.url ?? '/',
      httpVersion: request.httpVersion,
      headers: request.headers,
    };
    // Until verifyClient answers, close() may end the handshake; its answer is then ignored.
    let finished = false;
    const abandoned = new AbortController();
    const settle = (): boolean => {
      if (finished) return false;
      finished = true;
      this.#handshakes.delete(cancel);
      return true;
    };
    const cancel = () => {
      if (!settle()) return;
      socket.destroy();
      abandoned.abort(handshakeAbandoned());
    };
    this.#handshakes.add(cancel);
    this.#negotiate(fields, request, {
      signal: () => abandoned.signal,
      refuse: (rejection) => {
        if (settle()) this.#refuseNodeSocket(socket, rejection, request);
      },
      accept: (responseHeaders, protocol, deflate) => {
        if (!settle()) return;
        let bufferevent: Bufferevent;
        try {
          bufferevent = takeOverNodeSocket(socket, head);
        } catch (error) {
          const refusal = new HandshakeRejection(
            500,
            (error as Error).message,
            (error as BuffereventError).code ?? 'WS_ERR_TAKEOVER',
          );
          this.#refuseNodeSocket(socket, refusal, request);
          return;
        }
        this.#complete(bufferevent, responseHeaders, protocol, deflate, request, callback);
      },
    });
  }

  /**
   * Sends one message to every socket of this server subscribed to `topic`: framed once, written
   * from native code with no JavaScript per subscriber. A subscriber with more than its
   * backpressureBytes queued is skipped (and counts it in skippedPublishes); closing sockets are
   * passed over. Bypasses each socket's queue behind a Blob being read.
   */
  publish(topic: string, data: WebSocketData | number, options?: PublishOptions): PublishResult {
    return publish(this.#topicScope, topic, data, options);
  }

  /**
   * Stops accepting; open connections stay open (as in ws 8). Handshakes in progress and refused
   * connections still lingering are closed at once, so nothing of the server keeps the process alive.
   */
  close(callback?: (error?: Error) => void): void {
    if (this.#closed) {
      if (callback !== undefined) {
        process.nextTick(
          callback,
          new WebSocketError('the server is not running', 'WS_ERR_SERVER_NOT_RUNNING'),
        );
      }
      return;
    }
    this.#closed = true;
    if (this.#ownsListener) this.#listener?.close();
    // A listener the user lent keeps listening; what it accepts from now on is not ours.
    else if (!(this.#listener?.closed ?? true)) this.#listener?.setAcceptCallback((fd) => closeSync(fd));
    this.#listener = null;
    if (this.#httpServer !== null && this.#onHttpUpgrade !== null) {
      this.#httpServer.removeListener('upgrade', this.#onHttpUpgrade);
    }
    for (const cancel of [...this.#handshakes]) cancel();
    for (const handshake of this.#pending.takeAll()) this.#cancelHandshake(handshake);
    for (const lingering of [...this.#lingering]) lingering.abort();
    if (callback !== undefined) this.once('close', callback);
    process.nextTick(() => this.emit('close'));
  }

  /** A connection from the native listener: read the request head, then upgrade or hand it off. */
  #accept(fd: number, peer: SocketAddress): void {
    const bufferevent = Bufferevent.socket({ fd, ...SOCKET_FAST_PATHS });
    const handshake = new PendingHandshake(bufferevent, peer, this.#handshakeHost);
    this.#pending.add(handshake);
    bufferevent.setCallbacks({
      read: () => this.#readHandshake(handshake),
      event: (_bev, events) => {
        if (events & (BEV.EOF | BEV.ERROR)) this.#cancelHandshake(handshake); // the client left
      },
    });
    bufferevent.enable(EV.READ | EV.WRITE);
  }

  #readHandshake(handshake: PendingHandshake): void {
    if (handshake.finished) return;
    const bufferevent = handshake.bufferevent;
    const httpFallback = this.options.httpFallback;
    let read: ReturnType<typeof readUpgradeRequest>;
    try {
      // Without httpFallback the head is consumed at once; with it, only once it is an upgrade.
      read = readUpgradeRequest(
        bufferevent,
        this.#settings.maxHeaderSize,
        handshake.peer,
        httpFallback === undefined,
      );
    } catch (error) {
      this.#refuseHandshake(handshake, error as HandshakeRejection);
      return;
    }
    if (read === null) return; // the head is not complete yet
    const { request, headLength } = read;
    if (httpFallback !== undefined) {
      if (!isWebSocketUpgrade(request.headers)) {
        this.#endHandshake(handshake);
        handToHttpServer(bufferevent, httpFallback);
        return;
      }
      bufferevent.input.drain(headLength);
    }
    handshake.request = request;
    try {
      this.#negotiate(request, request, handshake);
    } finally {
      // Also when a hook threw: the head is consumed, so reading must not parse on. An
      // asynchronous verifyClient decides meanwhile, and what arrives waits in the kernel.
      if (!handshake.finished) {
        handshake.waiting = true;
        bufferevent.disable(EV.READ);
      }
    }
  }

  /** From here on every callback of the handshake, verifyClient's done() included, does nothing. */
  #endHandshake(handshake: PendingHandshake): void {
    handshake.finished = true;
    this.#pending.delete(handshake);
  }

  /** The client left, or the server closed. */
  #cancelHandshake(handshake: PendingHandshake): void {
    if (handshake.finished) return;
    this.#endHandshake(handshake);
    handshake.bufferevent.free();
    handshake.abandon();
  }

  #handshakeTimedOut(handshake: PendingHandshake): void {
    this.#cancelHandshake(handshake);
    this.#reportClientError(
      new WebSocketError(
        `the opening handshake took longer than ${this.#settings.handshakeTimeout} ms`,
        'WS_ERR_HANDSHAKE_TIMEOUT',
      ),
      null,
    );
  }

  #refuseHandshake(handshake: PendingHandshake, rejection: HandshakeRejection): void {
    if (handshake.finished) return;
    this.#endHandshake(handshake);
    this.#reportClientError(rejection, handshake.request);
    this.#refuseBufferevent(handshake.bufferevent, rejection);
  }

  #acceptHandshake(
    handshake: PendingHandshake,
    responseHeaders: string[],
    protocol: string,
    deflate: CodecSettings | null,
  ): void {
    if (handshake.finished) return; // timed out or the server closed while verifyClient was deciding
    this.#endHandshake(handshake);
    const bufferevent = handshake.bufferevent;
    bufferevent.setCallbacks(NO_CALLBACKS);
    if (handshake.waiting) bufferevent.enable(EV.READ);
    this.#complete(bufferevent, responseHeaders, protocol, deflate, handshake.request!, this.#emitConnection);
  }

  /** The checks, verifyClient and handleProtocols; then `party.accept` with the 101's header lines. */
  #negotiate(fields: UpgradeRequestFields, request: AnyRequest, party: Negotiation): void {
    let accepted: AcceptedUpgrade;
    try {
      accepted = checkUpgradeRequest(fields, this.options.path);
    } catch (error) {
      party.refuse(error as HandshakeRejection);
      return;
    }
    const verify = this.options.verifyClient;
    if (verify === undefined) {
      this.#choose(fields, request, accepted, party);
      return;
    }
    const headers = fields.headers;
    const info: VerifyClientInfo = {
      origin: (headers.origin ?? headers['sec-websocket-origin']) as string | undefined,
      secure: false,
      req: request,
      signal: party.signal(),
    };
    const refuseVerify = (code = 401, message?: string, extra: Record<string, string> = {}) =>
      party.refuse(
        new HandshakeRejection(
          code,
          message ?? 'the connection was refused by verifyClient',
          'WS_ERR_VERIFY_CLIENT',
          extra,
        ),
      );
    if (verify.length >= 2) {
      let answered = false;
      (verify as (info: VerifyClientInfo, done: VerifyClientDone) => void)(
        info,
        (ok, code, message, extra) => {
          if (answered) return;
          answered = true;
          if (ok) this.#choose(fields, request, accepted, party);
          else refuseVerify(code, message, extra);
        },
      );
    } else if ((verify as (info: VerifyClientInfo) => boolean)(info)) {
      this.#choose(fields, request, accepted, party);
    } else {
      refuseVerify();
    }
  }

  /** The subprotocol (handleProtocols) and the compression agreement, for a request verified. */
  #choose(
    fields: UpgradeRequestFields,
    request: AnyRequest,
    accepted: AcceptedUpgrade,
    party: Negotiation,
  ): void {
    let protocol: string | undefined;
    const protocols = accepted.protocols;
    if (protocols !== null) {
      const chosen = this.options.handleProtocols
        ? this.options.handleProtocols(protocols, request)
        : protocols.values().next().value;
      protocol = chosen === false || chosen === undefined ? undefined : chosen;
    }
    const headers = acceptHeaders(accepted.key, protocol);
    const deflate = negotiateAsServer(fields.headers['sec-websocket-extensions'], this.#deflate);
    if (deflate.agreement === null) {
      party.accept(headers, protocol ?? '', null);
      return;
    }
    headers.push(`Sec-WebSocket-Extensions: ${deflate.response}`);
    party.accept(headers, protocol ?? '', codecSettings(deflate.agreement, 'server', this.#deflate!));
  }

  /** Writes the 101 (after 'headers' listeners had their say) and opens the WebSocket. */
  #complete(
    bufferevent: Bufferevent,
    responseHeaders: string[],
    protocol: string,
    deflate: CodecSettings | null,
    request: AnyRequest,
    callback: ConnectionCallback,
  ): void {
    // As ws: the status line first, then the header lines; listeners may change or add lines.
    let head: string;
    if (this.listenerCount('headers') > 0) {
      const lines = [SWITCHING_PROTOCOLS, ...responseHeaders];
      this.emit('headers', lines, request);
      head = lines.join('\r\n');
    } else {
      head = `${SWITCHING_PROTOCOLS}\r\n${responseHeaders.join('\r\n')}`;
    }
    bufferevent.write(`${head}\r\n\r\n`);
    const ws = new WebSocket(null);
    ws[attachServerSide](bufferevent, protocol, this.#settings, deflate);
    if (this.clients !== undefined) this.clients.add(ws);
    if (this.#reportsBursts) burstMemory.noteHandshake();
    callback(ws, request);
  }

  /** Answers a refused handshake and closes gracefully (lingering-close.ts). */
  #refuseBufferevent(bufferevent: Bufferevent, rejection: HandshakeRejection): void {
    const lingering = lingerBufferevent(bufferevent, rejectionResponse(rejection), this.#lingerMs(), () =>
      this.#lingering.delete(lingering),
    );
    this.#lingering.add(lingering);
  }

  /** The same for a Node socket; `request` given: reported as 'wsClientError'. */
  #refuseNodeSocket(socket: net.Socket, rejection: HandshakeRejection, request?: AnyRequest): void {
    if (request !== undefined) this.#reportClientError(rejection, request);
    const lingering = lingerNodeSocket(socket, rejectionResponse(rejection), this.#lingerMs(), () =>
      this.#lingering.delete(lingering),
    );
    if (!this.#closed) this.#lingering.add(lingering);
  }

  #lingerMs(): number {
    return Math.min(REFUSAL_LINGER_MS, this.#settings.closeTimeout);
  }

  /** Nothing is reported after close(): 'close' is the server's last event. */
  #reportClientError(error: Error, request: AnyRequest | null): void {
    if (this.#closed) return;
    if (this.listenerCount('wsClientError') > 0) this.emit('wsClientError', error, request);
  }
}

/** A listening Listener, or the error to emit: Node's shape (`listen EADDRINUSE: … ::1:8080`). */
function listen(
  host: string | undefined,
  port: number,
  backlog: number | undefined,
  onAccept: (fd: number, peer: SocketAddress) => void,
): Listener | WebSocketError {
  const literal = host === undefined ? '::' : host === 'localhost' ? '127.0.0.1' : host;
  if (isIP(literal) === 0) {
    throw new WebSocketError(
      `host must be a numeric address or 'localhost', got ${JSON.stringify(host)}`,
      'WS_ERR_INVALID_OPTION',
    );
  }
  const attempt = (address: string): Listener | BuffereventError => {
    try {
      return Listener.listen({ host: address, port, backlog: backlog ?? 511 }, onAccept);
    } catch (error) {
      // Arguments (a port out of range) are the caller's mistake: thrown, not emitted.
      if (!(error instanceof BuffereventError) || error.code !== 'ERR_LISTEN') throw error;
      return error;
    }
  };
  let result = attempt(literal);
  let tried = literal;
  // No IPv6 on this machine: all IPv4 interfaces instead.
  if (
    result instanceof BuffereventError &&
    host === undefined &&
    result.systemCode !== 'EADDRINUSE' &&
    result.systemCode !== 'EACCES'
  ) {
    tried = '0.0.0.0';
    result = attempt(tried);
  }
  if (!(result instanceof BuffereventError)) return result;
  const code = result.systemCode ?? result.code;
  return systemError('listen', code, result.errno, { address: tried, port }, ':');
}
