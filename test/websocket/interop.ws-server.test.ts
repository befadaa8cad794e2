// Interop: our WebSocket client against the npm `ws` WebSocketServer over 127.0.0.1 — open, echo of
// every message kind, fragments from ws, large and many messages, ping/pong, the close handshake in
// both directions, subprotocols, refused handshakes and refused connections.
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer as WsServer, type WebSocket as WsSocket } from 'ws';
import { WebSocket, type ClientOptions, type UpgradeResponse } from '../../src/websocket/index.ts';
import { EventBase } from '../../src/index.ts';
import { checkNothingLeaksAfterEach, turns, waitFor } from '../helpers.ts';

const WAIT_MS = 20_000;

checkNothingLeaksAfterEach({ fds: true });

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

/** What a ws server-side socket saw. */
interface PeerSide {
  ws: WsSocket;
  request: IncomingMessage;
  messages: Array<{ data: Buffer; isBinary: boolean }>;
  pings: Buffer[];
  pongs: Buffer[];
  closes: Array<{ code: number; reason: string }>;
}

/** What one of our clients saw, in order. */
interface ClientRecord {
  ws: WebSocket;
  events: string[];
  messages: Array<{ data: Buffer; isBinary: boolean }>;
  errors: Array<Error & { code?: string }>;
  closes: Array<{ code: number; reason: string }>;
}

interface Harness {
  wss: WsServer;
  port: number;
  peers: PeerSide[];
  clients: ClientRecord[];
  /** A client of ours, recording every event; not awaited. */
  client(path?: string, protocols?: string | string[], options?: ClientOptions): ClientRecord;
  /** A client of ours, once open and once the ws server saw the connection. */
  connect(
    path?: string,
    protocols?: string | string[],
    options?: ClientOptions,
  ): Promise<{ client: ClientRecord; peer: PeerSide }>;
  close(): Promise<void>;
}

function record(ws: WebSocket): ClientRecord {
  const rec: ClientRecord = { ws, events: [], messages: [], errors: [], closes: [] };
  ws.on('open', () => rec.events.push('open'));
  ws.on('upgrade', () => rec.events.push('upgrade'));
  ws.on('message', (data: Buffer, isBinary: boolean) => rec.messages.push({ data, isBinary }));
  ws.on('error', (error: Error & { code?: string }) => {
    rec.events.push('error');
    rec.errors.push(error);
  });
  ws.on('close', (code: number, reason: Buffer) => {
    rec.events.push('close');
    rec.closes.push({ code, reason: reason.toString() });
  });
  return rec;
}

/** A ws server echoing every message with the same kind, recording what each socket saw. */
async function startServer(
  options: ConstructorParameters<typeof WsServer>[0] = {},
  echo = true,
): Promise<Harness> {
  const wss = new WsServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, ...options });
  const peers: PeerSide[] = [];
  wss.on('connection', (ws, request) => {
    const peer: PeerSide = { ws, request, messages: [], pings: [], pongs: [], closes: [] };
    peers.push(peer);
    ws.on('message', (data, isBinary) => {
      peer.messages.push({ data: data as Buffer, isBinary });
      if (echo) ws.send(data, { binary: isBinary });
    });
    ws.on('ping', (data) => peer.pings.push(data));
    ws.on('pong', (data) => peer.pongs.push(data));
    ws.on('close', (code, reason) => peer.closes.push({ code, reason: reason.toString() }));
  });
  await nextEvent(wss, 'listening');
  const port = (wss.address() as net.AddressInfo).port;
  const clients: ClientRecord[] = [];
  const harness: Harness = {
    wss,
    port,
    peers,
    clients,
    client(path = '/', protocols, options) {
      const url = `ws://127.0.0.1:${port}${path}`;
      const ws =
        options !== undefined
          ? new WebSocket(url, protocols ?? [], options)
          : protocols !== undefined
            ? new WebSocket(url, protocols)
            : new WebSocket(url);
      const rec = record(ws);
      clients.push(rec);
      return rec;
    },
    async connect(path, protocols, options) {
      const before = peers.length;
      const client = harness.client(path, protocols, options);
      await waitFor(
        () => client.events.includes('open') || client.closes.length > 0,
        WAIT_MS,
        "our client's 'open'",
      );
      expect(client.events).toEqual(['upgrade', 'open']);
      await waitFor(() => peers.length === before + 1, WAIT_MS, "the ws server's 'connection'");
      return { client, peer: peers[before]! };
    },
    async close() {
      for (const rec of clients) if (rec.ws.readyState !== WebSocket.CLOSED) rec.ws.terminate();
      for (const peer of peers) if (peer.ws.readyState !== peer.ws.CLOSED) peer.ws.terminate();
      await waitFor(
        () =>
          clients.every((rec) => rec.closes.length === 1) && peers.every((peer) => peer.closes.length === 1),
        WAIT_MS,
        'every socket closed',
      );
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await waitFor(() => liveWebSockets() === 0, WAIT_MS, 'no live native WebSocket connection');
      await turns(3);
      // Every client reported 'close' exactly once and nothing after it.
      for (const rec of clients) expect(rec.events.at(-1)).toBe('close');
    },
  };
  return harness;
}

