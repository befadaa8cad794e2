// The binding's allocator keeps freed evbuffer chains for reuse, and gives them back once they go
// unused: an idle process holds none a few seconds after its traffic stopped, the timer that gives
// them back never keeps the process alive, and once nothing is cached the loop sleeps again.
import { describe, expect, it } from 'vitest';
import { Bufferevent, EventBase, socketpair } from '../../src/index.ts';
import { native } from '../../src/native.ts';
import { EV, checkNothingLeaksAfterEach, turns, waitFor } from '../helpers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TRAFFIC_BYTES = 2 * 1024 * 1024;

/** Moves TRAFFIC_BYTES from one end of a socket pair to the other, read in large chains. */
async function pushTraffic(): Promise<[Bufferevent, Bufferevent]> {
  const [fdA, fdB] = socketpair();
  const sender = Bufferevent.socket({ fd: fdA });
  const receiver = Bufferevent.socket({ fd: fdB, maxReadPerWakeup: 256 * 1024 });
  let received = 0;
  receiver.setCallbacks({ read: (bev) => (received += bev.input.drain()) });
  receiver.enable(EV.READ);
  sender.enable(EV.WRITE);
  sender.write(Buffer.alloc(TRAFFIC_BYTES, 0x61));
  await waitFor(() => received === TRAFFIC_BYTES, 20_000, 'the traffic to arrive');
  return [sender, receiver];
}

describe("the allocator's cache of freed chains", () => {
  checkNothingLeaksAfterEach();

  it('holds chains after traffic and gives them all back once they go unused', async () => {
    const base = EventBase.default();
    const [sender, receiver] = await pushTraffic();
    if (native.sanitizerBuild) {
      // libevent allocates with plain malloc there: nothing is ever cached.
      expect(base.stats().cachedChainBytes).toBe(0);
    } else {
      expect(base.stats().cachedChainBytes).toBeGreaterThan(0);
    }
    // Blocks unused for one period (2 s) go at the next look: all of them within two periods.
    await waitFor(() => base.stats().cachedChainBytes === 0, 15_000, 'the cache to empty');

    // Nothing cached, nothing to trim: the loop is not woken again while the sockets are idle.
    await turns(3);
    const quiet = base.stats();
    await sleep(2_500);
    const later = base.stats();
    expect(later.wakeups).toBe(quiet.wakeups);
    expect(later.passes).toBe(quiet.passes);
    expect(later.cachedChainBytes).toBe(0);
    sender.free();
    receiver.free();
  });

  it('never keeps the process alive: the pending trim is not a user event', async () => {
    const base = EventBase.default();
    const [sender, receiver] = await pushTraffic();
    sender.free();
    receiver.free();
    await turns(3);
    const stats = base.stats();
    if (!native.sanitizerBuild) expect(stats.cachedChainBytes).toBeGreaterThan(0);
    // The trim timer is armed (blocks are cached), yet nothing the user added is pending.
    expect(stats.addedEvents).toBe(0);
    await waitFor(() => base.stats().cachedChainBytes === 0, 15_000, 'the cache to empty');
  });
});
