// Interop: the npm `ws` client against our WebSocketServer over 127.0.0.1 — echo of every message
// kind, fragmentation, large and many messages, ping/pong, the close handshake in both directions,
// subprotocols, terminate(), the clients set and maxPayload.
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import WsClient from 'ws';
import {
  WebSocketServer,
  type AnyRequest,
  type WebSocket,
  type WebSocketServerOptions,
} from '../../src/websocket/index.ts';
import { EventBase } from '../../src/index.ts';
import { checkNothingLeaksAfterEach, turns, waitFor } from '../helpers.ts';

const WAIT_MS = 20_000;

checkNothingLeaksAfterEach({ fds: true });

/** Resolves with the arguments of the next `event`, without adding an 'error' listener (events.once would). */
function nextEvent<T extends unknown[]>(
  emitter: EventEmitter,
  event: string,
  timeoutMs = WAIT_MS,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for '${event}'`)),
      timeoutMs,
    );
    emitter.once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    });
  });
}

function liveWebSockets(): number {
  return EventBase.default().stats().liveWebSockets;
}

interface ServerSide {
  ws: WebSocket;
  request: AnyRequest;
  messages: Array<{ data: Buffer; isBinary: boolean }>;
  pings: Buffer[];
  pongs: Buffer[];
  errors: Array<Error & { code?: string }>;
  closes: Array<{ code: number; reason: string }>;
}

interface Harness {
  wss: WebSocketServer;
  port: number;
  accepted: ServerSide[];
  /** Every ws client a test opened, so afterEach can make sure each is closed. */
  clients: WsClient[];
  connect(path?: string, protocols?: string[]): Promise<{ client: WsClient; server: ServerSide }>;
  close(): Promise<void>;
}

/** Our server, echoing every message back with the same kind, recording what each socket saw. */
async function startServer(options: Partial<WebSocketServerOptions> = {}, echo = true): Promise<Harness> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  const accepted: ServerSide[] = [];
  wss.on('connection', (ws: WebSocket, request: AnyRequest) => {
    const side: ServerSide = { ws, request, messages: [], pings: [], pongs: [], errors: [], closes: [] };
    accepted.push(side);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      side.messages.push({ data, isBinary });
      if (echo) ws.send(data, { binary: isBinary });
    });
    ws.on('ping', (data: Buffer) => side.pings.push(data));
    ws.on('pong', (data: Buffer) => side.pongs.push(data));
    ws.on('error', (error: Error & { code?: string }) => side.errors.push(error));
    ws.on('close', (code: number, reason: Buffer) => side.closes.push({ code, reason: reason.toString() }));
  });
  await nextEvent(wss, 'listening');
  const address = wss.address() as { port: number; address: string };
  expect(address.address).toBe('127.0.0.1');
  const clients: WsClient[] = [];
  const harness: Harness = {
    wss,
    port: address.port,
    accepted,
    clients,
    async connect(path = '/', protocols) {
      const before = accepted.length;
      const client = new WsClient(`ws://127.0.0.1:${address.port}${path}`, protocols, {
        perMessageDeflate: false,
      });
      clients.push(client);
      await nextEvent(client, 'open');
      await waitFor(() => accepted.length === before + 1, WAIT_MS, "the server's 'connection'");
      return { client, server: accepted[before]! };
    },
    async close() {
      // Whatever a test left open is dropped; then wait until both ends reported 'close'.
      for (const client of clients) if (client.readyState !== WsClient.CLOSED) client.terminate();
      for (const side of accepted) if (side.ws.readyState !== side.ws.CLOSED) side.ws.terminate();
      await waitFor(
        () =>
          clients.every((client) => client.readyState === WsClient.CLOSED) &&
          accepted.every((side) => side.closes.length === 1),
        WAIT_MS,
        'every socket closed',
      );
      const closed = nextEvent(wss, 'close');
      wss.close();
      await closed;
      await waitFor(() => liveWebSockets() === 0, WAIT_MS, 'no live native WebSocket connection');
      await turns(3);
    },
  };
  return harness;
}

