// The server under test: our WebSocketServer with an echo handler, started once per file. With
// CONFORMANCE_IMPL=ws the same cases run against npm ws instead, to compare the two.
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { EventBase } from '../../../src/index.ts';
import { liveCounts, waitFor } from '../../helpers.ts';
import { RawClient, WAIT_MS, type HandshakeOptions } from './raw-client.ts';

export const IMPLEMENTATION = process.env.CONFORMANCE_IMPL === 'ws' ? 'ws' : 'bufferevent';

const { WebSocketServer } =
  IMPLEMENTATION === 'ws' ? await import('ws') : await import('../../../src/websocket/index.ts');

const BROADCAST_TOPIC = 'everyone';

/** The binding's live objects, with the native WebSocket connections the helpers do not count. */
function liveObjects(): ReturnType<typeof liveCounts> & { webSockets: number } {
  return { ...liveCounts(), webSockets: EventBase.default().stats().liveWebSockets ?? 0 };
}

/** The options these tests pass; ws ignores the ones it does not know (maxHeaderSize, handshakeTimeout…). */
export interface EchoServerOptions {
  maxPayload?: number;
  maxFragments?: number;
  maxHeaderSize?: number;
  handshakeTimeout?: number;
  closeTimeout?: number;
  path?: string;
  handleProtocols?: (protocols: Set<string>, request: unknown) => string | false;
  /** Off unless given (as both servers default); the compression cases pass `threshold: 0`. */
  perMessageDeflate?: boolean | Record<string, unknown>;
  /**
   * Not a server option: every message goes to every open connection instead of back to its
   * sender, by `wss.publish` to a topic all subscribe to (ws, which has no pub/sub: a send each).
   */
  broadcast?: boolean;
}

/** What the tests need of a server-side WebSocket, common to ours and ws's. */
interface ServerSideSocket {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): unknown;
  on(event: 'error', listener: (error: Error & { code?: string }) => void): unknown;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown;
  send(data: Buffer, options: { binary: boolean }): unknown;
  terminate(): void;
  subscribe?(topic: string): boolean;
}

interface ServerUnderTest {
  on(event: 'connection', listener: (ws: ServerSideSocket) => void): unknown;
  once(event: 'listening', listener: () => void): unknown;
  once(event: 'error', listener: (error: Error) => void): unknown;
  address(): unknown;
  close(callback?: (error?: Error) => void): void;
  clients: Set<ServerSideSocket>;
  publish?(topic: string, data: Buffer, options: { binary: boolean }): unknown;
}

export interface EchoServer {
  port: number;
  /** Errors the server-side sockets emitted, in order (each has a WS_ERR_* code). */
  errors: Array<Error & { code?: string }>;
  /** The close events of server-side sockets, in order. */
  closes: Array<{ code: number; reason: string }>;
  /** Connections accepted so far. */
  connections: number;
  /** Open server-side sockets. */
  readonly open: number;
  close(): Promise<void>;
}

export async function startEchoServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  const { broadcast = false, ...serverOptions } = options;
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    ...serverOptions,
  } as never) as unknown as ServerUnderTest;
  const toAll = (data: Buffer, isBinary: boolean) => {
    if (wss.publish) wss.publish(BROADCAST_TOPIC, data, { binary: isBinary });
    else for (const client of wss.clients) client.send(data, { binary: isBinary });
  };
  const server: EchoServer = {
    port: 0,
    errors: [],
    closes: [],
    connections: 0,
    get open() {
      return wss.clients.size;
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
  wss.on('connection', (ws) => {
    server.connections++;
    ws.on('error', (error) => server.errors.push(error));
    ws.on('close', (code, reason) => server.closes.push({ code, reason: reason.toString() }));
    if (broadcast) {
      ws.subscribe?.(BROADCAST_TOPIC);
      ws.on('message', toAll);
    } else {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  server.port = (wss.address() as { port: number }).port;
  return server;
}

/**
 * One echo server for the file (created before the first test, closed after the last), with every
 * RawClient a test opened destroyed after it, and checks that nothing leaks: after each test the
 * server's sockets are all gone and the binding's live objects are back to where they were; after
 * the file, nothing of the binding is alive.
 */
export function useEchoServer(options: EchoServerOptions = {}): {
  server: () => EchoServer;
  connect: () => Promise<RawClient>;
  open: (handshake?: HandshakeOptions) => Promise<RawClient>;
  errorCodes: () => Promise<Array<string | undefined>>;
} {
  let server: EchoServer | undefined;
  const clients: RawClient[] = [];
  let before: ReturnType<typeof liveObjects>;
  beforeAll(async () => {
    server = await startEchoServer(options);
  });
  beforeEach(() => {
    before = liveObjects();
    server!.errors.length = 0;
    server!.closes.length = 0;
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await waitFor(() => server!.open === 0, WAIT_MS, 'the server-side sockets to close');
    await waitFor(
      () => JSON.stringify(liveObjects()) === JSON.stringify(before),
      WAIT_MS,
      `the live objects to return to ${JSON.stringify(before)}`,
    ).catch(() => expect(liveObjects()).toEqual(before));
  });
  afterAll(async () => {
    await server?.close();
    await waitFor(
      () => Object.values(liveObjects()).every((count) => count === 0),
      WAIT_MS,
      'every live object to be freed',
    ).catch(() =>
      expect(liveObjects()).toEqual({
        bufferevents: 0,
        listeners: 0,
        events: 0,
        evbuffers: 0,
        webSockets: 0,
      }),
    );
  });
  const track = (client: RawClient) => (clients.push(client), client);
  return {
    server: () => server!,
    connect: async () => track(await RawClient.connect(server!.port)),
    open: async (handshake) => track(await RawClient.open(server!.port, handshake)),
    /** The codes of the errors the server-side sockets emitted in this test, once they all closed. */
    errorCodes: async () => {
      await waitFor(() => server!.open === 0, WAIT_MS, 'the server-side sockets to close');
      return server!.errors.map((error) => error.code);
    },
  };
}
