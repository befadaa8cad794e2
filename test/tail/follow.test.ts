// Following a file that is appended to: lines arrive from inotify on the loop, partial lines wait
// for their newline, and nothing wakes or reads while the file is quiet.
import { appendFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers.ts';
import { RecordingSink, numbered, useTailFixture } from './tail-helpers.ts';

const fixture = useTailFixture();

describe('a followed file', () => {
  it('delivers the backlog, then each appended line, in order', async () => {
    const log = fixture.file('app.log');
    writeFileSync(log, 'old-1\nold-2\n');
    const engine = fixture.engine({ '1': { path: log, title: 'App' } });
    const sink = new RecordingSink();
    const viewer = engine.open('1', { sink });
    expect(sink.timeline()).toEqual(['old-1', 'old-2']);
    appendFileSync(log, 'new-1\n');
    await waitFor(() => sink.items.length === 3, 10_000, 'the appended line');
    appendFileSync(log, 'new-2\nnew-3\n');
    await waitFor(() => sink.items.length === 5, 10_000, 'two more lines');
    expect(sink.timeline()).toEqual(['old-1', 'old-2', 'new-1', 'new-2', 'new-3']);
    viewer.stop();
    expect(engine.stats()).toMatchObject({ followers: 0, watches: 0, openFds: 0, viewers: 0 });
  });

  it('holds a partial last line until its newline, also one present when following starts', async () => {
    const log = fixture.file('partial.log');
    writeFileSync(log, 'done\nhal');
    const engine = fixture.engine({ a: { path: log, title: 'A' } });
    const sink = new RecordingSink();
    engine.open('a', { sink });
    expect(sink.timeline()).toEqual(['done']);
    const reads = engine.stats().reads;
    appendFileSync(log, 'f of a line');
    await waitFor(() => engine.stats().reads > reads, 10_000, 'the partial write to be read');
    expect(sink.timeline()).toEqual(['done']);
    // A viewer joining now gets the complete lines only; the held one reaches both when it completes.
    const otherSink = new RecordingSink();
    engine.open('a', { sink: otherSink });
    expect(otherSink.timeline()).toEqual(['done']);
    appendFileSync(log, '\nnext\n');
    await waitFor(() => sink.items.length === 3, 10_000, 'the completed line');
    expect(sink.timeline()).toEqual(['done', 'half of a line', 'next']);
    await waitFor(() => otherSink.items.length === 3, 10_000, 'the second viewer');
    expect(otherSink.timeline()).toEqual(['done', 'half of a line', 'next']);
  });

  it('wakes and reads only when the file is written to (no polling)', async () => {
    const log = fixture.file('quiet.log');
    writeFileSync(log, '');
    const engine = fixture.engine({ q: { path: log, title: 'Q' } });
    const sink = new RecordingSink();
    engine.open('q', { sink });
    const idle = engine.stats();
    await new Promise((resolve) => setTimeout(resolve, 300)); // quiet on purpose: nothing may happen
    expect(engine.stats()).toMatchObject({ wakeups: idle.wakeups, reads: idle.reads });
    appendFileSync(log, 'one\n');
    await waitFor(() => sink.items.length === 1, 10_000, 'the line');
    const after = engine.stats();
    expect(after.wakeups - idle.wakeups).toBeGreaterThanOrEqual(1);
    expect(after.reads - idle.reads).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(engine.stats()).toMatchObject({ wakeups: after.wakeups, reads: after.reads });
  });

  it('delivers 10,000 lines appended in bursts, none lost, in order', async () => {
    const log = fixture.file('bursts.log');
    writeFileSync(log, '');
    const engine = fixture.engine({ b: { path: log, title: 'B' } });
    const sink = new RecordingSink();
    engine.open('b', { sink });
    const expected: string[] = [];
    for (let burst = 0; burst < 10; burst++) {
      const lines = numbered(`burst${burst}`, 1000);
      expected.push(...lines);
      appendFileSync(log, lines.join('\n') + '\n');
      await waitFor(() => sink.items.length === expected.length, 10_000, `burst ${burst}`);
    }
    expect(sink.timeline()).toEqual(expected);
  });
});