/** Waits until `rec` has received `count` messages in total. */
async function messagesOf(
  rec: ClientRecord,
  count: number,
  timeoutMs = 60_000,
): Promise<ClientRecord['messages']> {
  await waitFor(() => rec.messages.length >= count || rec.closes.length > 0, timeoutMs, `${count} messages`);
  expect(rec.messages).toHaveLength(count);
  return rec.messages;
}

describe('our WebSocket client against the npm ws server', () => {
  let harness: Harness;

  beforeEach(async () => {
    harness = await startServer();
  });

  afterEach(async () => {
    await harness.close();
  });

  it("emits 'upgrade' then 'open', once each, and sends the path and query", async () => {
    const { client, peer } = await harness.connect('/chat?room=7');
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    expect(client.ws.url).toBe(`ws://127.0.0.1:${harness.port}/chat?room=7`);
    expect(client.ws.protocol).toBe('');
    expect(client.ws.extensions).toBe('');
    expect(peer.request.url).toBe('/chat?room=7');
    expect(peer.request.headers.host).toBe(`127.0.0.1:${harness.port}`);
    expect(client.errors).toEqual([]);
  });

  it('is CONNECTING until the handshake completes, and send() throws WS_ERR_NOT_OPEN meanwhile', async () => {
    const client = harness.client();
    expect(client.ws.readyState).toBe(WebSocket.CONNECTING);
    expect(() => client.ws.send('too early')).toThrow(expect.objectContaining({ code: 'WS_ERR_NOT_OPEN' }));
    await waitFor(() => client.events.includes('open'), WAIT_MS, "'open'");
    await waitFor(() => harness.peers.length === 1, WAIT_MS, "the ws server's 'connection'");
  });

  it('sends the custom headers and origin given in the options', async () => {
    const { peer } = await harness.connect('/', undefined, {
      headers: { 'X-Test': 'yes' },
      origin: 'http://example.test',
    });
    expect(peer.request.headers['x-test']).toBe('yes');
    expect(peer.request.headers.origin).toBe('http://example.test');
  });

  it('echoes a text message as text', async () => {
    const { client, peer } = await harness.connect();
    const text = 'hello, ünïcødé ✓ 😀';
    expect(client.ws.send(text)).toBe('ok');
    const [message] = await messagesOf(client, 1);
    expect(message!.isBinary).toBe(false);
    expect(Buffer.isBuffer(message!.data)).toBe(true);
    expect(message!.data.toString()).toBe(text);
    expect(peer.messages).toEqual([{ data: Buffer.from(text), isBinary: false }]);
  });

  it('echoes a binary message as binary, byte for byte', async () => {
    const { client, peer } = await harness.connect();
    const bytes = randomBytes(4099);
    client.ws.send(bytes);
    const [message] = await messagesOf(client, 1);
    expect(message!.isBinary).toBe(true);
    expect(message!.data.equals(bytes)).toBe(true);
    expect(peer.messages[0]!.isBinary).toBe(true);
  });

  it('sends a TypedArray view and an ArrayBuffer as binary, and a Buffer as text with binary: false', async () => {
    const { client, peer } = await harness.connect();
    const backing = Uint8Array.from([9, 1, 2, 3, 9]);
    client.ws.send(backing.subarray(1, 4));
    client.ws.send(Uint8Array.from([4, 5]).buffer);
    client.ws.send(Buffer.from('as text'), { binary: false });
    await messagesOf(client, 3);
    expect(peer.messages).toEqual([
      { data: Buffer.from([1, 2, 3]), isBinary: true },
      { data: Buffer.from([4, 5]), isBinary: true },
      { data: Buffer.from('as text'), isBinary: false },
    ]);
  });

  it("delivers messages as ArrayBuffers with binaryType 'arraybuffer'", async () => {
    const { client } = await harness.connect();
    client.ws.binaryType = 'arraybuffer';
    client.ws.send(Buffer.from([1, 2, 3]));
    const [message] = await messagesOf(client, 1);
    expect(message!.data).toBeInstanceOf(ArrayBuffer);
    expect(Buffer.from(message!.data as unknown as ArrayBuffer)).toEqual(Buffer.from([1, 2, 3]));
  });

  it('sends and receives empty text and empty binary messages', async () => {
    const { client, peer } = await harness.connect();
    client.ws.send('');
    client.ws.send(Buffer.alloc(0));
    const got = await messagesOf(client, 2);
    expect(got).toEqual([
      { data: Buffer.alloc(0), isBinary: false },
      { data: Buffer.alloc(0), isBinary: true },
    ]);
    expect(peer.messages.map((message) => [message.data.length, message.isBinary])).toEqual([
      [0, false],
      [0, true],
    ]);
  });

  it('reassembles a text message the ws server sends in fragments', async () => {
    const { client, peer } = await harness.connect();
    peer.ws.send('frag', { fin: false });
    peer.ws.send('mént', { fin: false });
    peer.ws.send('ed ✓', { fin: true });
    const [message] = await messagesOf(client, 1);
    expect(message).toEqual({ data: Buffer.from('fragménted ✓'), isBinary: false });
  });

  it('reassembles a binary message the ws server sends in fragments, with a ping in between', async () => {
    const { client, peer } = await harness.connect();
    const pongs: Buffer[] = [];
    peer.ws.on('pong', (data) => pongs.push(data));
    const parts = [randomBytes(100), Buffer.alloc(0), randomBytes(70_000), randomBytes(1)];
    peer.ws.send(parts[0]!, { fin: false, binary: true });
    peer.ws.send(parts[1]!, { fin: false, binary: true });
    peer.ws.ping('mid');
    peer.ws.send(parts[2]!, { fin: false, binary: true });
    peer.ws.send(parts[3]!, { fin: true, binary: true });
    const [message] = await messagesOf(client, 1);
    expect(message!.isBinary).toBe(true);
    expect(message!.data.equals(Buffer.concat(parts))).toBe(true);
    await waitFor(() => pongs.length === 1, WAIT_MS, 'the automatic pong');
    expect(pongs[0]!.toString()).toBe('mid');
  });

  it('sends a fragmented message with fin: false that ws reassembles', async () => {
    const { client, peer } = await harness.connect();
    client.ws.send('one ', { fin: false });
    client.ws.send('two ', { fin: false });
    client.ws.send('three');
    await messagesOf(client, 1);
    expect(peer.messages).toEqual([{ data: Buffer.from('one two three'), isBinary: false }]);
  });

  it('receives an 8 MiB binary message and sends one back intact', { timeout: 60_000 }, async () => {
    const { client, peer } = await harness.connect();
    const bytes = randomBytes(8 * 1024 * 1024);
    const result = client.ws.send(bytes);
    expect(['ok', 'backpressure']).toContain(result);
    const [message] = await messagesOf(client, 1);
    expect(message!.isBinary).toBe(true);
    expect(message!.data.length).toBe(bytes.length);
    expect(message!.data.equals(bytes)).toBe(true);
    expect(peer.messages).toHaveLength(1);
  });

  it('round-trips a 1 MiB text message of multibyte characters', { timeout: 60_000 }, async () => {
    const { client } = await harness.connect();
    const text = 'aé€😀'.repeat(Math.ceil((1024 * 1024) / 10));
    client.ws.send(text);
    const [message] = await messagesOf(client, 1);
    expect(message!.isBinary).toBe(false);
    expect(message!.data.toString('utf8')).toBe(text);
  });

  it('delivers 10,000 small messages to ws and back in order', { timeout: 60_000 }, async () => {
    const { client, peer } = await harness.connect();
    const count = 10_000;
    const expected = Array.from({ length: count }, (_, i) => `m${i}`);
    for (const text of expected) client.ws.send(text);
    const got = await messagesOf(client, count);
    expect(got.map((message) => message.data.toString())).toEqual(expected);
    expect(peer.messages.map((message) => message.data.toString())).toEqual(expected);
  });

  it("answers the ws server's ping with a pong of the same data and reports the 'ping'", async () => {
    const { client, peer } = await harness.connect();
    const ping = nextEvent<[Buffer]>(client.ws, 'ping');
    const pong = nextEvent<[Buffer]>(peer.ws, 'pong');
    peer.ws.ping('are you there');
    const [[pingData], [pongData]] = await Promise.all([ping, pong]);
    expect(pingData.toString()).toBe('are you there');
    expect(pongData.toString()).toBe('are you there');
  });

  it("gets ws's automatic pong to its own ping as a 'pong' event", async () => {
    const { client, peer } = await harness.connect();
    const pong = nextEvent<[Buffer]>(client.ws, 'pong');
    const sent = vi.fn();
    client.ws.ping(Buffer.from('xyz'), undefined, sent);
    const [data] = await pong;
    expect(data.toString()).toBe('xyz');
    expect(peer.pings.map(String)).toEqual(['xyz']);
    expect(sent).toHaveBeenCalledTimes(1);
    expect(sent.mock.calls[0]![0]).toBeNull(); // as ws
  });

  it('calls each send callback once, in order, without an error, and pause() holds messages back', async () => {
    const { client, peer } = await harness.connect();
    const calls: Array<[number, Error | null | undefined]> = [];
    for (const i of [0, 1, 2]) client.ws.send(`n${i}`, (error?: Error) => calls.push([i, error]));
    await messagesOf(client, 3);
    await waitFor(() => calls.length === 3, WAIT_MS, 'the send callbacks');
    expect(calls).toEqual([
      [0, null],
      [1, null],
      [2, null],
    ]);
    client.ws.pause();
    peer.ws.send('held');
    await new Promise((resolve) => setTimeout(resolve, 200)); // no event marks "would have arrived"
    expect(client.messages).toHaveLength(3);
    client.ws.resume();
    await messagesOf(client, 4);
    expect(client.messages[3]!.data.toString()).toBe('held');
  });

  it('rejects a ping longer than 125 bytes with WS_ERR_CONTROL_TOO_LONG', async () => {
    const { client } = await harness.connect();
    expect(() => client.ws.ping(Buffer.alloc(126))).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^WS_ERR_/) }),
    );
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("closes with 4000 'bye': the ws server gets both, our client gets 'close' once", async () => {
    const { client, peer } = await harness.connect();
    client.ws.close(4000, 'bye');
    expect(client.ws.readyState).toBe(WebSocket.CLOSING);
    await waitFor(
      () => client.closes.length === 1 && peer.closes.length === 1,
      WAIT_MS,
      "both 'close' events",
    );
    expect(peer.closes).toEqual([{ code: 4000, reason: 'bye' }]);
    expect(client.closes[0]!.code).toBe(4000);
    expect(client.ws.readyState).toBe(WebSocket.CLOSED);
    expect(client.errors).toEqual([]);
    expect(client.events).toEqual(['upgrade', 'open', 'close']);
  });

  it('gets the code and reason of a close the ws server starts (1001)', async () => {
    const { client, peer } = await harness.connect();
    peer.ws.close(1001, 'going away');
    await waitFor(
      () => client.closes.length === 1 && peer.closes.length === 1,
      WAIT_MS,
      "both 'close' events",
    );
    expect(client.closes).toEqual([{ code: 1001, reason: 'going away' }]);
    expect(peer.closes[0]!.code).toBe(1001);
    expect(client.errors).toEqual([]);
  });

  it('reports 1005 when the ws server closes without a code', async () => {
    const { client, peer } = await harness.connect();
    peer.ws.close();
    await waitFor(
      () => client.closes.length === 1 && peer.closes.length === 1,
      WAIT_MS,
      "both 'close' events",
    );
    expect(client.closes).toEqual([{ code: 1005, reason: '' }]);
  });

  it('reports 1006 when the ws server terminates the connection', async () => {
    const { client, peer } = await harness.connect();
    peer.ws.terminate();
    await waitFor(() => client.closes.length === 1, WAIT_MS, "our 'close'");
    expect(client.closes).toEqual([{ code: 1006, reason: '' }]);
    expect(client.errors).toEqual([]);
    await waitFor(() => peer.closes.length === 1, WAIT_MS, "the ws 'close'");
  });

  it("reports 1006 on the ws server when our client terminates, and 'close' once on ours", async () => {
    const { client, peer } = await harness.connect();
    client.ws.terminate();
    await waitFor(
      () => peer.closes.length === 1 && client.closes.length === 1,
      WAIT_MS,
      "both 'close' events",
    );
    expect(peer.closes[0]!.code).toBe(1006);
    expect(client.closes).toEqual([{ code: 1006, reason: '' }]);
  });

  it('throws WS_ERR_INVALID_CLOSE_CODE for a code that may not be sent, and stays open', async () => {
    const { client } = await harness.connect();
    for (const code of [999, 1004, 1005, 1006, 1015, 2999, 5000]) {
      expect(() => client.ws.close(code)).toThrow(
        expect.objectContaining({ code: 'WS_ERR_INVALID_CLOSE_CODE' }),
      );
    }
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('throws for a close reason over 123 bytes', async () => {
    const { client } = await harness.connect();
    expect(() => client.ws.close(1000, 'x'.repeat(124))).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^WS_ERR_/) }),
    );
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe("our client's maxPayload against the npm ws server", () => {
  let harness: Harness;

  beforeEach(async () => {
    harness = await startServer({}, false);
  });

  afterEach(async () => {
    await harness.close();
  });

  it('accepts a message of exactly maxPayload bytes and closes with 1009 on a larger one', async () => {
    const { client, peer } = await harness.connect('/', undefined, { maxPayload: 1024 });
    peer.ws.send(Buffer.alloc(1024, 1));
    await messagesOf(client, 1);
    peer.ws.send(Buffer.alloc(1025, 2));
    await waitFor(
      () => client.closes.length === 1 && peer.closes.length === 1,
      WAIT_MS,
      "both 'close' events",
    );
    expect(client.messages).toHaveLength(1);
    expect(client.errors.map((error) => error.code)).toEqual(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
    expect(client.closes[0]!.code).toBe(1009);
    expect(peer.closes[0]!.code).toBe(1009);
    expect(client.events).toEqual(['upgrade', 'open', 'error', 'close']);
  });
});

describe('our client negotiating subprotocols with the npm ws server', () => {
  let harness: Harness | undefined;

  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("takes the protocol ws's handleProtocols chose", async () => {
    const handleProtocols = vi.fn((protocols: Set<string>) => (protocols.has('chat.v2') ? 'chat.v2' : false));
    harness = await startServer({ handleProtocols });
    const { client, peer } = await harness.connect('/', ['chat.v1', 'chat.v2']);
    expect(client.ws.protocol).toBe('chat.v2');
    expect(peer.ws.protocol).toBe('chat.v2');
    expect([...handleProtocols.mock.calls[0]![0]]).toEqual(['chat.v1', 'chat.v2']);
  });

  it('offers a single protocol given as a string', async () => {
    harness = await startServer();
    const { client, peer } = await harness.connect('/', 'only');
    expect(client.ws.protocol).toBe('only');
    expect(peer.request.headers['sec-websocket-protocol']).toBe('only');
  });

  it('throws for a repeated subprotocol before connecting', async () => {
    harness = await startServer();
    expect(() => new WebSocket(`ws://127.0.0.1:${harness!.port}/`, ['a', 'a'])).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^WS_ERR_/) }),
    );
  });
});

