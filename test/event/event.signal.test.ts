// Event.signal, in a child process (libevent takes over the signal's handler while the event is added).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { constants } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EV } from '../helpers.ts';

const distIndex = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

// Sends itself SIGUSR2 three times (each after the previous one was seen), frees the event, then
// checks Node's own handling of the signal works again. It exits by itself: a freed event holds no loop.
const childSource = `
import { Event, EventBase } from ${JSON.stringify(distIndex)};

const fired = [];
let syncFires = 0;
const event = Event.signal('SIGUSR2', (fd, what) => fired.push({ fd, what }));
const pendingAfterAdd = event.pending(${EV.SIGNAL});
for (let round = 1; round <= 3; round++) {
  process.kill(process.pid, 'SIGUSR2');
  if (fired.length >= round) syncFires++;
  const deadline = Date.now() + 10000;
  while (fired.length < round && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}
event.free();
const liveEventsAfterFree = EventBase.default().stats().liveEvents;

let nodeHandlerRan = false;
process.once('SIGUSR2', () => { nodeHandlerRan = true; });
process.kill(process.pid, 'SIGUSR2');
const deadline = Date.now() + 10000;
while (!nodeHandlerRan && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
console.log(JSON.stringify({ fired, syncFires, pendingAfterAdd, liveEventsAfterFree, nodeHandlerRan }));
`;

// Node listens first; while libevent's event is added it owns the signal, and free() restores Node's handler.
const sharedSource = `
import { Event } from ${JSON.stringify(distIndex)};

const counts = { node: [], libevent: [] };
let node = 0;
let libevent = 0;
process.on('SIGUSR2', () => node++);
async function send(expectNode, expectLibevent) {
  process.kill(process.pid, 'SIGUSR2');
  const deadline = Date.now() + 10000;
  while ((node < expectNode || libevent < expectLibevent) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise((resolve) => setTimeout(resolve, 50)); // room for a wrong extra delivery to show
  counts.node.push(node);
  counts.libevent.push(libevent);
}
await send(1, 0);
const event = Event.signal('SIGUSR2', () => libevent++);
await send(1, 1);
event.free();
await send(2, 1);
process.removeAllListeners('SIGUSR2');
console.log(JSON.stringify(counts));
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'event-signal-'));
  writeFileSync(path.join(dir, 'child.mjs'), childSource);
  writeFileSync(path.join(dir, 'shared.mjs'), sharedSource);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Event.signal', () => {
  it('fires with EV.SIGNAL once per SIGUSR2, from the loop, and gives the signal back when freed', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(dir, 'child.mjs')], {
      timeout: 30_000,
    });
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      fired: Array<{ fd: number; what: number }>;
      syncFires: number;
      pendingAfterAdd: boolean;
      liveEventsAfterFree: number;
      nodeHandlerRan: boolean;
    };
    const signal = { fd: constants.signals.SIGUSR2, what: EV.SIGNAL };
    expect(summary.fired).toEqual([signal, signal, signal]);
    expect(summary.syncFires).toBe(0); // never inside process.kill()
    expect(summary.pendingAfterAdd).toBe(true);
    expect(summary.liveEventsAfterFree).toBe(0);
    expect(summary.nodeHandlerRan).toBe(true);
  });

  it("owns the signal while added, so Node's own listener is skipped, and restores it when freed", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(dir, 'shared.mjs')], {
      timeout: 30_000,
    });
    const counts = JSON.parse(stdout.trim().split('\n').at(-1)!) as { node: number[]; libevent: number[] };
    // Cumulative counts after each of the three signals: before add, while added, after free.
    expect(counts).toEqual({ node: [1, 1, 2], libevent: [0, 1, 1] });
  });
});
