// Fragmented messages with permessage-deflate (send(x, { fin: false }) sequences), from either
// end: whether a message is compressed is decided on its first fragment, RSV1 is set on that
// fragment only, pings sent between fragments go out between them uncompressed, and the message
// arrives whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNothingLeaksAfterEach, waitFor } from '../../helpers.ts';
import { compressibleBinary, compressibleText, WAIT_MS, type Recorded } from './deflate-fixtures.ts';
import { allFramesSince, link, markAll, unlink, type Link } from './tapped-link.ts';
import type { TappedFrame } from './wire-tap.ts';

checkNothingLeaksAfterEach({ fds: true });

const OP = { CONTINUATION: 0, TEXT: 1, BINARY: 2, PING: 9 } as const;

/** Sends `parts` as one message from `sender`, pinging between parts when `pings` names them. */
function sendFragments(
  sender: Recorded,
  parts: Array<Buffer | string>,
  {
    binary = false,
    compress,
    pings = [] as string[],
  }: { binary?: boolean; compress?: boolean; pings?: string[] } = {},
): void {
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    sender.ws.send(part, { binary, fin: last, ...(i === 0 && compress !== undefined ? { compress } : {}) });
    if (!last && pings[i] !== undefined) sender.ws.ping(pings[i]);
  });
}

/** What matters of each frame for these tests. */
function shape(frames: TappedFrame[]) {
  return frames.map((frame) => ({ opcode: frame.opcode, fin: frame.fin, rsv1: frame.rsv1 }));
}

/** The frames of a message in `parts.length` fragments with a ping after each but the last. */
function expectedFrames(first: number, count: number, compressed: boolean, withPings: boolean) {
  const out: Array<{ opcode: number; fin: boolean; rsv1: boolean }> = [];
  for (let i = 0; i < count; i++) {
    const last = i === count - 1;
    out.push({ opcode: i === 0 ? first : OP.CONTINUATION, fin: last, rsv1: i === 0 && compressed });
    if (!last && withPings) out.push({ opcode: OP.PING, fin: true, rsv1: false });
  }
  return out;
}