/** The next `count` messages a ws client receives, in order. */
function collectMessages(
  client: WsClient,
  count: number,
): Promise<Array<{ data: Buffer; isBinary: boolean }>> {
  return new Promise((resolve, reject) => {
    const got: Array<{ data: Buffer; isBinary: boolean }> = [];
    const timer = setTimeout(() => reject(new Error(`got ${got.length} of ${count} messages`)), 60_000);
    const onMessage = (data: WsClient.RawData, isBinary: boolean) => {
      got.push({ data: data as Buffer, isBinary });
      if (got.length === count) {
        clearTimeout(timer);
        client.off('message', onMessage);
        resolve(got);
      }
    };
    client.on('message', onMessage);
  });
}

function clientClosed(client: WsClient): Promise<{ code: number; reason: string }> {
  return nextEvent<[number, Buffer]>(client, 'close').then(([code, reason]) => ({
    code,
    reason: reason.toString(),
  }));
}

describe('the npm ws client against our WebSocketServer', () => {
  let harness: Harness;

  beforeEach(async () => {
    harness = await startServer();
  });

  afterEach(async () => {
    await harness.close();
  });

  it('opens with the request path, the query and the client headers visible to the server', async () => {
    const { client, server } = await harness.connect('/chat?room=7');
    expect(client.readyState).toBe(WsClient.OPEN);
    expect(client.protocol).toBe('');
    expect(client.extensions).toBe('');
    expect(server.ws.readyState).toBe(server.ws.OPEN);
    expect(server.request.method).toBe('GET');
    expect(server.request.url).toBe('/chat?room=7');
    expect(server.request.headers.upgrade?.toString().toLowerCase()).toBe('websocket');
    expect(server.request.headers['sec-websocket-version']).toBe('13');
    expect(server.request.socket.remoteAddress).toBe('127.0.0.1');
    client.close(1000);
    await clientClosed(client);
  });

  it('echoes a text message as text', async () => {
    const { client, server } = await harness.connect();
    const text = 'hello, ünïcødé ✓ 😀';
    const reply = collectMessages(client, 1);
    client.send(text);
    const [message] = await reply;
    expect(message!.isBinary).toBe(false);
    expect(message!.data.toString('utf8')).toBe(text);
    expect(server.messages).toHaveLength(1);
    expect(server.messages[0]!.isBinary).toBe(false);
    expect(server.messages[0]!.data.toString('utf8')).toBe(text);
  });

  it('echoes a binary message as binary, byte for byte', async () => {
    const { client, server } = await harness.connect();
    const bytes = randomBytes(4099);
    const reply = collectMessages(client, 1);
    client.send(bytes);
    const [message] = await reply;
    expect(message!.isBinary).toBe(true);
    expect(message!.data.equals(bytes)).toBe(true);
    expect(server.messages).toHaveLength(1);
    expect(server.messages[0]!.isBinary).toBe(true);
  });

  it('delivers and echoes empty text and empty binary messages', async () => {
    const { client, server } = await harness.connect();
    const replies = collectMessages(client, 2);
    client.send('');
    client.send(Buffer.alloc(0));
    const [text, binary] = await replies;
    expect(text).toEqual({ data: Buffer.alloc(0), isBinary: false });
    expect(binary).toEqual({ data: Buffer.alloc(0), isBinary: true });
    expect(server.messages.map((message) => [message.data.length, message.isBinary])).toEqual([
      [0, false],
      [0, true],
    ]);
  });

  it('reassembles a fragmented text message into one message event', async () => {
    const { client, server } = await harness.connect();
    const reply = collectMessages(client, 1);
    client.send('frag', { fin: false });
    client.send('mént', { fin: false });
    client.send('ed ✓', { fin: true });
    const [message] = await reply;
    expect(message!.isBinary).toBe(false);
    expect(message!.data.toString()).toBe('fragménted ✓');
    expect(server.messages).toHaveLength(1);
  });

  it('reassembles a text message whose multibyte character is split across fragments', async () => {
    const { client, server } = await harness.connect();
    const euro = Buffer.from('€', 'utf8'); // three bytes
    const reply = collectMessages(client, 1);
    client.send(Buffer.concat([Buffer.from('a'), euro.subarray(0, 1)]), { binary: false, fin: false });
    client.send(euro.subarray(1, 2), { binary: false, fin: false });
    client.send(Buffer.concat([euro.subarray(2), Buffer.from('b')]), { binary: false, fin: true });
    const [message] = await reply;
    expect(message).toEqual({ data: Buffer.from('a€b'), isBinary: false });
    expect(server.errors).toEqual([]);
  });

  it('reassembles a fragmented binary message with an empty fragment in the middle', async () => {
    const { client, server } = await harness.connect();
    const parts = [randomBytes(100), Buffer.alloc(0), randomBytes(70_000), randomBytes(1)];
    const reply = collectMessages(client, 1);
    parts.forEach((part, i) => client.send(part, { fin: i === parts.length - 1 }));
    const [message] = await reply;
    expect(message!.isBinary).toBe(true);
    expect(message!.data.equals(Buffer.concat(parts))).toBe(true);
    expect(server.messages).toHaveLength(1);
  });

  it('answers a ping that arrives between the fragments of a message', async () => {
    const { client, server } = await harness.connect();
    const pong = nextEvent<[Buffer]>(client, 'pong');
    const reply = collectMessages(client, 1);
    client.send('one ', { fin: false });
    client.ping('mid');
    client.send('two', { fin: true });
    const [[pongData], [message]] = await Promise.all([pong, reply]);
    expect(pongData.toString()).toBe('mid');
    expect(message!.data.toString()).toBe('one two');
    expect(server.pings.map(String)).toEqual(['mid']);
  });

  it('echoes an 8 MiB binary message intact', { timeout: 60_000 }, async () => {
    const { client, server } = await harness.connect();
    const bytes = randomBytes(8 * 1024 * 1024);
    const reply = collectMessages(client, 1);
    client.send(bytes);
    const [message] = await reply;
    expect(message!.isBinary).toBe(true);
    expect(message!.data.length).toBe(bytes.length);
    expect(message!.data.equals(bytes)).toBe(true);
    expect(server.messages).toHaveLength(1);
  });

  it('echoes a 1 MiB text message of multibyte characters intact', { timeout: 60_000 }, async () => {
    const { client } = await harness.connect();
    const text = 'aé€😀'.repeat(Math.ceil((1024 * 1024) / 10)); // 1 + 2 + 3 + 4 bytes per round
    expect(Buffer.byteLength(text)).toBeGreaterThanOrEqual(1024 * 1024);
    const reply = collectMessages(client, 1);
    client.send(text);
    const [message] = await reply;
    expect(message!.isBinary).toBe(false);
    expect(message!.data.toString('utf8')).toBe(text);
  });

  it('delivers 10,000 small messages to the server and back in order', { timeout: 60_000 }, async () => {
    const { client, server } = await harness.connect();
    const count = 10_000;
    const replies = collectMessages(client, count);
    for (let i = 0; i < count; i++) client.send(`m${i}`);
    const got = await replies;
    expect(got.map((message) => message.data.toString())).toEqual(
      Array.from({ length: count }, (_, i) => `m${i}`),
    );
    expect(server.messages.map((message) => message.data.toString())).toEqual(
      Array.from({ length: count }, (_, i) => `m${i}`),
    );
  });

  it('answers a ws client ping with a pong carrying the same data, and reports the ping', async () => {
    const { client, server } = await harness.connect();
    const pong = nextEvent<[Buffer]>(client, 'pong');
    client.ping(Buffer.from('are you there'));
    const [data] = await pong;
    expect(data.toString()).toBe('are you there');
    expect(server.pings.map(String)).toEqual(['are you there']);
    expect(server.pongs).toEqual([]);
    expect(server.messages).toEqual([]);
  });

  it('answers an empty ping with an empty pong', async () => {
    const { client, server } = await harness.connect();
    const pong = nextEvent<[Buffer]>(client, 'pong');
    client.ping();
    const [data] = await pong;
    expect(data.length).toBe(0);
    expect(server.pings).toHaveLength(1);
  });

  it("reports the ws client's automatic pong to our server's ping as a 'pong' event", async () => {
    const { client, server } = await harness.connect();
    const clientPing = nextEvent<[Buffer]>(client, 'ping');
    const serverPong = nextEvent<[Buffer]>(server.ws, 'pong');
    server.ws.ping('xyz');
    const [[pingData], [pongData]] = await Promise.all([clientPing, serverPong]);
    expect(pingData.toString()).toBe('xyz');
    expect(pongData.toString()).toBe('xyz');
    expect(server.pongs).toHaveLength(1);
  });

  it("gives the server's 'close' the client's code 4000 and reason 'bye', and both ends close", async () => {
    const { client, server } = await harness.connect();
    const closed = clientClosed(client);
    client.close(4000, 'bye');
    const clientSide = await closed;
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.closes).toEqual([{ code: 4000, reason: 'bye' }]);
    expect(clientSide.code).toBe(4000); // the server echoes the code (RFC 6455 §5.5.1)
    expect(server.ws.readyState).toBe(server.ws.CLOSED);
    expect(server.errors).toEqual([]);
  });

  it("gives the server's 'close' 1005 when the client's close frame has no code", async () => {
    const { client, server } = await harness.connect();
    const closed = clientClosed(client);
    client.close();
    const clientSide = await closed;
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.closes).toEqual([{ code: 1005, reason: '' }]);
    expect(clientSide.code).toBe(1005);
  });

  it('closes with 1001 and a reason from the server side, and the client sees both', async () => {
    const { client, server } = await harness.connect();
    const closed = clientClosed(client);
    server.ws.close(1001, 'going away');
    expect(server.ws.readyState).toBe(server.ws.CLOSING);
    const clientSide = await closed;
    expect(clientSide).toEqual({ code: 1001, reason: 'going away' });
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.closes[0]!.code).toBe(1001);
    expect(server.errors).toEqual([]);
  });

  it('refuses to send after close() and reports it as dropped', async () => {
    const { client, server } = await harness.connect();
    const closed = clientClosed(client);
    server.ws.close(1000);
    expect(server.ws.send('late')).toBe('dropped');
    await closed;
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
  });

  it("gives the ws client 1006 when the server terminates, and the server's 'close' 1006", async () => {
    const { client, server } = await harness.connect();
    const closed = clientClosed(client);
    server.ws.terminate();
    const clientSide = await closed;
    expect(clientSide.code).toBe(1006);
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.closes).toEqual([{ code: 1006, reason: '' }]);
    expect(server.ws.readyState).toBe(server.ws.CLOSED);
  });

  it('reports 1006 on the server when the ws client terminates', async () => {
    const { client, server } = await harness.connect();
    client.terminate();
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.closes).toEqual([{ code: 1006, reason: '' }]);
    expect(server.errors).toEqual([]);
  });

  it('keeps exactly the open server-side sockets in clients', async () => {
    expect(harness.wss.clients.size).toBe(0);
    const a = await harness.connect();
    const b = await harness.connect();
    const c = await harness.connect();
    expect(harness.wss.clients).toEqual(new Set([a.server.ws, b.server.ws, c.server.ws]));
    const closed = clientClosed(b.client);
    b.client.close(1000);
    await closed;
    await waitFor(() => b.server.closes.length === 1, WAIT_MS, "b's server-side 'close'");
    expect(harness.wss.clients).toEqual(new Set([a.server.ws, c.server.ws]));
    a.server.ws.terminate();
    await waitFor(() => a.server.closes.length === 1, WAIT_MS, "a's server-side 'close'");
    expect([...harness.wss.clients]).toEqual([c.server.ws]);
  });

  it('delivers nothing while the server socket is paused, then everything in order after resume()', async () => {
    const { client, server } = await harness.connect();
    server.ws.pause();
    expect(server.ws.isPaused).toBe(true);
    client.send('one');
    client.send('two');
    client.send('three');
    // No event marks "would have arrived by now"; a generous wait stands in for it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.messages).toEqual([]);
    const replies = collectMessages(client, 3);
    server.ws.resume();
    expect(server.ws.isPaused).toBe(false);
    expect((await replies).map((message) => message.data.toString())).toEqual(['one', 'two', 'three']);
  });

  it('calls each send callback once, in order, without an error', async () => {
    const { client, server } = await harness.connect();
    const calls: Array<[number, Error | null | undefined]> = [];
    const replies = collectMessages(client, 3);
    for (const i of [0, 1, 2]) server.ws.send(`n${i}`, (error?: Error) => calls.push([i, error]));
    await replies;
    await waitFor(() => calls.length === 3, WAIT_MS, 'the send callbacks');
    expect(calls).toEqual([
      [0, null],
      [1, null],
      [2, null],
    ]);
    expect(server.ws.bufferedAmount).toBe(0);
  });
});

