// Leaks: 2,000 bufferevents of each kind, each doing a little I/O, leave no live object or open fd behind.
import { describe, expect, it } from 'vitest';
import type { Bufferevent } from '../../src/index.ts';
import { EV, liveCounts, openFdCount, turns, waitFor } from '../helpers.ts';
import { kinds } from './kinds.ts';

const CONNECTIONS_PER_BATCH = 250; // 500 bufferevents at a time
const BATCHES = 4; // 2,000 bufferevents of the kind in all

/** Connects a batch, has every end send one byte to the other, waits for all of them, frees all. */
async function runBatch(connect: () => [Bufferevent, Bufferevent]): Promise<number> {
  const bevs: Bufferevent[] = [];
  let received = 0;
  for (let i = 0; i < CONNECTIONS_PER_BATCH; i++) {
    for (const bev of connect()) {
      bev.setCallbacks({ read: (self) => (received += self.read().length) });
      bev.enable(EV.READ | EV.WRITE);
      bev.write('!');
      bevs.push(bev);
    }
  }
  await waitFor(() => received === bevs.length, 20_000, 'one byte at every end');
  for (const bev of bevs) bev.free();
  return bevs.length;
}

describe.each(kinds)('2,000 $kind bufferevents', ({ connect }) => {
  it('return the live counts and the open fd count to where they were', async () => {
    await runBatch(connect); // warm-up
    await turns(3);
    const fdsBefore = openFdCount();
    const liveBefore = liveCounts();
    let created = 0;
    for (let batch = 0; batch < BATCHES; batch++) created += await runBatch(connect);
    expect(created).toBe(2000);
    await turns(5); // libevent finishes each free (and closes fds) on a later pass
    expect(liveCounts()).toEqual(liveBefore);
    expect(openFdCount()).toBe(fdsBefore);
    expect(liveBefore).toEqual({ bufferevents: 0, listeners: 0, events: 0, evbuffers: 0 });
  });
});
