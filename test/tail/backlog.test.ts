// The backlog a viewer starts with: the last N lines, read from the end of the file within a byte
// cap, so a huge file is never read whole.
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RecordingSink, numbered, useTailFixture } from './tail-helpers.ts';

const fixture = useTailFixture();

/** Bytes this process has read with read()/pread() so far (Linux /proc/self/io). */
function bytesRead(): number {
  return Number(/^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
}

describe('the backlog', () => {
  it('is the last backlogLines lines (100 by default)', () => {
    const log = fixture.file('b.log');
    const lines = numbered('line', 1000);
    writeFileSync(log, lines.join('\n') + '\n');
    const engine = fixture.engine({ b: { path: log, title: 'B' } });
    const sink = new RecordingSink();
    engine.open('b', { sink });
    expect(sink.timeline()).toEqual(lines.slice(900));
  });

  it('reads at most backlogBytes from the end of a large file and leaves out the line the cap cuts', () => {
    const log = fixture.file('big.log');
    // 32 MiB of 100-byte lines: one 1 MB block written again and again.
    const line = (n: number) => `${String(n).padStart(8, '0')} ${'z'.repeat(90)}\n`; // 100 bytes
    const block = Buffer.from(Array.from({ length: 10_000 }, (_, i) => line(i)).join(''));
    const fd = openSync(log, 'w');
    for (let i = 0; i < 32; i++) writeSync(fd, block);
    closeSync(fd);
    const engine = fixture.engine(
      { big: { path: log, title: 'Big' } },
      { backlogLines: 5000, backlogBytes: 1050 },
    );
    const sink = new RecordingSink();
    const before = bytesRead();
    engine.open('big', { sink });
    const read = bytesRead() - before - 4096; // less this probe's own read of /proc/self/io

    // 1050 bytes hold 10.5 lines: the half line at the window's start is left out.
    expect(sink.timeline()).toEqual(Array.from({ length: 10 }, (_, i) => line(9990 + i).slice(0, -1)));
    expect(engine.stats().reads).toBe(0); // the live reader starts at the end: nothing to read yet
    // The backlog window and the search for the last line's start: a few KiB, not 32 MiB (the bound
    // leaves room for anything else the process reads meanwhile).
    expect(read).toBeLessThan(256 * 1024);
  });

  it('is empty for an empty file, and holds back a partial last line', () => {
    const empty = fixture.file('empty.log');
    writeFileSync(empty, '');
    const partial = fixture.file('partial.log');
    writeFileSync(partial, 'a\nb\nincomplete');
    const engine = fixture.engine({ e: { path: empty, title: 'E' }, p: { path: partial, title: 'P' } });
    const emptySink = new RecordingSink();
    const partialSink = new RecordingSink();
    engine.open('e', { sink: emptySink });
    engine.open('p', { sink: partialSink });
    expect(emptySink.items).toEqual([]);
    expect(partialSink.timeline()).toEqual(['a', 'b']);
  });

  it('can be turned off with backlogLines 0', () => {
    const log = fixture.file('off.log');
    writeFileSync(log, 'a\nb\n');
    const engine = fixture.engine({ o: { path: log, title: 'O' } }, { backlogLines: 0 });
    const sink = new RecordingSink();
    engine.open('o', { sink });
    expect(sink.items).toEqual([]);
  });
});
