// A write callback that refills the output forever must not starve Node's timers, immediates or I/O.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bufferevent } from '../../src/index.ts';
import { BEV, EV, liveCounts, tcpPair, waitFor } from '../helpers.ts';

const CHUNK = Buffer.alloc(16 * 1024, 0x66);

interface Flood {
  sender: Bufferevent;
  received: () => number;
  stop: () => Promise<void>;
}

/** A bufferevent whose write callback writes 16 KiB every time, to a node:net peer that drains. */
async function floodToNodePeer(): Promise<Flood> {
  let received = 0;
  let peer: net.Socket | undefined;
  const server = net.createServer((socket) => {
    peer = socket;
    socket.on('data', (data) => (received += data.length));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sender = Bufferevent.socket();
  let connected = false;
  sender.setCallbacks({
    write: (bev) => bev.write(CHUNK),
    event: (_bev, events) => (connected ||= events === BEV.CONNECTED),
  });
  sender.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
  await waitFor(() => connected && peer !== undefined, 5_000, 'the connection');
  return {
    sender,
    received: () => received,
    stop: async () => {
      sender.free();
      peer?.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The same, with another bufferevent draining on the other end: both sides run inside libevent. */
async function floodToBuffereventPeer(): Promise<Flood> {
  const { client: sender, server: peer } = await tcpPair();
  let received = 0;
  peer.setCallbacks({ read: (bev) => (received += bev.input.drain()) });
  peer.enable(EV.READ);
  sender.setCallbacks({ write: (bev) => bev.write(CHUNK) });
  return {
    sender,
    received: () => received,
    stop: async () => {
      sender.free();
      peer.free();
    },
  };
}

/** A node:net echo round trip, timed. */
async function nodeRoundTripMs(): Promise<number> {
  const server = net.createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const began = performance.now();
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1', () =>
      socket.write('ping'),
    );
    socket.on('error', reject);
    socket.once('data', (data) => {
      resolve(data.toString());
      socket.destroy();
    });
  });
  const elapsed = performance.now() - began;
  await new Promise((resolve) => server.close(resolve));
  expect(reply).toBe('ping');
  return elapsed;
}

const timed = (schedule: (done: () => void) => void): Promise<number> =>
  new Promise((resolve) => {
    const began = performance.now();
    schedule(() => resolve(performance.now() - began));
  });

let start: ReturnType<typeof liveCounts>;
beforeEach(() => {
  start = liveCounts();
});
afterEach(() => {
  expect(liveCounts()).toEqual(start);
});

describe.each([
  { peer: 'a node:net socket', flood: floodToNodePeer },
  { peer: 'a draining bufferevent', flood: floodToBuffereventPeer },
])('a write callback refilling the output forever, drained by $peer', ({ flood }) => {
  it('lets a 20 ms timer, an immediate and a node:net round trip complete', async () => {
    const { sender, received, stop } = await flood();
    sender.enable(EV.WRITE);
    sender.write(CHUNK);
    await waitFor(() => received() > 1024 * 1024, 10_000, 'the flood to be flowing');

    const [timerMs, immediateMs, roundTripMs] = await Promise.all([
      timed((done) => setTimeout(done, 20)),
      timed((done) => setImmediate(done)),
      nodeRoundTripMs(),
    ]);
    const during = received();
    await waitFor(() => received() > during + 1024 * 1024, 10_000, 'the flood to still be flowing');

    expect(timerMs).toBeLessThan(2_000);
    expect(immediateMs).toBeLessThan(2_000);
    expect(roundTripMs).toBeLessThan(5_000);
    await stop();
  });
});
