// Leaks: 2,000 real TCP connections through a Listener (accept, connect, one byte, free both ends).
import { describe, expect, it } from 'vitest';
import { Bufferevent, Listener } from '../../src/index.ts';
import { BEV, EV, liveCounts, openFdCount, turns, waitFor } from '../helpers.ts';
import { settledHeapUsed } from './gc.ts';

const CONCURRENT = 50;
const BATCHES = 40; // 2,000 connections

describe('2,000 TCP connections through a Listener', () => {
  it('return the open fd count and the live counts exactly to where they were', async () => {
    const servers: Bufferevent[] = [];
    const listener = Listener.listen({ host: '127.0.0.1', port: 0, backlog: 128 }, (fd, peer) => {
      expect(peer.address).toBe('127.0.0.1');
      const server = Bufferevent.socket({ fd });
      server.enable(EV.WRITE);
      server.write('>'); // each server greets its client with one byte
      servers.push(server);
    });
    const { port } = listener.address;

    async function runBatch(): Promise<void> {
      const clients: Bufferevent[] = [];
      const events: number[] = [];
      let greeted = 0;
      for (let i = 0; i < CONCURRENT; i++) {
        const client = Bufferevent.socket();
        client.setCallbacks({
          read: (bev) => (greeted += bev.read().length),
          event: (_bev, what) => events.push(what),
        });
        client.enable(EV.READ);
        client.connect({ host: '127.0.0.1', port });
        clients.push(client);
      }
      await waitFor(() => greeted === CONCURRENT && servers.length === CONCURRENT, 20_000, 'a full batch');
      expect(events).toEqual(new Array(CONCURRENT).fill(BEV.CONNECTED));
      for (const bev of [...clients, ...servers.splice(0)]) bev.free();
    }

    await runBatch(); // warm-up: the loop's own fds (epoll, timerfd, kicker) open on first use
    await turns(3);
    const fdsBefore = openFdCount() - 1; // minus the listener's socket
    const heapBefore = await settledHeapUsed();
    for (let batch = 1; batch < BATCHES; batch++) await runBatch();
    listener.close();

    await turns(3);
    expect(openFdCount()).toBe(fdsBefore);
    expect(liveCounts()).toEqual({ bufferevents: 0, listeners: 0, events: 0, evbuffers: 0 });
    const growth = (await settledHeapUsed()) - heapBefore;
    expect(growth).toBeLessThan(1024 * 1024);
  });
});
