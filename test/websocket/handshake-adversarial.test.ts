// The natively read request head under adversarial input: heads split at every byte around the
// blank line with frames pipelined behind it, a head of exactly maxHeaderSize (and one byte over),
// NUL and non-latin1 bytes, and thousands of header lines. Every case ends in a 101 whose socket
// then works, or in a coded refusal; never a crash or a hang.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from '../../src/websocket/index.ts';
import { checkNothingLeaksAfterEach, turns, waitFor } from '../helpers.ts';
import { RawClient, WAIT_MS, frames, handshakeRequest } from './conformance/raw-client.ts';

checkNothingLeaksAfterEach({ fds: true });

let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
  await turns(3);
});

/** A server echoing every message; `errors` collects the codes of its 'wsClientError's. */
async function echoServer(
  maxHeaderSize?: number,
): Promise<{ port: number; errors: string[]; sockets: WebSocket[] }> {
  const server = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    ...(maxHeaderSize === undefined ? {} : { maxHeaderSize }),
  });
  const errors: string[] = [];
  const sockets: WebSocket[] = [];
  server.on('wsClientError', (error: Error & { code?: string }) => errors.push(error.code ?? '?'));
  server.on('connection', (ws: WebSocket) => {
    sockets.push(ws);
    ws.on('message', (data: Buffer) => ws.send(`echo ${data.toString()}`));
  });
  cleanups.push(async () => {
    for (const ws of server.clients) ws.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  await new Promise((resolve) => server.once('listening', resolve));
  return { port: (server.address() as { port: number }).port, errors, sockets };
}

async function rawClient(port: number): Promise<RawClient> {
  const client = await RawClient.connect(port);
  cleanups.push(() => client.destroy());
  return client;
}

describe('a head split across reads, frames pipelined behind it', () => {
  it('is answered with 101 for every cut within 8 bytes of the blank line, and the first frame is read', async () => {
    const { port } = await echoServer();
    const { text } = handshakeRequest();
    const bytes = Buffer.concat([Buffer.from(text, 'latin1'), frames.text('first'), frames.text('second')]);
    const headEnd = text.length;
    for (let cut = headEnd - 8; cut <= headEnd + 3; cut++) {
      const client = await rawClient(port);
      await client.send(bytes, { splitAt: [cut] });
      const response = await client.readResponseHead();
      expect(response.statusCode, `cut at ${cut - headEnd}`).toBe(101);
      const echoes = await client.readMessages(2);
      expect(echoes.map((message) => message.data.toString())).toEqual(['echo first', 'echo second']);
      client.destroy();
    }
  });

  it('byte by byte, head and frames: 101 then both echoes', async () => {
    const { port } = await echoServer();
    const { text } = handshakeRequest();
    const client = await rawClient(port);
    const bytes = Buffer.concat([Buffer.from(text, 'latin1'), frames.text('a'), frames.text('b')]);
    await client.send(bytes, 'bytewise');
    expect((await client.readResponseHead()).statusCode).toBe(101);
    const echoes = await client.readMessages(2);
    expect(echoes.map((message) => message.data.toString())).toEqual(['echo a', 'echo b']);
  });
});

describe('the size limit', () => {
  /** A request of exactly `size` bytes, blank line included, padded in an X-Pad header. */
  function requestOfSize(size: number): string {
    const base = handshakeRequest({ headers: { 'X-Pad': '' } }).text;
    return handshakeRequest({ headers: { 'X-Pad': 'p'.repeat(size - base.length) } }).text;
  }

  it('a head of exactly maxHeaderSize is accepted; one byte more is 431', async () => {
    const { port, errors } = await echoServer(2048);
    const exact = requestOfSize(2048);
    expect(exact.length).toBe(2048);
    const accepted = await rawClient(port);
    await accepted.send(exact);
    expect((await accepted.readResponseHead()).statusCode).toBe(101);

    const over = await rawClient(port);
    await over.send(requestOfSize(2049));
    expect((await over.readResponseHead()).statusCode).toBe(431);
    expect(errors).toEqual(['WS_ERR_HEADER_TOO_LARGE']);
  });

  it('an endless head without a blank line is refused with 431 once over the limit', async () => {
    const { port, errors } = await echoServer(4096);
    const client = await rawClient(port);
    await client.send(`GET / HTTP/1.1\r\n${'X-A: b\r\n'.repeat(1000)}`);
    expect((await client.readResponseHead()).statusCode).toBe(431);
    expect(errors).toEqual(['WS_ERR_HEADER_TOO_LARGE']);
  });
});

describe('odd bytes and many headers', () => {
  it("a control character in a header value is 400 (as Node's parser answers ws); bytes over 0x7f are fine", async () => {
    const { port, errors } = await echoServer();
    const statusFor = async (value: string, key?: string) => {
      const client = await rawClient(port);
      await client.send(
        Buffer.from(
          handshakeRequest({ ...(key === undefined ? {} : { key }), headers: { 'X-Odd': value } }).text,
          'latin1',
        ),
      );
      const status = (await client.readResponseHead()).statusCode;
      client.destroy();
      return status;
    };
    expect(await statusFor('a\u0000b')).toBe(400);
    expect(await statusFor('a\u007fb')).toBe(400);
    expect(await statusFor('a\u001bb')).toBe(400);
    expect(await statusFor('a\tb')).toBe(101);
    expect(await statusFor('caf\u00e9 \u00ff\u0080')).toBe(101);
    expect(await statusFor('x', 'dGhlIHNhbXBsZSBub25j\u0000ZQ==')).toBe(400);
    expect(errors).toEqual(Array(4).fill('WS_ERR_INVALID_HANDSHAKE'));
    const fine = await RawClient.open(port);
    cleanups.push(() => fine.destroy());
    await fine.send(frames.text('ok'));
    expect((await fine.readMessage()).data.toString()).toBe('echo ok');
  });

  it('3000 header lines within a 64 KiB limit are read in one go', async () => {
    const { port, sockets } = await echoServer(64 * 1024);
    const many: Record<string, string[]> = { 'X-Many': Array.from({ length: 3000 }, (_, i) => `${i}`) };
    const client = await rawClient(port);
    await client.send(handshakeRequest({ headers: many }).text);
    expect((await client.readResponseHead()).statusCode).toBe(101);
    await waitFor(() => sockets.length === 1, WAIT_MS, 'the connection');
  });
});
