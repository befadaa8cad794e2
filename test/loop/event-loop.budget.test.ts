// The callback budget: a pass that keeps finding work is cut short so Node's timers and I/O still run.
import { describe, expect, it } from 'vitest';
import { EventBase } from '../../src/index.ts';
import { EV, liveCounts, socketPairBufferevents, turns, waitFor } from '../helpers.ts';

describe('the per-pass callback budget', () => {
  it('breaks passes of a write callback that refills forever, and a setTimeout(0) fires meanwhile', async () => {
    const base = EventBase.default();
    const before = liveCounts();
    const [writer, reader] = socketPairBufferevents();
    const chunk = Buffer.alloc(4096, 'w');
    let writes = 0;
    let queuedBytes = chunk.length; // the first write below
    let readBytes = 0;
    let refill = true;
    writer.setCallbacks({
      write(bev) {
        writes++;
        if (!refill) return;
        bev.write(chunk);
        queuedBytes += chunk.length;
      },
    });
    reader.setCallbacks({ read: (bev) => (readBytes += bev.input.drain()) });
    reader.enable(EV.READ);
    writer.enable(EV.WRITE);
    const breaksBefore = base.stats().budgetBreaks;
    writer.write(chunk);

    // waitFor itself polls with Node timers: it returns only because passes give Node its turn.
    await waitFor(() => writes >= 200, 20_000, 'the write storm');
    const writesInTimer = await new Promise<number>((resolve) => setTimeout(() => resolve(writes), 0));
    expect(writesInTimer).toBeGreaterThanOrEqual(200);
    // The storm was still going when the timer fired: it cannot stop by itself while refilling.
    await waitFor(() => writes > writesInTimer + 50, 20_000, 'more writes after the timer');
    expect(base.stats().budgetBreaks).toBeGreaterThan(breaksBefore);

    refill = false;
    const writesAtStop = writes;
    await waitFor(() => readBytes === queuedBytes, 20_000, 'the reader to drain the rest');
    await turns(3);
    // The last refill drained once more and found nothing to add; an empty output calls write no more.
    expect(writes).toBe(writesAtStop + 1);
    expect(readBytes).toBe(queuedBytes);
    expect(queuedBytes).toBe(writesAtStop * chunk.length + chunk.length);
    writer.free();
    reader.free();
    await turns(2);
    expect(liveCounts()).toEqual(before);
  });

  it('does not count a budget break for a pass that runs fewer callbacks than the budget', async () => {
    const base = EventBase.default();
    const [a, b] = socketPairBufferevents();
    let reads = 0;
    b.setCallbacks({ read: (bev) => (reads += bev.read().length > 0 ? 1 : 0) }).enable(EV.READ);
    a.enable(EV.WRITE);
    await turns(3);
    const breaksBefore = base.stats().budgetBreaks;
    for (let i = 0; i < 10; i++) {
      a.write(`message ${i}`);
      await waitFor(() => reads === i + 1, 10_000, `read ${i}`);
    }
    expect(base.stats().budgetBreaks).toBe(breaksBefore);
    a.free();
    b.free();
  });
});
