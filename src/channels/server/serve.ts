// serve(): Daphne's role. One native listener on one port: WebSocket upgrades are routed to the
// application's consumers (404 for no route, the middleware's refusal, 500 if preparing the scope
// fails) and run by ConsumerConnection; every other request goes to the application's `http` entry
// through a Node http.Server (the WebSocket server's httpFallback).
import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { closeSync } from 'node:fs';
import { BuffereventError } from '../../errors.ts';
import { Listener, type SocketAddress } from '../../listener.ts';
import {
  WebSocketServer,
  type AnyRequest,
  type VerifyClientDone,
  type VerifyClientInfo,
} from '../../websocket/websocket-server.ts';
import type { WebSocket } from '../../websocket/websocket.ts';
import { ConsumerConnection } from '../consumer/consumer-connection.ts';
import { isConsumerClass } from '../consumer/websocket-consumer.ts';
import type { ChannelLayer } from '../layers/channel-layer.ts';
import { InMemoryChannelLayer } from '../layers/in-memory.ts';
import { safeLog } from '../logger.ts';
import { prepareScope, refusalOf } from '../middleware/prepare.ts';
import {
  assertApplication,
  resolveApplication,
  resolveWebSocket,
  supportsProtocol,
  type Application,
} from '../routing.ts';
import { requestScope } from './request-scope.ts';
import { resolveServeOptions, type ResolvedServeOptions, type ServeOptions } from './serve-options.ts';

export type { ServeOptions } from './serve-options.ts';

export interface ChannelsServerStats {
  /** Consumers running: connecting, open, or finishing their disconnect. */
  consumers: number;
  /** Page (HTTP) connections open. */
  pageConnections: number;
  /** Handshakes refused before a consumer existed (no route, middleware refusal, failure, full). */
  refusedHandshakes: number;
}

export class ChannelsServer {
  readonly channelLayer: ChannelLayer | null;
  readonly webSocketServer: WebSocketServer;
  readonly httpServer: HttpServer;
  readonly #options: ResolvedServeOptions;
  readonly #ownsLayer: boolean;
  readonly #connections = new Set<ConsumerConnection>();
  /** Handshake requests whose consumer accepted, until the server hands over the socket. */
  readonly #accepting = new WeakMap<
    AnyRequest,
    { connection: ConsumerConnection; subprotocol: string | undefined }
  >();
  readonly #removeTarget: () => void;
  /** The listener serve() made for reusePort (the WebSocketServer only borrows it). */
  readonly #ownListener: Listener | null;
  #refused = 0;
  #pageConnections = 0;
  #closing: Promise<void> | null = null;

