// Worker threads: each Node environment gets its own event base, and terminating one leaves the others working.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { EventBase, type EventBaseStats } from '../../src/index.ts';
import { EV, liveCounts, openFdCount, tcpPair, turns, waitFor } from '../helpers.ts';

const workerScript = new URL('./fixtures/echo-worker.mjs', import.meta.url);

interface EchoReport {
  startStats: EventBaseStats;
  endStats: EventBaseStats;
  afterFree: EventBaseStats;
  echoedAll: boolean;
}

interface ReadyReport {
  ready: true;
  stats: EventBaseStats;
}

function startWorker(workerData: { mode: string; messages?: number }): {
  worker: Worker;
  report: Promise<unknown>;
  exit: Promise<number>;
} {
  const worker = new Worker(workerScript, { workerData });
  const report = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const exit = new Promise<number>((resolve) => worker.once('exit', resolve));
  return { worker, report, exit };
}

/** Echoes one message over a fresh TCP pair on this thread's base, then frees it. */
async function echoOnMainThread(text: string): Promise<string> {
  const { client, server } = await tcpPair();
  server.setCallbacks({ read: (bev) => bev.output.addBuffer(bev.input) }).enable(EV.READ | EV.WRITE);
  let received = '';
  client.setCallbacks({ read: (bev) => (received += bev.read().toString()) }).enable(EV.READ | EV.WRITE);
  client.write(text);
  await waitFor(() => received.length >= text.length, 10_000, 'the main-thread echo');
  client.free();
  server.free();
  await turns(2);
  return received;
}

describe('event bases in worker threads', () => {
  it("gives each worker its own base with independent counters, leaving the main thread's untouched", async () => {
    expect(await echoOnMainThread('main before')).toBe('main before');
    const mainBefore = EventBase.default().stats();
    expect(mainBefore.passes).toBeGreaterThan(0);

    const small = startWorker({ mode: 'echo', messages: 5 });
    const large = startWorker({ mode: 'echo', messages: 40 });
    const [smallReport, largeReport] = (await Promise.all([small.report, large.report])) as [
      EchoReport,
      EchoReport,
    ];

    for (const [report, messages] of [
      [smallReport, 5],
      [largeReport, 40],
    ] as const) {
      expect(report.echoedAll).toBe(true);
      // A fresh base: nothing the main thread (or the other worker) did is counted here.
      expect(report.startStats).toMatchObject({
        passes: 0,
        wakeups: 0,
        callbacks: 0,
        liveBufferevents: 0,
        liveListeners: 0,
      });
      expect(report.endStats.passes).toBeGreaterThan(0);
      // One accept, one CONNECTED, then a server read and a client read per ping-pong message.
      expect(report.endStats.callbacks).toBe(2 + 2 * messages);
      expect(report.endStats).toMatchObject({ liveBufferevents: 2, liveListeners: 0 });
      expect(report.afterFree).toMatchObject({
        liveBufferevents: 0,
        liveListeners: 0,
        liveEvents: 0,
        addedEvents: 0,
      });
    }
    // Each worker exits by itself once its bufferevents are freed.
    expect(await small.exit).toBe(0);
    expect(await large.exit).toBe(0);

    const mainAfter = EventBase.default().stats();
    expect(mainAfter).toEqual(mainBefore);
    expect(await echoOnMainThread('main after')).toBe('main after');
  });

  it.each(['hold', 'storm'])(
    'survives terminating a worker that still has live bufferevents and a listener (%s)',
    async (mode) => {
      const mainLive = liveCounts();
      const fdsBefore = openFdCount();
      const { worker, report, exit } = startWorker({ mode });
      const ready = (await report) as ReadyReport;
      expect(ready.ready).toBe(true);
      expect(ready.stats).toMatchObject({ liveBufferevents: 2, liveListeners: 1 });
      expect(ready.stats.addedEvents).toBeGreaterThanOrEqual(3);

      await worker.terminate();
      expect(await exit).toBe(1); // terminate()'s exit code

      // The main thread's base never saw the worker's objects and still works.
      expect(liveCounts()).toEqual(mainLive);
      expect(await echoOnMainThread(`main after ${mode}`)).toBe(`main after ${mode}`);
      expect(liveCounts()).toEqual(mainLive);
      // The worker's sockets, epoll fds and eventfds were all closed by its environment cleanup.
      await waitFor(() => openFdCount() <= fdsBefore, 10_000, "the worker's fds to close");
      expect(openFdCount()).toBe(fdsBefore);
    },
  );
});
