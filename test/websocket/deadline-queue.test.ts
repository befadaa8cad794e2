// The server's handshake deadlines (src/websocket/deadline-queue.ts): one timer for all pending
// handshakes. Items expire in the order they were added, each no sooner than its timeout after its
// add(); removed items never expire; an empty queue holds no timer that could keep the process
// alive; and a callback that throws does not stop the items behind it from expiring.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue } from '../../src/websocket/deadline-queue.ts';
import { waitFor } from '../helpers.ts';

const WAIT_MS = 10_000;

function activeTimeouts(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('DeadlineQueue', () => {
  it('expires items in the order they were added, none before its timeout', async () => {
    const expired: { item: string; afterMs: number }[] = [];
    const added = new Map<string, number>();
    const queue = new DeadlineQueue<string>(150, (item) =>
      expired.push({ item, afterMs: performance.now() - added.get(item)! }),
    );
    for (const item of ['a', 'b', 'c']) {
      added.set(item, performance.now());
      queue.add(item);
      await sleep(40);
    }
    await waitFor(() => expired.length === 3, WAIT_MS, 'three expiries');
    expect(expired.map((entry) => entry.item)).toEqual(['a', 'b', 'c']);
    // Timer slack: Node may fire a millisecond early, and the queue then waits again.
    for (const entry of expired) expect(entry.afterMs).toBeGreaterThanOrEqual(149);
    expect(queue.size).toBe(0);
  });

  it('never expires an item deleted before its deadline, and keeps the others on time', async () => {
    const expired: string[] = [];
    const queue = new DeadlineQueue<string>(120, (item) => expired.push(item));
    queue.add('first');
    queue.add('second');
    queue.add('third');
    expect(queue.delete('first')).toBe(true);
    expect(queue.delete('first')).toBe(false);
    expect(queue.delete('never added')).toBe(false);
    await waitFor(() => expired.length === 2, WAIT_MS, 'two expiries');
    await sleep(200);
    expect(expired).toEqual(['second', 'third']);
  });

  it('holds no timer once it is empty, so it cannot keep the process alive', async () => {
    const before = activeTimeouts();
    const queue = new DeadlineQueue<number>(60_000, () => {});
    queue.add(1);
    queue.add(2);
    expect(activeTimeouts()).toBe(before + 1); // one timer for both
    queue.delete(1);
    expect(activeTimeouts()).toBe(before + 1);
    queue.delete(2);
    expect(activeTimeouts()).toBe(before);
    queue.add(3);
    expect(queue.takeAll()).toEqual([3]);
    expect(queue.size).toBe(0);
    expect(activeTimeouts()).toBe(before);
  });

  it('waits again for the oldest item left after an expiry', async () => {
    const expired: number[] = [];
    const queue = new DeadlineQueue<number>(100, (item) => expired.push(item));
    queue.add(1);
    await sleep(60);
    queue.add(2);
    await waitFor(() => expired.length === 1, WAIT_MS, 'the first expiry');
    expect(expired).toEqual([1]);
    expect(queue.size).toBe(1);
    await waitFor(() => expired.length === 2, WAIT_MS, 'the second expiry');
    expect(expired).toEqual([1, 2]);
    expect(queue.size).toBe(0);
  });

  it('lets a throwing callback reach the process and still expires the items behind it', async () => {
    const uncaught: unknown[] = [];
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', (error) => uncaught.push(error));
    try {
      const expired: string[] = [];
      const queue = new DeadlineQueue<string>(50, (item) => {
        expired.push(item);
        if (item === 'bad') throw new Error('callback failed');
      });
      queue.add('bad');
      await sleep(20);
      queue.add('good');
      await waitFor(() => expired.length === 2, WAIT_MS, 'both expiries');
      expect(expired).toEqual(['bad', 'good']);
      expect(uncaught).toHaveLength(1);
      expect((uncaught[0] as Error).message).toBe('callback failed');
    } finally {
      process.removeAllListeners('uncaughtException');
      for (const listener of listeners) process.on('uncaughtException', listener);
    }
  });
});
