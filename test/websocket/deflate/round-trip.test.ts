// permessage-deflate round trips between our client and our server over loopback, seen on the
// wire through a proxy: every size around the threshold and far above it, text and binary, both
// directions. Messages of at least `threshold` bytes travel compressed (RSV1 on their frame),
// smaller ones and `compress: false` ones plain, and every message arrives byte for byte, in order.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNothingLeaksAfterEach } from '../../helpers.ts';
import { compressibleBinary, compressibleText, randomBinary } from './deflate-fixtures.ts';
import { framesSince, link, mark, unlink, type Link } from './tapped-link.ts';
import type { TappedFrame } from './wire-tap.ts';

checkNothingLeaksAfterEach({ fds: true });

const THRESHOLD = 1024; // the default
const SIZES = [0, 1, THRESHOLD - 1, THRESHOLD, THRESHOLD + 1, 64 * 1024, 8 * 1024 * 1024];

function digest(data: Buffer): string {
  return `${data.length}:${createHash('sha1').update(data).digest('hex')}`;
}

function expectOneFrame(frames: TappedFrame[], compressed: boolean, masked: boolean): TappedFrame {
  expect(frames.length, 'frames carrying the message').toBe(1);
  const [frame] = frames;
  expect({
    fin: frame!.fin,
    rsv1: frame!.rsv1,
    rsv2: frame!.rsv2,
    rsv3: frame!.rsv3,
    masked: frame!.masked,
  }).toEqual({ fin: true, rsv1: compressed, rsv2: false, rsv3: false, masked });
  return frame!;
}

describe('our client and our server with perMessageDeflate: true (threshold 1024)', () => {
  let current: Link;
  beforeAll(async () => {
    current = await link(true, true);
  });
  afterAll(() => unlink(current));

  it('both ends agree on permessage-deflate', () => {
    expect(current.client.ws.extensions).toBe('permessage-deflate');
    expect(current.side.ws.extensions).toBe('permessage-deflate');
  });

  for (const size of SIZES) {
    for (const kind of ['text', 'binary'] as const) {
      const compressed = size >= THRESHOLD;
      it(`${kind} of ${size} bytes goes ${compressed ? 'compressed' : 'plain'} both ways and arrives intact`, async () => {
        const { client, side, tap } = current;
        const data = kind === 'text' ? compressibleText(size, size) : compressibleBinary(size);
        const bytes = Buffer.from(data);
        const since = mark(tap);
        const before = client.messages.length;
        client.ws.send(data);
        const [echoed] = (await client.nextMessages(before + 1)).slice(before);
        const received = side.messages[side.messages.length - 1]!;
        for (const message of [received, echoed!]) {
          expect(message.isBinary).toBe(kind === 'binary');
          expect(message.data.length).toBe(size);
          expect(message.data.equals(bytes)).toBe(true);
        }
        const frames = framesSince(tap, since);
        const up = expectOneFrame(frames.toServer, compressed, true);
        const down = expectOneFrame(frames.toClient, compressed, false);
        expect(up.opcode).toBe(kind === 'text' ? 1 : 2);
        expect(down.opcode).toBe(kind === 'text' ? 1 : 2);
        if (!compressed) expect(up.length).toBe(size);
        if (size >= 64 * 1024) {
          // Compressible data must really shrink (not just carry RSV1).
          expect(up.length).toBeLessThan(size / 4);
          expect(down.length).toBeLessThan(size / 4);
        }
      });
    }
  }

  it('the threshold counts UTF-8 bytes, not characters', async () => {
    const { client, tap } = current;
    const since = mark(tap);
    const before = client.messages.length;
    client.ws.send('€'.repeat(341)); // 1023 bytes
    client.ws.send('€'.repeat(342)); // 1026 bytes
    const echoed = (await client.nextMessages(before + 2)).slice(before);
    expect(echoed.map((message) => message.data.toString())).toEqual(['€'.repeat(341), '€'.repeat(342)]);
    const frames = framesSince(tap, since);
    expect(frames.toServer.map((frame) => frame.rsv1)).toEqual([false, true]);
    expect(frames.toClient.map((frame) => frame.rsv1)).toEqual([false, true]);
  });

  it('incompressible data above the threshold still goes compressed and arrives intact', async () => {
    const { client, tap } = current;
    const data = randomBinary(100_000);
    const since = mark(tap);
    const before = client.messages.length;
    client.ws.send(data);
    const [echoed] = (await client.nextMessages(before + 1)).slice(before);
    expect(echoed!.data.equals(data)).toBe(true);
    const frames = framesSince(tap, since);
    expectOneFrame(frames.toServer, true, true);
    expectOneFrame(frames.toClient, true, false);
  });

  it('send(data, { compress: false }) above the threshold goes plain, from either end', async () => {
    const { client, side, tap } = current;
    const data = compressibleText(5000);
    const since = mark(tap);
    const before = client.messages.length;
    client.ws.send(data, { compress: false }); // echoed with the default, compressed
    side.ws.send(data, { compress: false });
    side.ws.send(data, { compress: true });
    const echoed = (await client.nextMessages(before + 3)).slice(before);
    expect(echoed.map((message) => message.data.toString() === data)).toEqual([true, true, true]);
    const frames = framesSince(tap, since);
    expect(frames.toServer.map((frame) => [frame.rsv1, frame.length])).toEqual([[false, 5000]]);
    // The server's own two sends may be written before or after the echo; their order is kept.
    const down = frames.toClient.map((frame) => frame.rsv1);
    expect(down.filter((rsv1) => !rsv1)).toHaveLength(1);
    expect(down.filter((rsv1) => rsv1)).toHaveLength(2);
    expect(frames.toClient.find((frame) => !frame.rsv1)!.length).toBe(5000);
  });

  it('200 messages alternating compressed and plain, from both ends at once, keep their order', async () => {
    const { client, side, tap } = current;
    const sent = Array.from({ length: 200 }, (_, i) =>
      i % 3 === 0 ? `small ${i}` : i % 3 === 1 ? compressibleText(2000 + i, i) : compressibleBinary(1500 + i),
    );
    const own = sent.map((data) =>
      typeof data === 'string' ? `own ${data}` : Buffer.concat([Buffer.from('own '), data]),
    );
    const since = mark(tap);
    const before = client.messages.length;
    const sideBefore = side.messages.length;
    for (let i = 0; i < sent.length; i++) {
      client.ws.send(sent[i]!);
      side.ws.send(own[i]!, { compress: i % 2 === 0 });
    }
    const received = (await client.nextMessages(before + 400)).slice(before);
    const isOwn = (message: { data: Buffer }) => message.data.subarray(0, 4).toString('latin1') === 'own ';
    // The server's own 200 and the 200 echoes interleave as they come; each series keeps its order.
    // Compared as hashes: a deep toEqual over every byte of 600 buffers is slow.
    const digests = (list: Array<Buffer | string>) => list.map((data) => digest(Buffer.from(data)));
    expect(digests(received.filter(isOwn).map((message) => message.data))).toEqual(digests(own));
    expect(digests(received.filter((message) => !isOwn(message)).map((message) => message.data))).toEqual(
      digests(sent),
    );
    expect(digests(side.messages.slice(sideBefore).map((message) => message.data))).toEqual(digests(sent));
    const frames = framesSince(tap, since);
    const large = (data: string | Buffer) => Buffer.byteLength(data) >= THRESHOLD;
    expect(frames.toServer.map((frame) => frame.rsv1)).toEqual(sent.map(large));
    const compressedOwn = own.filter((data, i) => i % 2 === 0 && large(data)).length;
    expect(frames.toClient.filter((frame) => frame.rsv1)).toHaveLength(
      sent.filter(large).length + compressedOwn,
    );
  });
});

