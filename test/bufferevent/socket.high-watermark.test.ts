// A read callback that leaves the input at the read high watermark: libevent 2.1 calls it again at
// once, forever (a core spins). The binding holds reading off instead, on every read path: libevent's
// own socket reads (socketpair and TCP), the binding's own reads (maxReadPerWakeup), pairs and
// filters. The callback then runs again only when something changed, `enabled` keeps reporting
// EV.READ, and the read timeout does not count the pause as idle.
import { describe, expect, it } from 'vitest';
import { Bufferevent, socketpair } from '../../src/index.ts';
import {
  BEV,
  EV,
  checkNothingLeaksAfterEach,
  socketPairBufferevents,
  tcpPair,
  turns,
  waitFor,
} from '../helpers.ts';
import { kinds, pattern } from '../kinds/kinds.ts';

checkNothingLeaksAfterEach({ fds: true });

const HIGH = 4096;
const TOTAL = 1 << 20;
const WINDOW_MS = 300;

interface Variant {
  name: string;
  /** Two connected ends, neither enabled for reading yet; `free` releases both. */
  connect: () => Promise<[Bufferevent, Bufferevent]>;
}

const variants: Variant[] = [
  ...kinds.map((kind) => ({ name: kind.kind, connect: async () => kind.connect() })),
  {
    name: 'socket over TCP loopback',
    connect: async () => {
      const { client, server } = await tcpPair();
      return [server, client];
    },
  },
  {
    name: 'socket with maxReadPerWakeup',
    connect: async () => {
      const [a, b] = socketpair();
      return [Bufferevent.socket({ fd: a, maxReadPerWakeup: 65536 }), Bufferevent.socket({ fd: b })];
    },
  },
];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What the process did over `ms` of waiting: its CPU time and the wall time, both in ms. */
async function measureIdle(ms: number): Promise<{ cpuMs: number; wallMs: number }> {
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  await sleep(ms);
  const cpu = process.cpuUsage(cpuBefore);
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - wallBefore };
}

/** Drains `reader` from now on and resolves with everything once `total` bytes have arrived. */
async function drainAll(
  reader: Bufferevent,
  total: number,
  high: number,
  onEvent?: (events: number) => void,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  let overHigh = 0;
  const take = (bev: Bufferevent): void => {
    if (bev.input.length > high) overHigh++;
    const chunk = bev.read();
    chunks.push(chunk);
    received += chunk.length;
  };
  reader.setCallbacks({ read: take, event: onEvent ? (_bev, events) => onEvent(events) : null });
  take(reader);
  await waitFor(() => received >= total, 20_000, `all ${total} bytes after draining`);
  expect(overHigh).toBe(0);
  return Buffer.concat(chunks);
}

/** Fills `reader` to the high watermark through a read callback that never drains. */
async function fillToHighWatermark(
  reader: Bufferevent,
  writer: Bufferevent,
  payload: Buffer,
): Promise<{ calls: () => number }> {
  let calls = 0;
  reader.setWatermark(EV.READ, 0, HIGH);
  reader.setCallbacks({ read: () => calls++ });
  reader.enable(EV.READ);
  writer.enable(EV.WRITE);
  writer.write(payload);
  await waitFor(() => reader.input.length >= HIGH, 10_000, 'the input to reach the high watermark');
  await waitFor(() => calls > 0, 10_000, 'the first read callback');
  return { calls: () => calls };
}