describe('our client when the handshake is refused or the connection fails', () => {
  let harness: Harness | undefined;

  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("emits 'unexpected-response' with the 401 and then 'close' 1006 when verifyClient refuses", async () => {
    harness = await startServer({
      verifyClient: (_info: unknown, done: (ok: boolean, code?: number) => void) => done(false, 401),
    });
    const client = harness.client('/');
    const responses: UpgradeResponse[] = [];
    client.ws.on('unexpected-response', (_request: unknown, response: UpgradeResponse) => {
      client.events.push('unexpected-response');
      responses.push(response);
    });
    await waitFor(() => client.closes.length === 1, WAIT_MS, "our 'close'");
    expect(client.events).toEqual(['unexpected-response', 'close']);
    expect(responses[0]!.statusCode).toBe(401);
    expect(client.closes).toEqual([{ code: 1006, reason: '' }]);
    expect(client.ws.readyState).toBe(WebSocket.CLOSED);
    expect(harness.peers).toEqual([]);
  });

  it("emits 'error' WS_ERR_UNEXPECTED_RESPONSE and then 'close' 1006 without an 'unexpected-response' listener", async () => {
    harness = await startServer({ verifyClient: () => false });
    const client = harness.client('/');
    await waitFor(() => client.closes.length === 1, WAIT_MS, "our 'close'");
    expect(client.events).toEqual(['error', 'close']);
    expect(client.errors[0]!.code).toBe('WS_ERR_UNEXPECTED_RESPONSE');
    expect(client.errors[0]!.message).toContain('401');
    expect(client.closes).toEqual([{ code: 1006, reason: '' }]);
  });

  it("emits 'error' with a WS_ERR_ code when ws answers a path it does not serve with 400", async () => {
    harness = await startServer({ path: '/only-here' });
    const client = harness.client('/elsewhere');
    await waitFor(() => client.closes.length === 1, WAIT_MS, "our 'close'");
    expect(client.events).toEqual(['error', 'close']);
    expect(client.errors[0]!.code).toMatch(/^WS_ERR_/);
    expect(client.closes[0]!.code).toBe(1006);
  });

  it("emits 'error' with a code and then 'close' 1006 when nothing listens on the port", async () => {
    // A port that was just free: listen, note it, close.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const rec = record(ws);
    await waitFor(() => rec.closes.length === 1, WAIT_MS, "our 'close'");
    expect(rec.events).toEqual(['error', 'close']);
    expect(rec.errors[0]!.code).toBe('ECONNREFUSED'); // as ws: Node's system error code
    expect(rec.closes).toEqual([{ code: 1006, reason: '' }]);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    await waitFor(() => liveWebSockets() === 0, WAIT_MS, 'no live native WebSocket connection');
  });

  it("does not throw when the connection fails and nobody listens for 'error'", async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const [code] = await nextEvent<[number]>(ws, 'close');
    expect(code).toBe(1006);
  });

  it('fails with WS_ERR_HANDSHAKE_TIMEOUT when the server never answers within handshakeTimeout', async () => {
    const sockets: net.Socket[] = [];
    let ended = 0;
    const silent = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('data', () => {}); // reads the upgrade request, never answers
      socket.on('end', () => ended++);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const rec = record(new WebSocket(`ws://127.0.0.1:${port}/`, { handshakeTimeout: 300 }));
    await waitFor(() => rec.closes.length === 1, WAIT_MS, "our 'close'");
    expect(rec.events).toEqual(['error', 'close']);
    expect(rec.errors[0]!.code).toBe('WS_ERR_HANDSHAKE_TIMEOUT');
    expect(rec.closes[0]!.code).toBe(1006);
    await waitFor(() => ended === 1, WAIT_MS, 'the silent server to see the close');
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it("emits 'close' 1006 (and WS_ERR_CLOSED_BEFORE_OPEN) when closed while connecting", async () => {
    harness = await startServer();
    const client = harness.client('/');
    client.ws.close();
    expect(client.ws.readyState).toBe(WebSocket.CLOSING);
    await waitFor(() => client.closes.length === 1, WAIT_MS, "our 'close'");
    expect(client.events).toEqual(['error', 'close']);
    expect(client.errors[0]!.code).toBe('WS_ERR_CLOSED_BEFORE_OPEN');
    expect(client.closes[0]!.code).toBe(1006);
    // The ws server may or may not have seen the connection; wait until it let go of it.
    await waitFor(
      () => harness!.peers.every((peer) => peer.closes.length === 1),
      WAIT_MS,
      'the ws side to close',
    );
  });

  it('throws WS_ERR_UNSUPPORTED_SCHEME for wss:// and WS_ERR_INVALID_URL for other schemes', () => {
    expect(() => new WebSocket('wss://127.0.0.1:1/')).toThrow(
      expect.objectContaining({ code: 'WS_ERR_UNSUPPORTED_SCHEME' }),
    );
    expect(() => new WebSocket('ftp://127.0.0.1:1/')).toThrow(
      expect.objectContaining({ code: 'WS_ERR_INVALID_URL' }),
    );
    expect(() => new WebSocket('not a url')).toThrow(expect.objectContaining({ code: 'WS_ERR_INVALID_URL' }));
  });
});
