// The request a WebSocketServer on its native listener hands to 'connection' (and verifyClient):
// its head parsed as Node's HTTP parser would give it. Names are lower-cased, repeated headers
// joined with ", ", optional whitespace is spaces and tabs only, and a header named like an
// Object.prototype member is just a header. Malformed request lines and header lines get a 400.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from '../../src/websocket/index.ts';
import type { UpgradeRequest } from '../../src/websocket/upgrade-request.ts';
import { checkNothingLeaksAfterEach, waitFor } from '../helpers.ts';

const WAIT_MS = 10_000;
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

checkNothingLeaksAfterEach({ fds: true });

const servers: WebSocketServer[] = [];
const peers: net.Socket[] = [];

afterEach(async () => {
  for (const peer of peers.splice(0)) peer.destroy();
  for (const server of servers.splice(0)) {
    for (const ws of server.clients) ws.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function startServer(): Promise<{ server: WebSocketServer; port: number; requests: UpgradeRequest[] }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(server);
  const requests: UpgradeRequest[] = [];
  server.on('connection', (_ws: WebSocket, request) => requests.push(request as UpgradeRequest));
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return { server, port: (server.address() as { port: number }).port, requests };
}

/** Sends `head` (CRLF line ends and the blank line added) and returns the status line answered. */
async function send(port: number, lines: string[]): Promise<string> {
  const peer = net.connect(port, '127.0.0.1');
  peers.push(peer);
  let received = '';
  peer.on('data', (chunk) => (received += chunk.toString('latin1')));
  peer.on('error', () => {});
  peer.write(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
  await waitFor(() => received.includes('\r\n'), WAIT_MS, 'the status line');
  return received.slice(0, received.indexOf('\r\n'));
}

const UPGRADE = [
  'Host: 127.0.0.1',
  'Upgrade: websocket',
  'Connection: Upgrade',
  `Sec-WebSocket-Key: ${KEY}`,
  'Sec-WebSocket-Version: 13',
];

describe('the request head, as the server hands it on', () => {
  it('gives method, url, version, lower-cased names, joined repeats and the raw lines', async () => {
    const { port, requests } = await startServer();
    const status = await send(port, [
      'GET /chat?room=1 HTTP/1.1',
      ...UPGRADE,
      'X-Custom-Name:  padded value \t',
      'Accept-Language: en',
      'accept-language: fr',
      'Cookie: a=1',
    ]);
    expect(status).toBe('HTTP/1.1 101 Switching Protocols');
    await waitFor(() => requests.length === 1, WAIT_MS, "'connection'");
    const request = requests[0]!;
    expect(request.method).toBe('GET');
    expect(request.url).toBe('/chat?room=1');
    expect(request.httpVersion).toBe('1.1');
    expect(request.headers['x-custom-name']).toBe('padded value');
    expect(request.headers['accept-language']).toBe('en, fr');
    expect(request.headers.cookie).toBe('a=1');
    expect(request.headers.host).toBe('127.0.0.1');
    expect(request.rawHeaders.slice(-8)).toEqual([
      'X-Custom-Name',
      'padded value',
      'Accept-Language',
      'en',
      'accept-language',
      'fr',
      'Cookie',
      'a=1',
    ]);
    expect(Object.keys(request.headers)).toEqual([
      'host',
      'upgrade',
      'connection',
      'sec-websocket-key',
      'sec-websocket-version',
      'x-custom-name',
      'accept-language',
      'cookie',
    ]);
  });

  it('keeps headers named like Object.prototype members as plain headers, and invents none', async () => {
    const { port, requests } = await startServer();
    const status = await send(port, [
      'GET / HTTP/1.1',
      ...UPGRADE,
      'Constructor: c',
      '__proto__: p',
      'toString: t',
    ]);
    expect(status).toBe('HTTP/1.1 101 Switching Protocols');
    await waitFor(() => requests.length === 1, WAIT_MS, "'connection'");
    const headers = requests[0]!.headers;
    expect(headers.constructor).toBe('c');
    expect(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value).toBe('p');
    expect(headers.tostring).toBe('t');
    expect(headers.hasOwnProperty).toBeUndefined();
    expect(headers.valueOf).toBeUndefined();
    expect('toString' in headers).toBe(false);
    expect(JSON.parse(JSON.stringify(headers))).toMatchObject({ constructor: 'c', tostring: 't' });
  });

  it('accepts Upgrade and Connection lists in any case with spaces and tabs around the tokens', async () => {
    const { port, requests } = await startServer();
    const status = await send(port, [
      'GET / HTTP/1.1',
      'Host: 127.0.0.1',
      'Upgrade: h2c ,\tWebSocket',
      'Connection: keep-alive,  UPGRADE ',
      `Sec-WebSocket-Key: ${KEY}`,
      'Sec-WebSocket-Version: 13',
    ]);
    expect(status).toBe('HTTP/1.1 101 Switching Protocols');
    await waitFor(() => requests.length === 1, WAIT_MS, "'connection'");
  });

  it.each([
    ['a lower-case method', 'get / HTTP/1.1'],
    ['HTTP/1.0', 'GET / HTTP/1.0'],
    ['two spaces before the target', 'GET  / HTTP/1.1'],
    ['no version', 'GET /'],
    ['a version with letters', 'GET / HTTP/1.x'],
    ['trailing text after the version', 'GET / HTTP/1.1 extra'],
    ['a target with a vertical tab', 'GET /a\x0bb HTTP/1.1'],
    ['a method that is not a token', 'G(T / HTTP/1.1'],
  ])('answers 400 to a request line with %s', async (_what, line) => {
    const { port, requests } = await startServer();
    const status = await send(port, [line, ...UPGRADE]);
    expect(status).toBe('HTTP/1.1 400 Bad Request');
    expect(requests).toEqual([]);
  });

  it.each([
    ['a space before the colon', 'X-Bad : value'],
    ['a name that is not a token', 'X(Bad): value'],
    ['an empty name', ': value'],
    ['a control character at the end of the value', 'X-Bad: value\x0b'],
    ['a NUL inside the value', 'X-Bad: va\x00lue'],
    ['no colon', 'X-Bad value'],
  ])('answers 400 to a header line with %s', async (_what, line) => {
    const { port, requests } = await startServer();
    const status = await send(port, ['GET / HTTP/1.1', ...UPGRADE, line]);
    expect(status).toBe('HTTP/1.1 400 Bad Request');
    expect(requests).toEqual([]);
  });
});
