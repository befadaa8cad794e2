// An idle event base costs nothing: no wakeups and no passes while live bufferevents wait for traffic.
import { describe, expect, it } from 'vitest';
import { closeSync, writeSync } from 'node:fs';
import { Bufferevent, EventBase, socketpair } from '../../src/index.ts';
import { EV, liveCounts, socketPairBufferevents, turns, waitFor } from '../helpers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('an idle event base', () => {
  it('makes no wakeups and runs no passes while a bufferevent waits for reading', async () => {
    const base = EventBase.default();
    const before = liveCounts();
    const [a, b] = socketPairBufferevents();
    let reads = 0;
    a.setCallbacks({ read: () => reads++ });
    b.setCallbacks({ read: () => reads++ });
    a.enable(EV.READ);
    b.enable(EV.READ);
    // enable() marks the loop dirty; let the passes that register the read events run first.
    await turns(3);
    const start = base.stats();
    expect(start.addedEvents).toBeGreaterThanOrEqual(2);
    expect(start.activeEvents).toBe(0);

    await sleep(300);

    // Waiting on a Node timer touches nothing in libevent: the epoll fd stays quiet (no wakeup), and
    // the prepare handle runs a pass only when a JS call marked the loop dirty, which neither the
    // timer nor stats() does. So the allowance for "passes caused by the wait itself" is exactly 0.
    const end = base.stats();
    expect(end.wakeups).toBe(start.wakeups);
    expect(end.passes).toBe(start.passes);
    expect(end.callbacks).toBe(start.callbacks);
    expect(end.budgetBreaks).toBe(start.budgetBreaks);
    expect(reads).toBe(0);

    a.free();
    b.free();
    await turns(2);
    expect(liveCounts()).toEqual(before);
  });

  it('wakes up when bytes arrive from outside libevent and is quiet again afterwards', async () => {
    const base = EventBase.default();
    // The peer is a raw fd written with writeSync: no JS call into libevent, so only epoll can notice.
    const [fd, peer] = socketpair();
    const a = Bufferevent.socket({ fd });
    const received: string[] = [];
    a.setCallbacks({ read: (bev) => received.push(bev.read().toString()) });
    a.enable(EV.READ);
    await turns(3);
    const idle = base.stats();

    writeSync(peer, 'ping');
    await waitFor(() => received.length === 1, 10_000, 'the read callback');
    expect(received).toEqual(['ping']);
    const afterTraffic = base.stats();
    expect(afterTraffic.wakeups).toBeGreaterThan(idle.wakeups);
    expect(afterTraffic.callbacks).toBe(idle.callbacks + 1);

    await sleep(200);
    const end = base.stats();
    expect(end.wakeups).toBe(afterTraffic.wakeups);
    expect(end.passes).toBe(afterTraffic.passes);
    expect(received).toEqual(['ping']);
    a.free();
    closeSync(peer);
  });

  it('does not spend CPU while idle with a bufferevent enabled for reading', async () => {
    const [a, b] = socketPairBufferevents();
    a.setCallbacks({ read: () => undefined });
    a.enable(EV.READ);
    await turns(3);
    const cpuBefore = process.cpuUsage();
    await sleep(300);
    const cpu = process.cpuUsage(cpuBefore);
    // A spinning loop would burn ~300 ms; an idle one a few ms at most (generous for a noisy machine).
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(100);
    a.free();
    b.free();
  });
});
