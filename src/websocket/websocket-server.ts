// WebSocketServer: accepts WebSocket connections on a native libevent listener, on a Node http
// server's upgrade sockets, or from sockets handed to handleUpgrade, with the options and events
// of `ws`. The handshake is checked completely (handshake.ts) before any user hook runs.
import { EventEmitter } from 'node:events';
import { closeSync } from 'node:fs';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type net from 'node:net';
import { isIP } from 'node:net';
import { BEV, EV } from '../constants.ts';
import { Bufferevent } from '../bufferevent.ts';
import { BuffereventError } from '../errors.ts';
import { Listener, type SocketAddress } from '../listener.ts';
import { WebSocketError, WebSocketTypeError, systemError } from './errors.ts';
import type { VerifyClientCallbackAsync, VerifyClientCallbackSync } from './events.ts';
import {
  acceptHeaders,
  checkUpgradeRequest,
  HandshakeRejection,
  isWebSocketUpgrade,
  rejectionResponse,
  type UpgradeRequestFields,
} from './handshake.ts';
import { lingerBufferevent, lingerNodeSocket, type Lingering } from './lingering-close.ts';
import { resolveLimits, SOCKET_FAST_PATHS, type ConnectionLimits, type ResolvedLimits } from './options.ts';
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

/**
 * The listener that takes a socket (`this`) out of `clients` at its 'close', emitted once: one
 * function for all of a server's sockets, so tracking allocates nothing per connection beyond the
 * set's entry (a closure and once()'s wrapper per socket were about 250 bytes of heap each).
 */
function untrackOnClose(clients: Set<WebSocket>): (this: WebSocket) => void {
  return function (this: WebSocket) {
    clients.delete(this);
  };
}

/** Sockets handleUpgrade was given, so a second call for one of them throws (as in ws). */
const upgradedSockets = new WeakSet<object>();

