// The server side of the WebSocket browser tests: one port serving the test page over HTTP and
// WebSockets (our WebSocketServer with httpFallback, or ws's over a Node http server as the
// reference), a wire tap in front of the WebSockets, and a record of every connection as the server
// saw it. What a connection does depends on its path:
//   /echo           sends every message back as it came (text as text, binary as binary);
//   /burst          sends BURST_MESSAGES at once, then waits;
//   /fragments      sends FRAGMENTED_MESSAGES, a ping after each one's first fragment;
//   /server-closes  sends one large compressible text, then closes with SERVER_CLOSE;
//   /subscribe      subscribes to the topic that publish() publishes to.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { WebSocketServer as WsReferenceServer } from 'ws';
import type { PerMessageDeflateOptions } from '../../src/websocket/deflate/options.ts';
import { WebSocketServer, type WebSocket, type WebSocketServerOptions } from '../../src/websocket/index.ts';
import { waitFor } from '../helpers.ts';
import { digestOf, PageSocket, SOCKET_PAGE_HTML, type MessageDigest } from './socket-page.ts';
import { WireTap, type TappedConnection } from './wire-tap.ts';

export type Implementation = 'ours' | 'ws';

/**
 * The server under test: ours, or with BUFFEREVENT_BROWSER_SERVER=ws the ws package's (the reference
 * the tests were checked against; a test that fails against ours and passes against ws points at
 * our implementation, not at the browser).
 */
export const IMPLEMENTATION: Implementation = process.env.BUFFEREVENT_BROWSER_SERVER === 'ws' ? 'ws' : 'ours';

/** The default perMessageDeflate threshold of both servers. */
export const THRESHOLD = 1024;

/**
 * Whether the server under test, with context takeover and the default threshold, sends a message
 * of `size` bytes compressed once compression was agreed. Ours: from the threshold on. ws applies
 * its threshold only without context takeover and otherwise compresses every message (its
 * sender.js), which the reference run allows for.
 */
export function serverCompresses(size: number): boolean {
  return size >= THRESHOLD || IMPLEMENTATION === 'ws';
}

/**
 * The code of the server-side 'close' after the server closed the connection for a protocol error
 * with `code`: ours reports the code it sent; ws reports 1006 (it stops reading, so it never sees
 * the browser's answering close frame).
 */
export function serverCloseCodeAfterError(code: number): number {
  return IMPLEMENTATION === 'ws' ? 1006 : code;
}

export interface ServerOptions {
  perMessageDeflate: boolean | PerMessageDeflateOptions;
  maxPayload?: number;
}

export type SocketPath = '/echo' | '/burst' | '/fragments' | '/server-closes' | '/subscribe';

/** A WebSocket the page opened, as the page, the server and the wire tap saw it. */
export interface OpenedSocket {
  socket: PageSocket;
  connection: ServerSideConnection;
  wire: TappedConnection;
}

export interface ServerSideConnection {
  /** The request's path and query. */
  url: string;
  /** The Sec-WebSocket-Extensions header of the browser's request, undefined without one. */
  offer: string | undefined;
  /** What the server-side socket's `extensions` says. */
  extensions: string;
  received: MessageDigest[];
  sent: MessageDigest[];
  errors: Array<{ code: string | undefined }>;
  close: { code: number; reason: string } | undefined;
}

export const SERVER_CLOSE = { code: 4001, reason: 'server closes: ✓ done' } as const;
/** Large enough that the close frame is queued behind much compressed output. */
export const SERVER_CLOSE_MESSAGE_SIZE = 4 * 1024 * 1024;

/** Sizes around the default threshold (1024) and well above it. */
const BURST_SIZES = [1, 100, 1023, 1024, 2048, 65536];
const PHRASE = 'a message the server made, compressed when agreed and at least threshold bytes. ';

/**
 * 192 messages: every size as text and binary, compressible and random, in a fixed order; every
 * fifth sent with `compress: false`.
 */
export const BURST_MESSAGES = Array.from({ length: 192 }, (_, i) => ({
  size: BURST_SIZES[i % BURST_SIZES.length]!,
  binary: Math.floor(i / BURST_SIZES.length) % 2 === 1,
  random: Math.floor(i / (2 * BURST_SIZES.length)) % 2 === 1,
  compress: i % 5 !== 4,
}));

