// Leaks: 10,000 socket bufferevents on real socket pairs, each doing I/O, leave no fd, object or heap behind.
import { describe, expect, it } from 'vitest';
import { Bufferevent, socketpair } from '../../src/index.ts';
import { EV, liveCounts, openFdCount, turns, waitFor } from '../helpers.ts';
import { settledHeapUsed } from './gc.ts';

const PAIRS_PER_BATCH = 250; // 500 bufferevents, 500 fds at a time
const BATCHES = 20; // 10,000 bufferevents in all

/** Opens a batch of pairs, has every end send one byte to its peer, waits for all of them, frees all. */
async function runBatch(): Promise<number> {
  const bevs: Bufferevent[] = [];
  let received = 0;
  for (let i = 0; i < PAIRS_PER_BATCH; i++) {
    const [a, b] = socketpair();
    for (const fd of [a, b]) {
      const bev = Bufferevent.socket({ fd });
      bev.setCallbacks({ read: (self) => (received += self.read().length) });
      bev.enable(EV.READ | EV.WRITE);
      bev.write('!');
      bevs.push(bev);
    }
  }
  await waitFor(() => received === bevs.length, 20_000, 'one byte at every end');
  for (const bev of bevs) bev.free();
  return received;
}

describe('10,000 socket bufferevents on socket pairs', () => {
  it('return the open fd count and the live counts exactly to where they were', async () => {
    await runBatch(); // warm-up: the first batch compiles code and sizes the heap
    await turns(3);
    const fdsBefore = openFdCount();
    const liveBefore = liveCounts();
    const heapBefore = await settledHeapUsed();

    let bytes = 0;
    for (let batch = 0; batch < BATCHES; batch++) bytes += await runBatch();
    expect(bytes).toBe(BATCHES * PAIRS_PER_BATCH * 2);

    await turns(3); // libevent finishes each bufferevent_free (and closes its fd) on the next pass
    expect(openFdCount()).toBe(fdsBefore);
    expect(liveCounts()).toEqual(liveBefore);
    expect(liveBefore).toEqual({ bufferevents: 0, listeners: 0, events: 0, evbuffers: 0 });

    const growth = (await settledHeapUsed()) - heapBefore;
    expect(growth).toBeLessThan(1024 * 1024); // measured ~30 KB; 10,000 leaked wrappers are over 1 MB
  });

  it('closes each fd on the libevent pass after free(), not during it', async () => {
    const fdsBefore = openFdCount();
    const [a, b] = socketpair();
    const bevs = [Bufferevent.socket({ fd: a }), Bufferevent.socket({ fd: b })];
    for (const bev of bevs) bev.enable(EV.READ);
    expect(openFdCount()).toBe(fdsBefore + 2);
    for (const bev of bevs) bev.free();
    expect(liveCounts().bufferevents).toBe(0); // the wrappers are dead at once
    expect(openFdCount()).toBe(fdsBefore + 2); // libevent's finalizer has not run yet
    await turns(3);
    expect(openFdCount()).toBe(fdsBefore);
  });
});
