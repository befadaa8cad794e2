// Following by name like `tail -F`: truncation, rotation by rename and by copy-truncate, deletion
// and re-creation, a file missing at start. Each case asserts the exact lines and notices in order.
import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  rmdirSync,
  openSync,
  closeSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers.ts';
import { RecordingSink, numbered, useTailFixture } from './tail-helpers.ts';

const fixture = useTailFixture();

function follow(name: string): {
  log: string;
  sink: RecordingSink;
  engine: ReturnType<typeof fixture.engine>;
} {
  const log = fixture.file(name);
  const engine = fixture.engine({ '1': { path: log, title: name } });
  const sink = new RecordingSink();
  engine.open('1', { sink });
  return { log, sink, engine };
}

describe('following by name', () => {
  it('re-reads a truncated file from its start after a notice', async () => {
    writeFileSync(fixture.file('t.log'), 'a long first line\nsecond\n');
    const { log, sink } = follow('t.log');
    truncateSync(log, 0);
    await waitFor(() => sink.items.length === 3, 10_000, 'the truncation notice');
    appendFileSync(log, 'after\n');
    await waitFor(() => sink.items.length === 4, 10_000, 'the line after truncation');
    expect(sink.timeline()).toEqual(['a long first line', 'second', '[truncated]', 'after']);
  });

  it('loses no line across a rotation by rename: the old file is read to its end, the new one from its start', async () => {
    writeFileSync(fixture.file('r.log'), '');
    const { log, sink } = follow('r.log');
    // A writer that keeps its fd, as a daemon does until it is told to reopen.
    const writer = openSync(log, 'a');
    writeSync(writer, 'before-1\nbefore-2\n');
    renameSync(log, `${log}.1`);
    writeSync(writer, 'late-to-old\n'); // after the rename, before the new file exists
    await waitFor(() => sink.items.length === 3, 10_000, 'lines of the moved file');
    writeFileSync(log, 'new-1\n');
    writeSync(writer, 'last-to-old\n'); // the old file is drained when the new one appears
    closeSync(writer);
    appendFileSync(log, 'new-2\n');
    await waitFor(() => sink.lines().includes('new-2'), 10_000, 'the new file');
    // The writes above run before the loop sees the new file, so the old one ends with last-to-old.
    expect(sink.timeline()).toEqual([
      'before-1',
      'before-2',
      'late-to-old',
      'last-to-old',
      '[rotated]',
      'new-1',
      'new-2',
    ]);
  });

  it('follows a file replaced by renaming another onto its name', async () => {
    writeFileSync(fixture.file('m.log'), 'one\n');
    const { log, sink } = follow('m.log');
    writeFileSync(fixture.file('incoming'), 'two\nthree\n');
    renameSync(fixture.file('incoming'), log);
    await waitFor(() => sink.items.length === 4, 10_000, 'the replacement');
    expect(sink.timeline()).toEqual(['one', '[rotated]', 'two', 'three']);
  });

  it('handles copy-truncate rotation: the copy is not re-read, the truncated file is followed from its start', async () => {
    writeFileSync(fixture.file('c.log'), '');
    const { log, sink } = follow('c.log');
    const lines = numbered('line', 50);
    appendFileSync(log, lines.slice(0, 30).join('\n') + '\n');
    await waitFor(() => sink.items.length === 30, 10_000, 'the first lines');
    copyFileSync(log, `${log}.1`);
    truncateSync(log, 0);
    await waitFor(() => sink.notices().includes('truncated'), 10_000, 'the truncation');
    appendFileSync(log, lines.slice(30).join('\n') + '\n');
    await waitFor(() => sink.items.length === 51, 10_000, 'the lines after rotation');
    expect(sink.timeline()).toEqual([...lines.slice(0, 30), '[truncated]', ...lines.slice(30)]);
  });

  it('waits when the file is deleted and follows it again when it is re-created', async () => {
    writeFileSync(fixture.file('d.log'), 'first\n');
    const { log, sink, engine } = follow('d.log');
    rmSync(log);
    await waitFor(() => sink.items.length === 2, 10_000, 'the waiting notice');
    expect(engine.stats()).toMatchObject({ followers: 1, watches: 1, openFds: 1 });
    writeFileSync(log, 'again\n');
    await waitFor(() => sink.items.length === 4, 10_000, 'the re-created file');
    expect(sink.timeline()).toEqual(['first', '[waiting]', '[opened]', 'again']);
    expect(engine.stats()).toMatchObject({ followers: 1, watches: 2, openFds: 2 });
  });

  it('delivers a held partial line when its file is deleted', async () => {
    writeFileSync(fixture.file('p.log'), 'whole\nno newline yet');
    const { log, sink, engine } = follow('p.log');
    const reads = engine.stats().reads;
    expect(reads).toBe(1); // the partial line was read and is held
    rmSync(log);
    await waitFor(() => sink.items.length === 3, 10_000, 'the waiting notice');
    expect(sink.timeline()).toEqual(['whole', 'no newline yet', '[waiting]']);
  });

  it('tells a viewer of a missing file that it is waiting, and picks the file up when it is created', async () => {
    const { log, sink, engine } = follow('later.log');
    expect(sink.timeline()).toEqual(['[waiting]']);
    expect(engine.stats()).toMatchObject({ followers: 1, watches: 1, openFds: 1 });
    writeFileSync(log, 'hello\n');
    appendFileSync(log, 'world\n');
    await waitFor(() => sink.items.length === 4, 10_000, 'the created file');
    expect(sink.timeline()).toEqual(['[waiting]', '[opened]', 'hello', 'world']);
  });

  it('acts on what the name is when it looks, not on stale events: created, deleted, created again → one file', async () => {
    const { log, sink } = follow('flap.log');
    writeFileSync(log, 'x\n');
    rmSync(log);
    writeFileSync(log, 'y\n'); // all three before the loop reads any event
    await waitFor(() => sink.items.length === 3, 10_000, 'the file');
    appendFileSync(log, 'z\n');
    await waitFor(() => sink.items.length === 4, 10_000, 'the next line');
    expect(sink.timeline()).toEqual(['[waiting]', '[opened]', 'y', 'z']);
  });

  it('waits while the name is a directory, and follows the file created there after it is removed', async () => {
    mkdirSync(fixture.file('odd.log'));
    const { log, sink } = follow('odd.log');
    expect(sink.timeline()).toEqual(['[waiting]']);
    rmdirSync(log);
    writeFileSync(log, 'real\n');
    await waitFor(() => sink.items.length === 3, 10_000, 'the file');
    appendFileSync(log, 'more\n');
    await waitFor(() => sink.items.length === 4, 10_000, 'the next line');
    expect(sink.timeline()).toEqual(['[waiting]', '[opened]', 'real', 'more']);
  });

  it('refuses a file whose directory does not exist with ERR_TAIL_UNAVAILABLE and keeps nothing open', () => {
    const engine = fixture.engine({ x: { path: fixture.file('no-such-dir/x.log'), title: 'X' } });
    let code: string | undefined;
    try {
      engine.open('x', { sink: new RecordingSink() });
    } catch (error) {
      code = (error as { code?: string }).code;
    }
    expect(code).toBe('ERR_TAIL_UNAVAILABLE');
    expect(engine.stats()).toMatchObject({ followers: 0, watches: 0, openFds: 0, viewers: 0 });
  });
});