export class WebSocketServer extends EventEmitter {
  /** The open connections; undefined with `clientTracking: false` (as in ws). */
  readonly clients: Set<WebSocket>;
  readonly options: Readonly<WebSocketServerOptions>;
  readonly #limits: ResolvedLimits;
  #listener: Listener | null = null;
  #ownsListener = false;
  #httpServer: HttpServer | null = null;
  #onHttpUpgrade: ((request: IncomingMessage, socket: net.Socket, head: Buffer) => void) | null = null;
  /** Handshakes in progress, each with what ends it at once: a timer, a socket, a verifyClient wait. */
  #handshakes = new Set<() => void>();
  /** Refused connections still reading the answer. */
  #lingering = new Set<Lingering>();
  #closed = false;
  readonly #topicScope = newTopicScope();
  /** perMessageDeflate, checked; null: compression is declined. */
  readonly #deflate: DeflateOptions | null;
  /** The 'close' listener of every tracked socket (see untrackOnClose). */
  readonly #untrack: (this: WebSocket) => void;

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
    this.options = { ...options };
    this.#limits = resolveLimits(options);
    this.clients = (options.clientTracking === false ? undefined : new Set<WebSocket>()) as Set<WebSocket>;
    this.#untrack = untrackOnClose(this.clients);
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
    this.#negotiate(
      fields,
      request,
      () => abandoned.signal,
      (rejection) => {
        if (settle()) this.#refuseNodeSocket(socket, rejection, request);
      },
      (responseHeaders, protocol, deflate) => {
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
    );
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
    for (const lingering of [...this.#lingering]) lingering.abort();
    if (callback !== undefined) this.once('close', callback);
    process.nextTick(() => this.emit('close'));
  }

  /** A connection from the native listener: read the request head, then upgrade or hand it off. */
  #accept(fd: number, peer: SocketAddress): void {
    const bufferevent = Bufferevent.socket({ fd, ...SOCKET_FAST_PATHS });
    const limits = this.#limits;
    const httpFallback = this.options.httpFallback;
    // Once finished (answered, handed on, timed out, gone, or the server closed) every later
    // callback, verifyClient's done() included, does nothing.
    let finished = false;
    // Made only when verifyClient asks for its signal: most servers have no verifyClient.
    let abandoned: AbortController | undefined;
    const signal = () => (abandoned ??= new AbortController()).signal;
    const end = () => {
      finished = true;
      clearTimeout(timer);
      this.#handshakes.delete(cancel);
    };
    const cancel = () => {
      if (finished) return;
      end();
      bufferevent.free();
      abandoned?.abort(handshakeAbandoned());
    };
    this.#handshakes.add(cancel);
    const timer = setTimeout(() => {
      cancel();
      this.#reportClientError(
        new WebSocketError(
          `the opening handshake took longer than ${limits.handshakeTimeout} ms`,
          'WS_ERR_HANDSHAKE_TIMEOUT',
        ),
        null,
      );
    }, limits.handshakeTimeout);
    const refuse = (rejection: HandshakeRejection, request: AnyRequest | null) => {
      if (finished) return;
      end();
      this.#reportClientError(rejection, request);
      this.#refuseBufferevent(bufferevent, rejection);
    };
    bufferevent.setCallbacks({
      read: () => {
        if (finished) return;
        let read: ReturnType<typeof readUpgradeRequest>;
        try {
          // Without httpFallback the head is consumed at once; with it, only once it is an upgrade.
          read = readUpgradeRequest(bufferevent, limits.maxHeaderSize, peer, httpFallback === undefined);
        } catch (error) {
          refuse(error as HandshakeRejection, null);
          return;
        }
        if (read === null) return; // the head is not complete yet
        const { request, headLength } = read;
        if (httpFallback !== undefined) {
          if (!isWebSocketUpgrade(request.headers)) {
            end();
            handToHttpServer(bufferevent, httpFallback);
            return;
          }
          bufferevent.input.drain(headLength);
        }
        // True while an asynchronous verifyClient decides: reading is stopped meanwhile, and what
        // arrives waits in the kernel.
        let waiting = false;
        try {
          this.#negotiate(
            request,
            request,
            signal,
            (rejection) => refuse(rejection, request),
            (responseHeaders, protocol, deflate) => {
              if (finished) return; // timed out or the server closed while verifyClient was deciding
              end();
              bufferevent.setCallbacks({});
              if (waiting) bufferevent.enable(EV.READ);
              this.#complete(bufferevent, responseHeaders, protocol, deflate, request, (ws) =>
                this.emit('connection', ws, request),
              );
            },
          );
        } finally {
          // Also when a hook threw: the head is consumed, so reading must not parse on.
          if (!finished) {
            waiting = true;
            bufferevent.disable(EV.READ);
          }
        }
      },
      event: (_bev, events) => {
        if (events & (BEV.EOF | BEV.ERROR)) cancel(); // the client left during the handshake
      },
    });
    bufferevent.enable(EV.READ | EV.WRITE);
  }

  /** The checks, verifyClient and handleProtocols; then `accept` with the 101's header lines. */
  #negotiate(
    fields: UpgradeRequestFields,
    request: AnyRequest,
    signal: () => AbortSignal,
    refuse: (rejection: HandshakeRejection) => void,
    accept: (responseHeaders: string[], protocol: string, deflate: CodecSettings | null) => void,
  ): void {
    let key: string;
    let protocols: Set<string>;
    try {
      ({ key, protocols } = checkUpgradeRequest(fields, this.options.path));
    } catch (error) {
      refuse(error as HandshakeRejection);
      return;
    }
    const choose = () => {
      let protocol: string | undefined;
      if (protocols.size > 0) {
        const chosen = this.options.handleProtocols
          ? this.options.handleProtocols(protocols, request)
          : protocols.values().next().value;
        protocol = chosen === false || chosen === undefined ? undefined : chosen;
      }
      const headers = acceptHeaders(key, protocol);
      const deflate = negotiateAsServer(fields.headers['sec-websocket-extensions'], this.#deflate);
      if (deflate.agreement === null) {
        accept(headers, protocol ?? '', null);
        return;
      }
      headers.push(`Sec-WebSocket-Extensions: ${deflate.response}`);
      accept(headers, protocol ?? '', codecSettings(deflate.agreement, 'server', this.#deflate!));
    };
    const verify = this.options.verifyClient;
    if (verify === undefined) {
      choose();
      return;
    }
    const headers = fields.headers;
    const info: VerifyClientInfo = {
      origin: (headers.origin ?? headers['sec-websocket-origin']) as string | undefined,
      secure: false,
      req: request,
      signal: signal(),
    };
    const refuseVerify = (code = 401, message?: string, extra: Record<string, string> = {}) =>
      refuse(
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
          if (ok) choose();
          else refuseVerify(code, message, extra);
        },
      );
    } else if ((verify as (info: VerifyClientInfo) => boolean)(info)) {
      choose();
    } else {
      refuseVerify();
    }
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
    const head = ['HTTP/1.1 101 Switching Protocols', ...responseHeaders];
    this.emit('headers', head, request);
    bufferevent.write(`${head.join('\r\n')}\r\n\r\n`);
    const ws = new WebSocket(null);
    ws[attachServerSide](bufferevent, protocol, this.#limits, this.#topicScope, deflate);
    if (this.clients !== undefined) {
      this.clients.add(ws);
      ws.on('close', this.#untrack);
    }
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
    return Math.min(REFUSAL_LINGER_MS, this.#limits.closeTimeout);
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