describe('threshold 0: even empty messages are compressed', () => {
  let current: Link;
  beforeAll(async () => {
    current = await link({ threshold: 0 }, { threshold: 0 });
  });
  afterAll(() => unlink(current));

  it.each([
    ['empty text', ''],
    ['empty binary', Buffer.alloc(0)],
    ['one byte', 'x'],
  ])('%s round trips with RSV1 both ways', async (_name, data) => {
    const { client, tap } = current;
    const since = mark(tap);
    const before = client.messages.length;
    client.ws.send(data);
    const [echoed] = (await client.nextMessages(before + 1)).slice(before);
    expect(echoed!.isBinary).toBe(typeof data !== 'string');
    expect(echoed!.data.equals(Buffer.from(data))).toBe(true);
    const frames = framesSince(tap, since);
    expectOneFrame(frames.toServer, true, true);
    expectOneFrame(frames.toClient, true, false);
  });
});

describe('thresholds are each end’s own', () => {
  let current: Link;
  beforeAll(async () => {
    current = await link({ threshold: 100 }, { threshold: 5000 });
  });
  afterAll(() => unlink(current));

  it('a 1000-byte message goes plain from the client (threshold 5000) and compressed back (threshold 100)', async () => {
    const { client, tap } = current;
    const data = compressibleText(1000);
    const since = mark(tap);
    const before = client.messages.length;
    client.ws.send(data);
    const [echoed] = (await client.nextMessages(before + 1)).slice(before);
    expect(echoed!.data.toString()).toBe(data);
    const frames = framesSince(tap, since);
    expectOneFrame(frames.toServer, false, true);
    expectOneFrame(frames.toClient, true, false);
  });
});

describe('compression not agreed', () => {
  it.each([
    ['the client does not offer it', true, false],
    ['the server does not take it', false, true],
  ])('%s: extensions is empty and large messages go plain', async (_name, serverDeflate, clientDeflate) => {
    const current = await link(serverDeflate, clientDeflate);
    try {
      const { client, side, tap } = current;
      expect(client.ws.extensions).toBe('');
      expect(side.ws.extensions).toBe('');
      const data = compressibleText(10_000);
      client.ws.send(data);
      const [echoed] = await client.nextMessages(1);
      expect(echoed!.data.toString()).toBe(data);
      const frames = framesSince(tap, { toServer: 0, toClient: 0 });
      expectOneFrame(frames.toServer, false, true);
      expectOneFrame(frames.toClient, false, false);
    } finally {
      await unlink(current);
    }
  });
});