describe.each(variants)(
  '$name: a read callback that leaves the input at the high watermark',
  ({ connect }) => {
    it('is not called again while nothing changes, uses no CPU, and all data arrives once drained', async () => {
      const [reader, writer] = await connect();
      const payload = pattern(TOTAL);
      const { calls } = await fillToHighWatermark(reader, writer, payload);
      const callsBefore = calls();
      const { cpuMs, wallMs } = await measureIdle(WINDOW_MS);
      // libevent 2.1 alone: hundreds of thousands of calls and a full core over this window.
      expect(calls()).toBeLessThanOrEqual(3);
      expect(calls() - callsBefore).toBeLessThanOrEqual(2);
      expect(cpuMs).toBeLessThan(wallMs * 0.5);
      expect(reader.input.length).toBe(HIGH); // reading stopped exactly at the mark
      expect(reader.enabled & EV.READ).toBe(EV.READ); // paused by the binding, still enabled for the user

      const received = await drainAll(reader, TOTAL, HIGH);
      expect(received.length).toBe(TOTAL);
      expect(received.equals(payload)).toBe(true);
      expect(reader.enabled & EV.READ).toBe(EV.READ);
      reader.free();
      writer.free();
    });

    it('stays paused while the peer keeps writing', async () => {
      const [reader, writer] = await connect();
      const first = pattern(64 * 1024, 1);
      const { calls } = await fillToHighWatermark(reader, writer, first);
      const callsBefore = calls();
      const more: Buffer[] = [];
      const timer = setInterval(() => {
        const chunk = pattern(16 * 1024, more.length + 2);
        more.push(chunk);
        writer.write(chunk);
      }, 10);
      const { cpuMs, wallMs } = await measureIdle(WINDOW_MS);
      clearInterval(timer);
      expect(calls() - callsBefore).toBeLessThanOrEqual(2);
      expect(cpuMs).toBeLessThan(wallMs * 0.5);
      expect(reader.input.length).toBe(HIGH);

      const expected = Buffer.concat([first, ...more]);
      const received = await drainAll(reader, expected.length, HIGH);
      expect(received.equals(expected)).toBe(true);
      reader.free();
      writer.free();
    });

    it('honours disable and enable while paused', async () => {
      const [reader, writer] = await connect();
      const payload = pattern(256 * 1024, 3);
      const { calls } = await fillToHighWatermark(reader, writer, payload);

      reader.disable(EV.READ);
      expect(reader.enabled & EV.READ).toBe(0);
      const head = reader.read(); // drained below the mark, but the user disabled reading
      expect(head.length).toBe(HIGH);
      await sleep(50);
      await turns(5);
      expect(reader.input.length).toBe(0);
      const callsWhileDisabled = calls();

      reader.enable(EV.READ); // reading resumes and fills up to the mark again
      expect(reader.enabled & EV.READ).toBe(EV.READ);
      await waitFor(() => reader.input.length === HIGH, 10_000, 'the input to fill up again');
      await waitFor(() => calls() > callsWhileDisabled, 10_000, 'the read callback after enable');
      reader.enable(EV.READ); // enabling again while paused changes nothing
      expect(reader.enabled & EV.READ).toBe(EV.READ);
      const callsPaused = calls();
      await sleep(100);
      expect(calls() - callsPaused).toBeLessThanOrEqual(1);
      expect(reader.input.length).toBe(HIGH);

      const rest = await drainAll(reader, payload.length - HIGH, HIGH);
      expect(Buffer.concat([head, rest]).equals(payload)).toBe(true);
      reader.free();
      writer.free();
    });

    it('does not fire the read timeout while paused, and times out as usual once the data has stopped', async () => {
      const [reader, writer] = await connect();
      const events: number[] = [];
      reader.setTimeouts({ read: 100 });
      const payload = pattern(64 * 1024, 4);
      let calls = 0;
      reader.setWatermark(EV.READ, 0, HIGH);
      reader.setCallbacks({ read: () => calls++, event: (_bev, what) => events.push(what) });
      reader.enable(EV.READ);
      writer.enable(EV.WRITE);
      writer.write(payload);
      await waitFor(
        () => reader.input.length >= HIGH && calls > 0,
        10_000,
        'the input at the high watermark',
      );
      await sleep(400); // four read timeouts long
      expect(events).toEqual([]);
      expect(reader.enabled & EV.READ).toBe(EV.READ);

      const received = await drainAll(reader, payload.length, HIGH, (what) => events.push(what));
      expect(received.equals(payload)).toBe(true);
      // Nothing more arrives: now reading is idle, and the timeout fires once and disables reading.
      await waitFor(() => events.length > 0, 10_000, 'the read timeout');
      expect(events).toEqual([BEV.TIMEOUT | BEV.READING]);
      expect(reader.enabled & EV.READ).toBe(0);
      reader.free();
      writer.free();
    });

    it('resumes reading when the mark is raised or removed while paused', async () => {
      const [reader, writer] = await connect();
      const payload = pattern(256 * 1024, 6);
      await fillToHighWatermark(reader, writer, payload);
      reader.setWatermark(EV.READ, 0, 2 * HIGH);
      await waitFor(
        () => reader.input.length === 2 * HIGH,
        10_000,
        'the input to fill up to the raised mark',
      );
      await sleep(50);
      expect(reader.input.length).toBe(2 * HIGH);
      reader.setWatermark(EV.READ, 0, 0); // unlimited: everything arrives, nothing drains it
      await waitFor(() => reader.input.length === payload.length, 10_000, 'everything without a mark');
      expect(reader.read().equals(payload)).toBe(true);
      expect(reader.enabled & EV.READ).toBe(EV.READ);
      reader.free();
      writer.free();
    });

    it('calls a callback that consumes a little at a time again while it makes progress above the mark', async () => {
      const [reader, writer] = await connect();
      const payload = pattern(64 * 1024, 5);
      await fillToHighWatermark(reader, writer, payload);
      // Lowering the mark leaves the input far above it; a callback taking 512 bytes per call must
      // still get through all of it (libevent 2.1 re-runs it while the input stays at the mark).
      const low = 1024;
      reader.setWatermark(EV.READ, 0, low);
      const chunks: Buffer[] = [];
      let received = 0;
      const seen: number[] = [];
      reader.setCallbacks({
        read: (bev) => {
          seen.push(bev.input.length);
          const chunk = bev.read(512);
          chunks.push(chunk);
          received += chunk.length;
        },
      });
      reader.trigger(EV.READ);
      // Below the mark the callback waits for new data, as in libevent; the last bytes stay buffered.
      await waitFor(
        () => received + reader.input.length === payload.length && reader.input.length < low,
        20_000,
        'everything read down to below the mark, 512 bytes per call',
      );
      // Called again with nothing new while above the mark (reading is paused there), then on new data.
      expect(seen.slice(0, 7)).toEqual([4096, 3584, 3072, 2560, 2048, 1536, 1024]);
      expect(seen.slice(7).every((length) => length > 0 && length <= low)).toBe(true);
      chunks.push(reader.read());
      expect(Buffer.concat(chunks).equals(payload)).toBe(true);
      reader.free();
      writer.free();
    });
  },
);

describe('a socket whose read callback does not drain, without a high watermark', () => {
  it('is called once per read as in libevent (nothing is paused)', async () => {
    const [reader, writer] = socketPairBufferevents();
    let calls = 0;
    reader.setCallbacks({ read: () => calls++ });
    reader.enable(EV.READ);
    writer.enable(EV.WRITE);
    writer.write(pattern(8192, 6));
    await waitFor(() => reader.input.length === 8192, 10_000, 'all 8192 bytes');
    await turns(5);
    // libevent reads at most 4096 bytes per wakeup: one or two callbacks, never more than reads.
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(2);
    reader.free();
    writer.free();
  });
});