describe('fragmented messages with compression agreed', () => {
  let current: Link;
  beforeAll(async () => {
    current = await link(true, true, false); // no echo: each test reads what one end received
  });
  afterAll(() => unlink(current));

  async function roundTrip(
    from: 'client' | 'server',
    parts: Array<Buffer | string>,
    options: { binary?: boolean; compress?: boolean; pings?: string[] },
  ) {
    const { client, side, tap } = current;
    const [sender, receiver] = from === 'client' ? [client, side] : [side, client];
    const since = markAll(tap);
    const messagesBefore = receiver.messages.length;
    const pingsBefore = receiver.pings.length;
    sendFragments(sender, parts, options);
    const [message] = (await receiver.nextMessages(messagesBefore + 1)).slice(messagesBefore);
    await waitFor(
      () => receiver.pings.length >= pingsBefore + (options.pings?.length ?? 0),
      WAIT_MS,
      'the pings',
    );
    const way = from === 'client' ? 'toServer' : 'toClient';
    const frames = allFramesSince(tap, since)[way].filter((frame) => frame.opcode !== 0xa);
    return { message: message!, pings: receiver.pings.slice(pingsBefore), frames };
  }

  for (const from of ['client', 'server'] as const) {
    it(`from the ${from}: a compressed text message in 3 fragments with pings between`, async () => {
      const parts = [compressibleText(3000, 1), compressibleText(1500, 2), compressibleText(4000, 3)];
      const { message, pings, frames } = await roundTrip(from, parts, { pings: ['p1', 'p2'] });
      expect(message.isBinary).toBe(false);
      expect(message.data.toString()).toBe(parts.join(''));
      expect(pings.map(String)).toEqual(['p1', 'p2']);
      expect(shape(frames)).toEqual(expectedFrames(OP.TEXT, 3, true, true));
      // The message's bytes really shrank.
      const payload = frames
        .filter((frame) => frame.opcode < 8)
        .reduce((sum, frame) => sum + frame.length, 0);
      expect(payload).toBeLessThan(8500 / 2);
    });

    it(`from the ${from}: a compressed binary message in 100 fragments of 1 KiB`, async () => {
      const whole = compressibleBinary(100 * 1024);
      const parts = Array.from({ length: 100 }, (_, i) => whole.subarray(i * 1024, (i + 1) * 1024));
      const { message, frames } = await roundTrip(from, parts, { binary: true });
      expect(message.isBinary).toBe(true);
      expect(message.data.equals(whole)).toBe(true);
      expect(shape(frames)).toEqual(expectedFrames(OP.BINARY, 100, true, false));
    });

    it(`from the ${from}: a first fragment below the threshold sends the whole message plain`, async () => {
      const parts = ['head ', compressibleText(5000), compressibleText(5000, 9)];
      const { message, frames } = await roundTrip(from, parts, { pings: ['a', 'b'] });
      expect(message.data.toString()).toBe(parts.join(''));
      expect(shape(frames)).toEqual(expectedFrames(OP.TEXT, 3, false, true));
      expect(frames.filter((frame) => frame.opcode < 8).map((frame) => frame.length)).toEqual([
        5, 5000, 5000,
      ]);
    });

    it(`from the ${from}: compress: false on the first fragment sends the whole message plain`, async () => {
      const parts = [compressibleBinary(4000), compressibleBinary(4000)];
      const { message, frames } = await roundTrip(from, parts, { binary: true, compress: false });
      expect(message.data.equals(Buffer.concat(parts))).toBe(true);
      expect(shape(frames)).toEqual(expectedFrames(OP.BINARY, 2, false, false));
    });

    it(`from the ${from}: empty fragments inside and at the end of a compressed message`, async () => {
      const parts = [compressibleText(2000), '', compressibleText(2000, 5), '', ''];
      const { message, pings, frames } = await roundTrip(from, parts, { pings: ['', 'x', '', 'y'] });
      expect(message.data.toString()).toBe(parts.join(''));
      expect(pings.map(String)).toEqual(['', 'x', '', 'y']);
      expect(shape(frames)).toEqual(expectedFrames(OP.TEXT, 5, true, true));
    });

    it(`from the ${from}: a character split between two fragments of a compressed text message`, async () => {
      const text = compressibleText(3000) + '€ and 😀 end';
      const bytes = Buffer.from(text);
      const cuts = [3001, 3002, bytes.length - 6]; // inside '€' twice and inside '😀'
      const parts = [0, ...cuts].map((start, i) => bytes.subarray(start, [...cuts, bytes.length][i]));
      const { message, frames } = await roundTrip(from, parts, { binary: false });
      expect(message.isBinary).toBe(false);
      expect(message.data.toString()).toBe(text);
      expect(shape(frames)).toEqual(expectedFrames(OP.TEXT, 4, true, false));
    });

    it(`from the ${from}: four 1 MiB fragments, then a small plain message and a compressed one`, async () => {
      const { client, side } = current;
      const [sender, receiver] = from === 'client' ? [client, side] : [side, client];
      const parts = [0, 1, 2, 3].map((i) => compressibleBinary(1024 * 1024).fill(i, 0, 1));
      const before = receiver.messages.length;
      sendFragments(sender, parts, { binary: true });
      sender.ws.send('after');
      sender.ws.send(compressibleText(2048));
      const received = (await receiver.nextMessages(before + 3)).slice(before);
      expect(received[0]!.data.equals(Buffer.concat(parts))).toBe(true);
      expect(received[1]!.data.toString()).toBe('after');
      expect(received[2]!.data.toString()).toBe(compressibleText(2048));
    });
  }
});

describe('closing right after compressed sends', () => {
  for (const from of ['client', 'server'] as const) {
    it(`from the ${from}: an 8 MiB compressed message and a fragmented one, then close(): both arrive before the close`, async () => {
      const current = await link(true, true, false);
      try {
        const { client, side } = current;
        const [sender, receiver] = from === 'client' ? [client, side] : [side, client];
        const big = compressibleText(8 * 1024 * 1024, 3);
        const parts = [compressibleBinary(5000), compressibleBinary(3000)];
        sender.ws.send(big);
        sendFragments(sender, parts, { binary: true });
        sender.ws.close(1000, 'done');
        await waitFor(() => receiver.closes.length === 1, WAIT_MS, "the receiver's close");
        expect(receiver.messages).toHaveLength(2);
        expect(receiver.messages[0]!.data.toString() === big).toBe(true);
        expect(receiver.messages[1]!.data.equals(Buffer.concat(parts))).toBe(true);
        expect(receiver.closes).toEqual([{ code: 1000, reason: 'done' }]);
        expect([...sender.errors, ...receiver.errors]).toEqual([]);
      } finally {
        await unlink(current);
      }
    });
  }
});