describe('subprotocols between the npm ws client and our WebSocketServer', () => {
  let harness: Harness | undefined;

  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('selects the protocol handleProtocols returns, on both ends', async () => {
    const handleProtocols = vi.fn<(protocols: Set<string>, request: AnyRequest) => string | false>(
      (protocols) => (protocols.has('chat.v2') ? 'chat.v2' : false),
    );
    harness = await startServer({ handleProtocols });
    const { client, server } = await harness.connect('/', ['chat.v1', 'chat.v2']);
    expect(client.protocol).toBe('chat.v2');
    expect(server.ws.protocol).toBe('chat.v2');
    expect(handleProtocols).toHaveBeenCalledTimes(1);
    expect([...handleProtocols.mock.calls[0]![0]]).toEqual(['chat.v1', 'chat.v2']);
    expect(handleProtocols.mock.calls[0]![1]).toBe(server.request);
  });

  it('selects the first offered protocol without handleProtocols', async () => {
    harness = await startServer();
    const { client, server } = await harness.connect('/', ['first', 'second']);
    expect(client.protocol).toBe('first');
    expect(server.ws.protocol).toBe('first');
  });

  it('does not call handleProtocols when the client offers none', async () => {
    const handleProtocols = vi.fn(() => 'never' as const);
    harness = await startServer({ handleProtocols });
    const { client, server } = await harness.connect('/');
    expect(handleProtocols).not.toHaveBeenCalled();
    expect(client.protocol).toBe('');
    expect(server.ws.protocol).toBe('');
  });
});

