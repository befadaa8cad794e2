// Zip bombs against our server: a compressed message that inflates past maxPayload is refused with
// close 1009 and WS_ERR_UNSUPPORTED_MESSAGE_LENGTH while inflating, so a 1 GiB bomb costs the
// process far less than 100 MiB. The limit counts inflated bytes across fragments; a message
// inflating to exactly maxPayload is delivered.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import zlib from 'node:zlib';
import { checkNothingLeaksAfterEach } from '../../helpers.ts';
import { closeCodeOf, frames, RawClient } from '../conformance/raw-client.ts';
import { compressMessage, inflateMessage, zeroBomb } from './compressed-frames.ts';
import { startServer, type Server } from './deflate-fixtures.ts';

checkNothingLeaksAfterEach({ fds: true });

const MAX_PAYLOAD = 1024 * 1024;

let server: Server;
const clients: RawClient[] = [];

beforeEach(async () => {
  server = await startServer({ perMessageDeflate: true, maxPayload: MAX_PAYLOAD });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await server.close();
});

/** A raw client whose permessage-deflate offer the server accepted. */
async function compressingClient(offer = 'permessage-deflate'): Promise<RawClient> {
  const client = await RawClient.connect(server.port);
  clients.push(client);
  const response = await client.handshake({ headers: { 'Sec-WebSocket-Extensions': offer } });
  expect(response.statusCode).toBe(101);
  expect(response.headers['sec-websocket-extensions']).toMatch(/^permessage-deflate\b/);
  return client;
}

/** The server's close code and its socket's error codes, once the socket closed. */
async function refusal(client: RawClient) {
  const close = await client.waitForCloseFrame();
  const side = await server.side(0);
  await client.waitForTcpClose();
  await server.close();
  return {
    closeCode: closeCodeOf(close),
    before: close.before.length,
    errors: side.errors.map((error) => error.code),
    messages: side.messages.length,
  };
}

/** With context takeover a message is inflated as it arrives; without, at its last frame. */
const OFFERS = [
  ['takeover', 'permessage-deflate'],
  ['client_no_context_takeover', 'permessage-deflate; client_no_context_takeover'],
] as const;

const REFUSED = { closeCode: 1009, before: 0, errors: ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'], messages: 0 };

describe('our server, maxPayload 1 MiB, against zip bombs', () => {
  // First in the file: they compare the process's peak RSS with its RSS before, which an earlier
  // test's peak could only hide, never fake.
  it.each(OFFERS)(
    '1 GiB of zeros in one ~1 MiB frame (%s): refused with 1009, peak RSS growth under 100 MiB',
    async (_name, offer) => {
      const bomb = zeroBomb(128);
      expect(bomb.length).toBeLessThan(MAX_PAYLOAD); // within maxPayload on the wire: only inflating finds it
      const frame = frames.binary(bomb, { rsv1: true });
      const client = await compressingClient(offer);
      const rssBefore = process.memoryUsage().rss;
      await client.send(frame);
      expect(await refusal(client)).toEqual(REFUSED);
      const peakGrowth = process.resourceUsage().maxRSS * 1024 - rssBefore;
      expect(peakGrowth).toBeLessThan(100 * 1024 * 1024);
    },
  );

  it.each(OFFERS)('a 32 MiB bomb in 512-byte fragments (%s): refused with 1009', async (_name, offer) => {
    const client = await compressingClient(offer);
    const bomb = zeroBomb(4); // 32 MiB from ~32 KiB
    const pieces = Math.ceil(bomb.length / 512);
    const bytes: Buffer[] = [];
    for (let i = 0; i < pieces; i++) {
      const payload = bomb.subarray(i * 512, (i + 1) * 512);
      const fin = i === pieces - 1;
      bytes.push(
        i === 0 ? frames.binary(payload, { rsv1: true, fin }) : frames.continuation(payload, { fin }),
      );
    }
    await client.send(Buffer.concat(bytes));
    expect(await refusal(client)).toEqual(REFUSED);
  });

  it.each([
    ['text', frames.text],
    ['binary', frames.binary],
  ])('8 MiB of zeros from ~8 KiB of %s: refused with 1009, no message', async (_kind, build) => {
    const bomb = zeroBomb(1);
    expect(bomb.length).toBeLessThan(10 * 1024);
    const client = await compressingClient();
    await client.send(build(bomb, { rsv1: true }));
    expect(await refusal(client)).toEqual(REFUSED);
  });

  it('a message inflating to exactly maxPayload is delivered; one byte more is refused', async () => {
    const client = await compressingClient();
    const exact = Buffer.alloc(MAX_PAYLOAD, 0x61);
    await client.send(frames.binary(compressMessage(exact), { rsv1: true }));
    const echoed = await client.readMessage();
    expect(client.frames[0]!.rsv1).toBe(true); // echoed compressed (the server's first message)
    expect(inflateMessage(echoed.data).equals(exact)).toBe(true);
    const side = await server.side(0);
    expect(side.messages.map((message) => message.data.length)).toEqual([MAX_PAYLOAD]);
    await client.send(frames.binary(compressMessage(Buffer.alloc(MAX_PAYLOAD + 1, 0x61)), { rsv1: true }));
    expect(await refusal(client)).toEqual({ ...REFUSED, messages: 1 });
  });

  it('the limit counts what all fragments inflate to: each under it, their sum over it', async () => {
    const client = await compressingClient();
    const compressed = compressMessage(Buffer.alloc(MAX_PAYLOAD * 2));
    const half = Math.floor(compressed.length / 2);
    // The first half inflates to about 1 MiB minus the block boundary: measured, not assumed.
    const firstInflated = zlib.inflateRawSync(compressed.subarray(0, half), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    }).length;
    expect(firstInflated).toBeLessThanOrEqual(MAX_PAYLOAD);
    await client.send(frames.binary(compressed.subarray(0, half), { rsv1: true, fin: false }));
    await client.send(frames.continuation(compressed.subarray(half)));
    expect(await refusal(client)).toEqual(REFUSED);
  });

  it('other connections are served while and after one is refused', async () => {
    const bomber = await compressingClient();
    // server_no_context_takeover: each echo inflates on its own (and ws applies its threshold then).
    const bystander = await compressingClient('permessage-deflate; server_no_context_takeover');
    const text = 'still here '.repeat(200);
    await bomber.send(frames.binary(zeroBomb(2), { rsv1: true }));
    await bystander.send(frames.text(compressMessage(text), { rsv1: true }));
    const echoed = await bystander.readMessage();
    expect(echoed.data.length).toBeLessThan(text.length); // echoed compressed
    expect(inflateMessage(echoed.data).toString()).toBe(text);
    const close = await bomber.waitForCloseFrame();
    expect(closeCodeOf(close)).toBe(1009);
    await bystander.send(frames.text('plain'));
    expect((await bystander.readMessage()).data.toString()).toBe('plain');
    expect(bystander.frames.map((frame) => frame.rsv1)).toEqual([true, false]);
  });
});
