// Memory per connection: what idle server-side WebSockets cost and give back. The clients live in
// a child process (fixtures/idle-clients.mjs), so this process's heap and malloc hold only the
// server's side. Native memory is glibc malloc's bytes in use (mallinfo2, native.mallocStats()):
// unlike RSS it does not move with V8's young generation, which grows by up to 32 MiB during a
// burst of connections whatever each one costs (bench/ws-memory.mjs reports RSS).
import { afterEach, describe, expect, it } from 'vitest';
import { EventBase } from '../../src/index.ts';
import { native } from '../../src/native.ts';
import { liveCounts } from '../helpers.ts';
import { settledHeapUsed } from '../leaks/gc.ts';
import {
  closeBatch,
  killClients,
  listeningServer,
  measureIdleConnections,
  openBatch,
  startClients,
} from './idle-clients.ts';

const BATCH = 1000;
const BATCHES = 10;

afterEach(killClients);

function nativeCounts(): ReturnType<typeof liveCounts> & {
  webSockets: number;
  connectionObjects: number;
  topics: number;
} {
  return {
    ...liveCounts(),
    webSockets: EventBase.default().stats().liveWebSockets,
    // Closed connections included until they are deleted: every one must be.
    connectionObjects: native.wsConnectionObjects(),
    topics: native.wsTopicCount(),
  };
}

const mallocInUse = () => native.mallocStats().inUse;

describe('memory per WebSocket connection', () => {
  it(
    '10,000 idle connections opened and closed in batches leave live counts, heap and malloc where they started',
    { timeout: 300_000 },
    async () => {
      const { wss, port } = await listeningServer();
      const clients = startClients();
      // Warm-up with a whole batch: the JIT, libevent's per-fd tables and the allocator's free
      // lists reach the sizes a batch needs.
      await openBatch(clients, wss, port, BATCH);
      await closeBatch(clients, wss, false);
      const countsBefore = nativeCounts();
      const heapBefore = await settledHeapUsed();
      const mallocBefore = mallocInUse();

      for (let batch = 0; batch < BATCHES; batch++) {
        await openBatch(clients, wss, port, BATCH);
        await closeBatch(clients, wss, batch % 2 === 1);
      }

      expect(nativeCounts()).toEqual(countsBefore);
      const heapGrowth = (await settledHeapUsed()) - heapBefore;
      const mallocGrowth = mallocInUse() - mallocBefore;
      // A leak of any one per-connection object (the WebSocket with its native halves is about
      // 350 bytes of heap and 2.1 KiB of malloc) over 10,000 connections would be several MiB.
      expect(heapGrowth).toBeLessThan(3 * 1024 * 1024);
      expect(mallocGrowth).toBeLessThan(4 * 1024 * 1024);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  );

  it(
    'an idle server-side connection holds at most 3 KiB of malloc and 1 KiB of V8 heap',
    { timeout: 120_000 },
    async () => {
      const count = 2000;
      const { heapPerConnection, mallocPerConnection, liveWebSockets } = await measureIdleConnections(
        count,
        200,
      );

      // Measured: about 1.45 KiB of malloc (libevent's bufferevent with its evbuffers and events
      // about 1 KiB, the binding's bufferevent, the native connection, its async context) and
      // 0.15 KiB of heap (the WebSocket, its entry in `clients` and its slot among the open
      // connections). No JavaScript object of the native connection's own, no napi wrap or
      // reference (it is known by id), the bufferevent adopted (no JavaScript Bufferevent kept)
      // and state made only when used took it there from 2.6 KiB and 0.35 KiB; the 4 KiB mask-key
      // pool each server connection used to embed would break the bound alone.
      expect(mallocPerConnection).toBeLessThan(2048);
      expect(heapPerConnection).toBeLessThan(512);
      expect(liveWebSockets).toBeGreaterThanOrEqual(count);
    },
  );
});