describe('maxPayload between the npm ws client and our WebSocketServer', () => {
  let harness: Harness;

  beforeEach(async () => {
    harness = await startServer({ maxPayload: 1024 });
  });

  afterEach(async () => {
    await harness.close();
  });

  it('accepts a message of exactly maxPayload bytes', async () => {
    const { client, server } = await harness.connect();
    const reply = collectMessages(client, 1);
    client.send(randomBytes(1024));
    const [message] = await reply;
    expect(message!.data.length).toBe(1024);
    expect(server.errors).toEqual([]);
  });

  it('closes with 1009 when a message exceeds maxPayload, with a WS_ERR_ error on the server socket', async () => {
    const { client, server } = await harness.connect();
    const closed = clientClosed(client);
    client.send(randomBytes(1025));
    const clientSide = await closed;
    expect(clientSide.code).toBe(1009);
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.messages).toEqual([]);
    expect(server.errors.map((error) => error.code)).toEqual(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
    expect(server.closes[0]!.code).toBe(1009);
  });

  it('closes with 1009 when the fragments of one message add up past maxPayload', async () => {
    const { client, server } = await harness.connect();
    const closed = clientClosed(client);
    client.send(randomBytes(600), { fin: false });
    client.send(randomBytes(600), { fin: true });
    const clientSide = await closed;
    expect(clientSide.code).toBe(1009);
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.messages).toEqual([]);
    expect(server.errors).toHaveLength(1);
    expect(server.errors[0]!.code).toMatch(/^WS_ERR_/);
  });
});

