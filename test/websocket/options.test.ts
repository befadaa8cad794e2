// Options of the WebSocket layer: timer bounds (a delay setTimeout cannot hold is refused, not
// turned into an immediate timeout), maxFragments (opt-in: the defaults never refuse a valid
// message, however finely fragmented), and client request headers that cannot forge a request.
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from '../../src/websocket/index.ts';
import { checkNothingLeaksAfterEach, errorCodeOf, turns, waitFor } from '../helpers.ts';
import { buildFrame, OPCODE, RawClient } from './conformance/raw-client.ts';

const WAIT_MS = 20_000;

checkNothingLeaksAfterEach({ fds: true });

let servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const server of servers) {
    for (const ws of server.clients) ws.terminate();
    server.close();
  }
  servers = [];
  await turns(3);
});

async function echoServer(options: { maxFragments?: number } = {}): Promise<{
  port: number;
  errors: string[];
  headers: Array<Record<string, string | string[] | undefined>>;
}> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  servers.push(server);
  const errors: string[] = [];
  const headers: Array<Record<string, string | string[] | undefined>> = [];
  server.on('connection', (ws, request) => {
    headers.push(request.headers);
    ws.on('error', (error: Error & { code?: string }) => errors.push(error.code ?? '?'));
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  await once(server, 'listening');
  return { port: (server.address() as { port: number }).port, errors, headers };
}

/** `data` as one message of `count`-byte fragments. */
function fragmented(data: Buffer, size: number): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) {
    parts.push(
      buildFrame({
        opcode: at === 0 ? OPCODE.BINARY : OPCODE.CONTINUATION,
        payload: data.subarray(at, at + size),
        fin: at + size >= data.length,
      }),
    );
  }
  return Buffer.concat(parts);
}

describe('closeTimeout and handshakeTimeout', () => {
  const invalid = [2 ** 31, 2 ** 53, Infinity, -Infinity, NaN, -1, 0, 1.5, '1000'];

  it.each(['closeTimeout', 'handshakeTimeout'])(
    '%s outside 1 – 2^31-1 ms (what setTimeout holds) is refused with ERR_INVALID_ARG, server and client',
    (name) => {
      for (const value of invalid) {
        expect(
          errorCodeOf(() => new WebSocketServer({ noServer: true, [name]: value })),
          String(value),
        ).toBe('ERR_INVALID_ARG');
        expect(
          errorCodeOf(() => new WebSocket('ws://127.0.0.1:9/', { [name]: value })),
          String(value),
        ).toBe('ERR_INVALID_ARG');
      }
      expect(errorCodeOf(() => new WebSocketServer({ noServer: true, [name]: 2 ** 31 - 1 }).close())).toBe(
        undefined,
      );
    },
  );

  it('with both at 2^31-1 ms, a client connects, echoes and closes (no timer fires early)', async () => {
    const { port } = await echoServer();
    const client = new WebSocket(`ws://127.0.0.1:${port}/`, {
      closeTimeout: 2 ** 31 - 1,
      handshakeTimeout: 2 ** 31 - 1,
    });
    await once(client, 'open');
    client.send('hi');
    const [data] = (await once(client, 'message')) as [Buffer];
    expect(data.toString()).toBe('hi');
    client.close(1000);
    const [code] = (await once(client, 'close')) as [number];
    expect(code).toBe(1000);
  });
});

describe('maxFragments', () => {
  it(
    'is off by default: a 4 MiB message in 64-byte fragments (65,536 frames) is echoed',
    { timeout: 60_000 },
    async () => {
      const { port, errors } = await echoServer();
      const client = await RawClient.open(port);
      const data = Buffer.alloc(4 * 1024 * 1024);
      for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
      await client.send(fragmented(data, 64));
      const echo = await client.readMessage();
      expect(echo.opcode).toBe(OPCODE.BINARY);
      expect(echo.data.equals(data)).toBe(true);
      client.destroy();
      expect(errors).toEqual([]);
    },
  );

  it('with maxFragments 10: 10 fragments are echoed, 11 close the connection with 1009 (WS_ERR_TOO_MANY_FRAGMENTS)', async () => {
    const { port, errors } = await echoServer({ maxFragments: 10 });
    const client = await RawClient.open(port);
    const ten = Buffer.alloc(100, 1);
    await client.send(fragmented(ten, 10));
    const echo = await client.readMessage();
    expect(echo.data.equals(ten)).toBe(true);
    await client.send(fragmented(Buffer.alloc(110, 2), 10));
    const close = await client.waitForCloseFrame();
    expect(close.before).toEqual([]);
    expect(close.payload.readUInt16BE(0)).toBe(1009);
    expect(await client.waitForTcpClose()).toBe('fin');
    client.destroy();
    await waitFor(() => errors.length === 1, WAIT_MS, "the server socket's error");
    expect(errors).toEqual(['WS_ERR_TOO_MANY_FRAGMENTS']);
  });
});

describe('client request headers', () => {
  const forged = [
    { what: 'a CR LF in a value', options: { headers: { 'X-A': 'a\r\nX-Injected: 1' } } },
    { what: 'a bare LF in a value', options: { headers: { 'X-A': 'a\nX-Injected: 1' } } },
    { what: 'a bare CR in a value', options: { headers: { 'X-A': 'a\rb' } } },
    { what: 'a NUL in a value', options: { headers: { 'X-A': 'a\0b' } } },
    {
      what: 'a CR LF CR LF in a value (a second request)',
      options: { headers: { 'X-A': 'a\r\n\r\nGET /x HTTP/1.1' } },
    },
    { what: 'a CR LF in a name', options: { headers: { 'X-A: 1\r\nX-B': 'b' } } },
    { what: 'a NUL in a name', options: { headers: { 'X-\0A': 'b' } } },
    { what: 'a space in a name', options: { headers: { 'X A': 'b' } } },
    { what: 'a colon in a name', options: { headers: { 'X-A:': 'b' } } },
    { what: 'an empty name', options: { headers: { '': 'b' } } },
    { what: 'a value that is not a string', options: { headers: { 'X-A': { toString: () => 'x' } } } },
    { what: 'a CR LF in the origin', options: { origin: 'http://a\r\nX-Injected: 1' } },
    { what: 'a LF in the origin', options: { origin: 'http://a\nX' } },
    { what: 'a NUL in the origin', options: { origin: 'http://a\0' } },
  ];

  it.each(forged)(
    'refuses $what with a TypeError WS_ERR_INVALID_HEADER (as ws), thrown by the constructor, and connects nowhere',
    async ({ options }) => {
      const { port, headers } = await echoServer();
      expect(() => new WebSocket(`ws://127.0.0.1:${port}/`, options as never)).toThrow(
        expect.objectContaining({ name: 'TypeError', code: 'WS_ERR_INVALID_HEADER' }),
      );
      await turns(5);
      expect(headers).toEqual([]);
    },
  );

  it('sends valid names and values as given: tab, every token character, a number, the origin', async () => {
    const { port, headers } = await echoServer();
    const client = new WebSocket(`ws://127.0.0.1:${port}/`, {
      headers: {
        'X-Tab': 'a\tb',
        'X-Latin1': 'café',
        "X-Token!#$%&'*+.^_`|~": 'ok',
        'X-Number': 42 as never,
      },
      origin: 'http://example.test',
    });
    await once(client, 'open');
    expect(headers[0]).toMatchObject({
      'x-tab': 'a\tb',
      "x-token!#$%&'*+.^_`|~": 'ok',
      'x-number': '42',
      origin: 'http://example.test',
    });
    client.close();
    await once(client, 'close');
  });
});
