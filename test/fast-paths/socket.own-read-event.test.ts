// The binding's own reads (maxReadPerWakeup) watch the socket through the bufferevent's own read
// event, given the binding's callback, and switch to an event of their own while libevent could
// delete that one behind their back (a rate limit, a rate-limit group) or reads as well (a filter on
// top). Every switch keeps the stream whole: all bytes, in order, nothing stalled.
import { describe, expect, it } from 'vitest';
import { BEV, Bufferevent, EV, Listener, RateLimitGroup, socketpair } from '../../src/index.ts';
import { checkNothingLeaksAfterEach, waitFor } from '../helpers.ts';

checkNothingLeaksAfterEach();

const KiB = 1024;
const OWN_READS = { maxReadPerWakeup: 64 * KiB };

function pattern(size: number, seed: number): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + seed + (i >>> 11)) & 0xff;
  return data;
}

/** Collects what `bev` reads, and the largest single read. */
function collect(bev: Bufferevent) {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let largest = 0;
  bev.setCallbacks({
    read(self) {
      const chunk = self.read();
      chunks.push(chunk);
      bytes += chunk.length;
      largest = Math.max(largest, chunk.length);
    },
  });
  return { received: () => bytes, largest: () => largest, data: () => Buffer.concat(chunks) };
}

function ownReadsAndPeer(): { reader: Bufferevent; peer: Bufferevent } {
  const [mine, theirs] = socketpair();
  return { reader: Bufferevent.socket({ fd: mine, ...OWN_READS }), peer: Bufferevent.socket({ fd: theirs }) };
}

/** A reader with own reads, reading and collecting, and its peer ready to write. */
function streamingPair() {
  const { reader, peer } = ownReadsAndPeer();
  const got = collect(reader);
  reader.enable(EV.READ);
  peer.enable(EV.WRITE);
  return { reader, peer, got };
}

describe('own reads through the bufferevent’s read event', () => {
  it('read large chunks, and keep reading across enable/disable', async () => {
    const { reader, peer, got } = streamingPair();
    const first = pattern(512 * KiB, 1);
    peer.write(first);
    await waitFor(() => got.received() === first.length, 10_000, 'the first half');
    expect(got.largest()).toBeGreaterThan(4096);
    reader.disable(EV.READ);
    expect(reader.enabled & EV.READ).toBe(0);
    const second = pattern(256 * KiB, 2);
    peer.write(second);
    await new Promise((resolve) => setTimeout(resolve, 200)); // a span of time, not a wait for an event
    expect(got.received()).toBe(first.length); // disabled: nothing read
    reader.enable(EV.READ);
    await waitFor(() => got.received() === first.length + second.length, 10_000, 'the second half');
    expect(got.data().equals(Buffer.concat([first, second]))).toBe(true);
    reader.free();
    peer.free();
  });

  it('start reading on a connected socket once connect() has given it its fd', async () => {
    let accepted: Bufferevent | undefined;
    const listener = Listener.listen({ host: '127.0.0.1', port: 0 }, (fd) => {
      accepted = Bufferevent.socket({ fd });
    });
    const client = Bufferevent.socket(OWN_READS);
    const chunks: Buffer[] = [];
    let connected = false;
    client.setCallbacks({
      read: (bev) => chunks.push(bev.read()),
      event: (_bev, events) => {
        if (events & BEV.CONNECTED) connected = true;
      },
    });
    client.enable(EV.READ); // before the connect: reading starts once connected
    client.connect({ host: '127.0.0.1', port: listener.address.port });
    await waitFor(() => connected && accepted !== undefined, 10_000, 'the connection');
    listener.close();
    const data = pattern(1024 * KiB, 3);
    accepted!.enable(EV.WRITE);
    accepted!.write(data);
    await waitFor(() => chunks.reduce((n, c) => n + c.length, 0) === data.length, 10_000, 'the data');
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    expect(Math.max(...chunks.map((c) => c.length))).toBeGreaterThan(4096);
    client.free();
    accepted!.free();
  });
});

describe('own reads that switch to an event of their own', () => {
  it('under a rate limit set while reading, and again once it is removed', async () => {
    const { reader, peer, got } = streamingPair();
    const data = pattern(384 * KiB, 4);
    peer.write(data.subarray(0, 128 * KiB));
    await waitFor(() => got.received() === 128 * KiB, 10_000, 'the first part');
    reader.setRateLimit({ readRate: 256 * KiB, readBurst: 64 * KiB, tickMs: 50 });
    peer.write(data.subarray(128 * KiB, 256 * KiB));
    await waitFor(() => got.received() === 256 * KiB, 10_000, 'the part under the limit');
    reader.setRateLimit(null);
    peer.write(data.subarray(256 * KiB));
    await waitFor(() => got.received() === data.length, 10_000, 'the rest');
    expect(got.data().equals(data)).toBe(true);
    reader.free();
    peer.free();
  });

  it('in a rate-limit group whose empty bucket suspends every member, none of them stalls', async () => {
    // 96 KiB per member at 256 KiB/s for the group: the bucket empties many times, and each time
    // libevent suspends reading on all members at once.
    const group = new RateLimitGroup({ readRate: 256 * KiB, readBurst: 32 * KiB, tickMs: 50 });
    const pairs = [0, 1, 2].map(() => ownReadsAndPeer());
    const collectors = pairs.map(({ reader }) => collect(reader));
    const payloads = pairs.map((_pair, i) => pattern(96 * KiB, 10 + i));
    pairs.forEach(({ reader, peer }, i) => {
      group.add(reader);
      reader.enable(EV.READ);
      peer.enable(EV.WRITE);
      peer.write(payloads[i]!);
    });
    await waitFor(
      () => collectors.every((got, i) => got.received() === payloads[i]!.length),
      15_000,
      'every member’s bytes',
    );
    collectors.forEach((got, i) => expect(got.data().equals(payloads[i]!)).toBe(true));
    for (const { reader, peer } of pairs) {
      group.remove(reader);
      reader.free();
      peer.free();
    }
    group.free();
  });

  it('under a filter, which turns libevent’s own reading on below it', async () => {
    const { reader, peer } = ownReadsAndPeer();
    const filter = Bufferevent.filter(reader, {}); // both sides pass bytes through
    const got = collect(filter);
    filter.enable(EV.READ);
    peer.enable(EV.WRITE);
    const data = pattern(512 * KiB, 5);
    peer.write(data);
    await waitFor(() => got.received() === data.length, 10_000, 'the data through the filter');
    expect(got.data().equals(data)).toBe(true);
    filter.free(); // frees the socket below too
    peer.free();
  });
});