describe('handshakes our WebSocketServer refuses, seen by the npm ws client', () => {
  let harness: Harness | undefined;

  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("gives the ws client 'unexpected-response' with the status verifyClient chose", async () => {
    harness = await startServer({
      verifyClient: (_info: unknown, done: (ok: boolean, code?: number, message?: string) => void) =>
        done(false, 403, 'not you'),
    });
    const client = new WsClient(`ws://127.0.0.1:${harness.port}/`, { perMessageDeflate: false });
    harness.clients.push(client);
    const [, response] = await nextEvent<[unknown, { statusCode: number; destroy(): void }]>(
      client,
      'unexpected-response',
    );
    expect(response.statusCode).toBe(403);
    response.destroy();
    // With an 'unexpected-response' listener ws leaves the rest to us: abort, which ws reports as an error.
    client.on('error', () => {});
    client.terminate();
    await waitFor(() => client.readyState === WsClient.CLOSED, WAIT_MS, 'the ws client to close');
    expect(harness.accepted).toEqual([]);
  });

  it("gives the ws client an 'error' for a path the server does not serve, and never a 'connection'", async () => {
    harness = await startServer({ path: '/ws' });
    const client = new WsClient(`ws://127.0.0.1:${harness.port}/other`, { perMessageDeflate: false });
    harness.clients.push(client);
    const [error] = await nextEvent<[Error]>(client, 'error');
    expect(error.message).toContain('400');
    await waitFor(() => client.readyState === WsClient.CLOSED, WAIT_MS, 'the ws client to close');
    expect(harness.accepted).toEqual([]);
    const ok = await harness.connect('/ws?x=1');
    expect(ok.server.request.url).toBe('/ws?x=1');
  });
});