/** A message the server makes: base64 text of random bytes, or a phrase repeated (numbered). */
export function serverPayload(index: number, size: number, random: boolean): Buffer {
  if (random) return Buffer.from(randomBytes(size).toString('base64').slice(0, size));
  return Buffer.from(`#${index} ${PHRASE}`.repeat(Math.ceil(size / PHRASE.length) + 1).slice(0, size));
}

/**
 * What /fragments sends, each message in fragments with a ping after the first: whether the server
 * compresses one is decided by its first fragment's size.
 */
export const FRAGMENTED_MESSAGES = [
  {
    binary: false,
    fragments: [
      { size: 4096, random: false },
      { size: 4096, random: false },
      { size: 10, random: false },
    ],
  },
  {
    binary: true,
    fragments: [
      { size: 100, random: false },
      { size: 65536, random: false },
      { size: 65536, random: true },
    ],
  },
  {
    binary: true,
    fragments: [
      { size: 20_000, random: true },
      { size: 0, random: true },
      { size: 20_000, random: true },
    ],
  },
];

interface ServerSocket {
  extensions: string;
  bufferedAmount: number;
  send(data: Buffer | string, options?: { binary?: boolean; fin?: boolean; compress?: boolean }): void;
  ping(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): unknown;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error & { code?: string }) => void): unknown;
}

/** What differs between the two servers under test. */
interface Backend {
  port: number;
  stop(): Promise<void>;
  onConnection(listener: (ws: ServerSocket, url: string, offer: string | string[] | undefined) => void): void;
  /** Publishes to the sockets of /subscribe (ws has no publish: it sends to each); the skipped count. */
  publish(data: Buffer | string, binary: boolean, subscribers: Iterable<ServerSocket>): number;
  subscribe(ws: ServerSocket): void;
}

const TOPIC = 'news';

async function ourBackend(http: Server, options: ServerOptions): Promise<Backend> {
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    httpFallback: http,
    ...(options as WebSocketServerOptions),
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  return {
    port: (wss.address() as { port: number }).port,
    stop: () => new Promise((resolve) => wss.close(() => resolve())),
    onConnection: (listener) =>
      wss.on('connection', (ws, request) =>
        listener(
          ws as unknown as ServerSocket,
          request.url ?? '',
          request.headers['sec-websocket-extensions'],
        ),
      ),
    publish: (data, binary) => wss.publish(TOPIC, data, { binary }).skipped,
    subscribe: (ws) => (ws as unknown as WebSocket).subscribe(TOPIC),
  };
}

async function wsBackend(http: Server, options: ServerOptions): Promise<Backend> {
  const wss = new WsReferenceServer({ server: http, ...(options as object) });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    port: (http.address() as AddressInfo).port,
    stop: async () => {
      await new Promise((resolve) => wss.close(resolve));
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
    onConnection: (listener) =>
      wss.on('connection', (ws, request) =>
        listener(
          ws as unknown as ServerSocket,
          request.url ?? '',
          request.headers['sec-websocket-extensions'],
        ),
      ),
    publish: (data, binary, subscribers) => {
      for (const ws of subscribers) ws.send(data, { binary });
      return 0;
    },
    subscribe: () => {},
  };
}

export class SocketServer {
  readonly connections: ServerSideConnection[] = [];
  readonly #sockets = new Set<ServerSocket>();
  readonly #subscribers = new Map<ServerSocket, ServerSideConnection>();
  #opened = 0;