  /** @internal Use serve(). */
  constructor(
    application: Application,
    options: ResolvedServeOptions,
    layer: ChannelLayer | null,
    ownsLayer: boolean,
  ) {
    this.#options = options;
    this.channelLayer = layer;
    this.#ownsLayer = ownsLayer;
    this.httpServer = createServer((request, response) => this.#http(application, request, response));
    this.httpServer.on('connection', (socket: import('node:net').Socket) => {
      if (this.#connectionCount() >= options.maxConnections) {
        socket.destroy();
        return;
      }
      this.#pageConnections++;
      socket.once('close', () => this.#pageConnections--);
    });
    // With reusePort the listener is made here (the WebSocketServer's own has no such option);
    // Listener.listen throws ERR_LISTEN synchronously, which serve() reports as its rejection.
    this.#ownListener = options.reusePort
      ? Listener.listen(
          {
            host: options.host,
            port: options.port,
            reusePort: true,
            ...(options.backlog === undefined ? {} : { backlog: options.backlog }),
          },
          (fd) => closeSync(fd),
        )
      : null;
    this.webSocketServer = new WebSocketServer({
      ...(this.#ownListener === null
        ? {
            host: options.host,
            port: options.port,
            ...(options.backlog === undefined ? {} : { backlog: options.backlog }),
          }
        : { listener: this.#ownListener }),
      httpFallback: this.httpServer,
      clientTracking: false,
      ...options.limits,
      perMessageDeflate: options.perMessageDeflate,
      handleProtocols: (_offered, request) => this.#accepting.get(request)?.subprotocol ?? false,
      verifyClient: (info: VerifyClientInfo, done: VerifyClientDone) =>
        this.#handshake(application, info, done),
    });
    this.webSocketServer.on('connection', (socket: WebSocket, request: AnyRequest) =>
      this.#opened(socket, request),
    );
    this.webSocketServer.on('wsClientError', () => void this.#refused++);
    this.#removeTarget = layer === null ? () => {} : layer.localSockets.addTarget(this.webSocketServer);
  }

  /** Where the listener listens. */
  address(): SocketAddress {
    return this.webSocketServer.address() as SocketAddress;
  }

  get port(): number {
    return this.address().port;
  }

  stats(): ChannelsServerStats {
    return {
      consumers: this.#connections.size,
      pageConnections: this.#pageConnections,
      refusedHandshakes: this.#refused,
    };
  }

  #connectionCount(): number {
    return this.#connections.size + this.#pageConnections;
  }

  /**
   * Stops accepting, refuses handshakes in progress (503), closes every WebSocket with 1001 and
   * resolves once every consumer's disconnect ran (or after `shutdownTimeout`, logging the ones that
   * did not finish). Page connections are closed too. A layer serve() created is closed.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.webSocketServer.close();
    this.#ownListener?.close();
    for (const connection of this.#connections) connection.shutdown(1001, 'server shutting down');
    this.httpServer.closeAllConnections();
    const finished = Promise.all([...this.#connections].map((connection) => connection.finished));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, this.#options.shutdownTimeout, 'timeout');
    });
    if ((await Promise.race([finished, timedOut])) === 'timeout') {
      safeLog(
        this.#options.logger,
        'warn',
        `close(): ${this.#connections.size} consumer(s) had not finished after ${this.#options.shutdownTimeout} ms`,
        {
          consumers: [...this.#connections].map((connection) => connection.consumer.constructor.name),
        },
      );
      for (const connection of this.#connections) connection.socket?.terminate();
    }
    clearTimeout(timer);
    this.#removeTarget();
    if (this.#ownsLayer) await this.channelLayer?.close();
  }

  #handshake(application: Application, info: VerifyClientInfo, done: VerifyClientDone): void {
    const request = info.req;
    const signal = info.signal!;
    // Counted by the 'wsClientError' listener, which every refused handshake reaches.
    const refuse = (status: number, reason: string) => done(false, status, reason);
    if (this.#closing !== null) return refuse(503, 'the server is shutting down');
    if (this.#connectionCount() >= this.#options.maxConnections) return refuse(503, 'the server is full');
    const scope = requestScope('websocket', request, this.#scopeContext());
    let resolved;
    try {
      resolved = resolveWebSocket(application, scope);
    } catch (error) {
      this.#log('error', 'routing failed; answering 500', scope.path, error);
      return refuse(500, 'internal error');
    }
    if (resolved === null) return refuse(404, `no WebSocket route matches ${scope.path ?? ''}`);
    const refusal = refusalOf(resolved);
    if (refusal !== undefined) return refuse(refusal.status, refusal.reason);
    const Consumer = resolved.app;
    if (!isConsumerClass(Consumer)) {
      this.#log(
        'error',
        `the route's application is not a WebsocketConsumer subclass (${Consumer.name || 'anonymous'}); answering 500`,
        scope.path,
      );
      return refuse(500, 'internal error');
    }
    prepareScope(resolved).then(
      (prepared) => {
        if (signal.aborted) return;
        if (this.#closing !== null) return refuse(503, 'the server is shutting down');
        let consumer;
        try {
          consumer = new Consumer();
        } catch (error) {
          this.#log('error', `constructing ${Consumer.name} failed; answering 500`, scope.path, error);
          return refuse(500, 'internal error');
        }
        const offered = (prepared.subprotocols as string[] | undefined) ?? [];
        const connection = new ConsumerConnection(
          consumer,
          prepared,
          this.channelLayer,
          {
            signal,
            offeredSubprotocols: offered,
            accept: (subprotocol) => {
              this.#accepting.set(request, { connection, subprotocol });
              done(true);
            },
            refuse: (status, reason) => done(false, status, reason),
          },
          { inboxSize: this.#options.inboxSize, logger: this.#options.logger },
        );
        this.#connections.add(connection);
        void connection.finished.then(() => this.#connections.delete(connection));
        connection.start();
      },
      (error: unknown) => {
        if (signal.aborted) return;
        this.#log('error', 'preparing the scope (middleware) failed; answering 500', scope.path, error);
        refuse(500, 'internal error');
      },
    );
  }

  #opened(socket: WebSocket, request: AnyRequest): void {
    const accepting = this.#accepting.get(request);
    this.#accepting.delete(request);
    if (accepting === undefined) {
      socket.terminate();
      return;
    }
    accepting.connection.attach(socket);
  }

  #http(application: Application, request: IncomingMessage, response: ServerResponse): void {
    const answer = (status: number, text: string) => {
      if (response.headersSent) return void response.destroy();
      response.writeHead(status, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(text),
      });
      response.end(text);
    };
    const scope = requestScope('http', request, this.#scopeContext());
    try {
      const resolved = supportsProtocol(application, 'http') ? resolveApplication(application, scope) : null;
      if (resolved === null || isConsumerClass(resolved.app)) return answer(404, 'Not Found\n');
      const refusal = refusalOf(resolved);
      if (refusal !== undefined) return answer(refusal.status, `${refusal.reason}\n`);
      const handled = (resolved.app as (request: IncomingMessage, response: ServerResponse) => unknown)(
        request,
        response,
      );
      if (handled instanceof Promise) {
        handled.catch((error: unknown) => {
          this.#log('error', 'the http handler failed; answering 500', scope.path, error);
          answer(500, 'Internal Server Error\n');
        });
      }
    } catch (error) {
      this.#log('error', 'the http handler failed; answering 500', scope.path, error);
      answer(500, 'Internal Server Error\n');
    }
  }

  #scopeContext() {
    const address = this.webSocketServer.address() as SocketAddress | null;
    return {
      server: [address?.address ?? this.#options.host, address?.port ?? this.#options.port] as const,
      rootPath: this.#options.rootPath,
    };
  }

  #log(level: 'error' | 'warn', message: string, path: string | undefined, error?: unknown): void {
    safeLog(this.#options.logger, level, message, error === undefined ? { path } : { path, error });
  }
}

/**
 * Runs `application` (a ProtocolTypeRouter, URLRouter, middleware stack or consumer class) on
 * `host:port`; resolves once listening. Throws ERR_UNKNOWN_PROTOCOL when the application has no
 * 'websocket' entry.
 */
export async function serve(application: Application, options: ServeOptions = {}): Promise<ChannelsServer> {
  assertApplication(application, 'serve()');
  if (!supportsProtocol(application, 'websocket')) {
    throw new BuffereventError(
      "serve(): the application has no 'websocket' entry; give ProtocolTypeRouter({ websocket: ..., http: ... })",
      'ERR_UNKNOWN_PROTOCOL',
    );
  }
  const resolved = resolveServeOptions(options);
  const ownsLayer = options.channelLayer === undefined;
  const layer = ownsLayer ? new InMemoryChannelLayer() : options.channelLayer!;
  let server: ChannelsServer;
  try {
    server = new ChannelsServer(application, resolved, layer, ownsLayer);
  } catch (error) {
    // reusePort's listener failed to bind (ERR_LISTEN, e.g. EADDRINUSE).
    if (ownsLayer) await layer?.close();
    throw error;
  }
  await new Promise<void>((resolve, reject) => {
    server.webSocketServer.once('listening', resolve);
    server.webSocketServer.once('error', reject);
  }).catch(async (error: unknown) => {
    if (ownsLayer) await layer?.close();
    throw error;
  });
  return server;
}
