// Idle read/write timeouts: their exact flags, and that a timeout disables the direction until enable().
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BEV, EV, liveCounts, tcpPair, turns, waitFor } from '../helpers.ts';

interface Seen {
  events: number;
  hasError: boolean;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let start: ReturnType<typeof liveCounts>;
beforeEach(() => {
  start = liveCounts();
});
afterEach(() => {
  expect(liveCounts()).toEqual(start);
});

describe('read timeout', () => {
  it('reports BEV.TIMEOUT | BEV.READING and leaves reading disabled until enable(EV.READ)', async () => {
    const { client, server } = await tcpPair();
    const seen: Seen[] = [];
    const received: string[] = [];
    client.setCallbacks({
      read: (bev) => received.push(bev.read().toString()),
      event: (_bev, events, error) => seen.push({ events, hasError: error !== undefined }),
    });
    client.setTimeouts({ read: 100 });
    client.enable(EV.READ);
    server.enable(EV.WRITE);

    await waitFor(() => seen.length > 0, 5_000, 'the read timeout');
    expect(seen).toEqual([{ events: BEV.TIMEOUT | BEV.READING, hasError: false }]);
    expect(client.enabled & EV.READ).toBe(0);

    // Data that arrives now stays in the kernel: nothing reads it and no timeout repeats.
    server.write('late data');
    await waitFor(() => server.output.length === 0, 5_000, 'the server sending');
    await pause(300);
    await turns(5);
    expect(received).toEqual([]);
    expect(client.input.length).toBe(0);
    expect(seen).toHaveLength(1);

    client.enable(EV.READ);
    await waitFor(() => received.length > 0, 5_000, 'the data after enable');
    expect(received.join('')).toBe('late data');
    // The timeout is still set and is an idle timeout: with no more data it fires again.
    await waitFor(() => seen.length > 1, 5_000, 'the second read timeout');
    expect(seen).toEqual([
      { events: BEV.TIMEOUT | BEV.READING, hasError: false },
      { events: BEV.TIMEOUT | BEV.READING, hasError: false },
    ]);
    client.free();
    server.free();
  });

  it('restarts the read timeout whenever data arrives', async () => {
    const { client, server } = await tcpPair();
    const seen: number[] = [];
    let bytes = 0;
    client.setCallbacks({
      read: (bev) => (bytes += bev.input.drain()),
      event: (_bev, events) => seen.push(events),
    });
    client.setTimeouts({ read: 400 });
    client.enable(EV.READ);
    server.enable(EV.WRITE);
    // 15 writes 40 ms apart span about 600 ms, longer than the timeout, without any 400 ms gap.
    for (let i = 0; i < 15; i++) {
      server.write('x');
      await pause(40);
    }
    await waitFor(() => bytes === 15, 5_000, 'all 15 bytes');
    expect(seen).toEqual([]);
    await waitFor(() => seen.length > 0, 5_000, 'the read timeout after the writes stop');
    expect(seen).toEqual([BEV.TIMEOUT | BEV.READING]);
    client.free();
    server.free();
  });
});

describe('write timeout', () => {
  it('reports BEV.TIMEOUT | BEV.WRITING when the peer stops reading, and writes nothing more until enable(EV.WRITE)', async () => {
    const { client, server } = await tcpPair();
    const total = 32 * 1024 * 1024;
    const seen: Seen[] = [];
    client.setCallbacks({
      event: (_bev, events, error) => seen.push({ events, hasError: error !== undefined }),
    });
    client.setTimeouts({ write: 200 });
    client.enable(EV.WRITE);
    // The server does not read: the socket buffers fill and the writes stop making progress.
    client.write(Buffer.alloc(total, 0x63));

    await waitFor(() => seen.length > 0, 15_000, 'the write timeout');
    expect(seen).toEqual([{ events: BEV.TIMEOUT | BEV.WRITING, hasError: false }]);
    expect(client.enabled & EV.WRITE).toBe(0);
    const pending = client.output.length;
    expect(pending).toBeGreaterThan(0);

    // The peer drains the kernel buffers; the client still sends nothing.
    let received = 0;
    server.setCallbacks({ read: (bev) => (received += bev.input.drain()) });
    server.enable(EV.READ);
    await waitFor(() => received === total - pending, 10_000, 'the peer reading what the kernel held');
    await pause(100);
    await turns(5);
    expect(client.output.length).toBe(pending);
    expect(received).toBe(total - pending);

    client.setTimeouts({ write: null });
    client.enable(EV.WRITE);
    await waitFor(() => received === total, 15_000, 'the rest after enable');
    expect(client.output.length).toBe(0);
    expect(seen).toHaveLength(1);
    client.free();
    server.free();
  });
});
