// Callbacks from libevent run like Node's own I/O: nextTick and microtasks drain after each one.
import { closeSync, writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Bufferevent, EV, Event, EventBase, socketpair } from '../../src/index.ts';
import { liveCounts, turns, waitFor } from '../helpers.ts';

describe.each([{ deferCallbacks: true }, { deferCallbacks: false }])(
  'callback ordering (deferCallbacks: $deferCallbacks)',
  ({ deferCallbacks }) => {
    it('drains nextTick, then promise callbacks, scheduled in a read callback before the next read callback', async () => {
      const before = liveCounts();
      const base = EventBase.default();
      const [fdA, peerA] = socketpair();
      const [fdB, peerB] = socketpair();
      const log: string[] = [];
      const passes = new Map<string, number>();
      const reader = (name: string) => (bev: Bufferevent) => {
        log.push(`read ${name} ${bev.read().toString()}`);
        passes.set(name, base.stats().passes);
        process.nextTick(() => log.push(`tick ${name}`));
        void Promise.resolve().then(() => log.push(`promise ${name}`));
      };
      const a = Bufferevent.socket({ fd: fdA, deferCallbacks })
        .setCallbacks({ read: reader('A') })
        .enable(EV.READ);
      const b = Bufferevent.socket({ fd: fdB, deferCallbacks })
        .setCallbacks({ read: reader('B') })
        .enable(EV.READ);
      await turns(3);
      // Both become readable before libevent looks again, so one pass delivers both.
      writeSync(peerA, 'a');
      writeSync(peerB, 'b');
      await waitFor(() => log.length === 6, 10_000, 'both reads and their ticks and promises');
      const first = log[0]!.startsWith('read A') ? 'A' : 'B';
      const second = first === 'A' ? 'B' : 'A';
      expect(log).toEqual([
        `read ${first} ${first.toLowerCase()}`,
        `tick ${first}`,
        `promise ${first}`,
        `read ${second} ${second.toLowerCase()}`,
        `tick ${second}`,
        `promise ${second}`,
      ]);
      expect(passes.get('A')).toBe(passes.get('B'));
      a.free();
      b.free();
      closeSync(peerA);
      closeSync(peerB);
      await turns(2);
      expect(liveCounts()).toEqual(before);
    });
  },
);

describe('callback ordering for raw events', () => {
  it('drains nested nextTicks and promise chains from one event callback before the next event runs', async () => {
    const log: string[] = [];
    const first = new Event(-1, 0, () => {
      log.push('event 1');
      void Promise.resolve()
        .then(() => log.push('promise 1a'))
        .then(() => log.push('promise 1b'));
      process.nextTick(() => {
        log.push('tick 1');
        process.nextTick(() => log.push('nested tick 1'));
      });
    });
    const second = new Event(-1, 0, () => log.push('event 2'));
    first.activate();
    second.activate();
    await waitFor(() => log.includes('event 2'), 10_000, 'the second event');
    expect(log).toEqual(['event 1', 'tick 1', 'nested tick 1', 'promise 1a', 'promise 1b', 'event 2']);
    first.free();
    second.free();
  });

  it('runs an event activated by a nextTick of another event callback after that tick, not nested in it', async () => {
    const log: string[] = [];
    let depth = 0;
    const follower = new Event(-1, 0, () => log.push(`follower at depth ${depth}`));
    const leader = new Event(-1, 0, () => {
      depth++;
      log.push('leader');
      process.nextTick(() => {
        follower.activate();
        log.push('leader tick activated follower');
      });
      depth--;
    });
    leader.activate();
    await waitFor(() => log.length === 3, 10_000, 'the follower');
    expect(log).toEqual(['leader', 'leader tick activated follower', 'follower at depth 0']);
    leader.free();
    follower.free();
  });
});