  private constructor(
    private readonly http: Server,
    private readonly backend: Backend,
    readonly tap: WireTap,
  ) {
    backend.onConnection((ws, url, offer) => this.#serve(ws, url, offer));
  }

  static async start(implementation: Implementation, options: ServerOptions): Promise<SocketServer> {
    const http = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(SOCKET_PAGE_HTML);
    });
    const backend = await (implementation === 'ours' ? ourBackend : wsBackend)(http, options);
    return new SocketServer(http, backend, await WireTap.start(backend.port));
  }

  /** Where the page is served. */
  get pageUrl(): string {
    return `http://127.0.0.1:${this.backend.port}/`;
  }

  /**
   * Publishes to every socket of /subscribe (recorded as sent on each) once they have written all
   * they had queued, so that none is over backpressureBytes (publish skips those). Resolves with
   * the number of subscribers skipped all the same.
   */
  async publish(payload: Buffer, binary: boolean): Promise<number> {
    const subscribers = [...this.#subscribers.keys()];
    await waitFor(
      () => subscribers.every((ws) => ws.bufferedAmount === 0),
      60_000,
      'the subscribers to drain',
    );
    for (const connection of this.#subscribers.values()) connection.sent.push(digestOf(payload, binary));
    return this.backend.publish(binary ? payload : payload.toString(), binary, subscribers);
  }

  /**
   * Opens a WebSocket with the given behaviour in `page`, through the wire tap, under a URL of its
   * own (so the server's and the tap's records of it are found by URL, not by counting).
   */
  async open(page: Page, path: SocketPath): Promise<OpenedSocket> {
    const target = this.uniqueTarget(path);
    const socket = await PageSocket.open(page, `ws://127.0.0.1:${this.tap.port}${target}`);
    const connection = await this.connectionFor(target);
    const wire = this.tap.connections.find((c) => c.toServer.head.startsWith(`GET ${target} `));
    if (wire === undefined) throw new Error(`the wire tap did not see ${target}`);
    return { socket, connection, wire };
  }

  /** `path` with a query no other connection has. */
  uniqueTarget(path: SocketPath): string {
    return `${path}?socket=${++this.#opened}`;
  }

  /** The server's record of the connection to `target` (path and query), once it is open. */
  async connectionFor(target: string): Promise<ServerSideConnection> {
    await waitFor(() => this.connections.some((c) => c.url === target), 20_000, `the server's ${target}`);
    return this.connections.find((c) => c.url === target)!;
  }

  /** Where a WebSocket client other than the page connects (directly, not through the tap). */
  get directUrl(): string {
    return `ws://127.0.0.1:${this.backend.port}`;
  }

  /** `connection` once the server has emitted its 'close'. */
  async closed(connection: ServerSideConnection): Promise<ServerSideConnection> {
    await waitFor(
      () => connection.close !== undefined,
      20_000,
      `the server-side 'close' of ${connection.url}`,
    );
    return connection;
  }

  async stop(): Promise<void> {
    for (const ws of this.#sockets) ws.terminate();
    await this.backend.stop();
    await this.tap.stop();
    this.http.close();
  }

  #serve(ws: ServerSocket, url: string, offer: string | string[] | undefined): void {
    this.#sockets.add(ws);
    const path = url.split('?')[0];
    const connection: ServerSideConnection = {
      url,
      offer: Array.isArray(offer) ? offer.join(', ') : offer,
      extensions: ws.extensions,
      received: [],
      sent: [],
      errors: [],
      close: undefined,
    };
    this.connections.push(connection);
    ws.on('error', (error) => connection.errors.push({ code: error.code }));
    ws.on('close', (code, reason) => {
      this.#sockets.delete(ws);
      this.#subscribers.delete(ws);
      connection.close = { code, reason: reason.toString() };
    });
    ws.on('message', (data, isBinary) => {
      connection.received.push(digestOf(data, isBinary));
      if (path === '/echo') {
        ws.send(data, { binary: isBinary });
        connection.sent.push(digestOf(data, isBinary));
      }
    });
    const send = (payload: Buffer, binary: boolean, compress = true): void => {
      ws.send(binary ? payload : payload.toString(), { binary, compress });
      connection.sent.push(digestOf(payload, binary));
    };
    if (path === '/burst') {
      BURST_MESSAGES.forEach(({ size, binary, random, compress }, index) =>
        send(serverPayload(index, size, random), binary, compress),
      );
    } else if (path === '/fragments') {
      for (const { binary, fragments } of FRAGMENTED_MESSAGES) {
        const payloads = fragments.map(({ size, random }, i) => serverPayload(i, size, random));
        payloads.forEach((payload, i) => {
          const fin = i === payloads.length - 1;
          ws.send(binary ? payload : payload.toString(), { binary, fin });
          if (i === 0) ws.ping('between fragments');
        });
        connection.sent.push(digestOf(Buffer.concat(payloads), binary));
      }
    } else if (path === '/subscribe') {
      this.backend.subscribe(ws);
      this.#subscribers.set(ws, connection);
    } else if (path === '/server-closes') {
      send(serverPayload(0, SERVER_CLOSE_MESSAGE_SIZE, false), false);
      ws.close(SERVER_CLOSE.code, SERVER_CLOSE.reason);
    }
  }
}
