// All followers of an engine share one inotify instance; files in one directory share the kernel's
// watch on it; a kernel queue overflow makes every follower look at its file again.
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openFdCount, waitFor } from '../helpers.ts';
import { RecordingSink, useTailFixture } from './tail-helpers.ts';

const fixture = useTailFixture();

describe('shared inotify', () => {
  it('uses one inotify fd for two files of one directory, and stopping one leaves the other followed', async () => {
    const [a, b] = [fixture.file('a.log'), fixture.file('b.log')];
    writeFileSync(a, '');
    writeFileSync(b, '');
    const engine = fixture.engine({ a: { path: a, title: 'A' }, b: { path: b, title: 'B' } });
    const fds = openFdCount();
    const [sinkA, sinkB] = [new RecordingSink(), new RecordingSink()];
    const viewerA = engine.open('a', { sink: sinkA });
    const viewerB = engine.open('b', { sink: sinkB });
    expect(engine.stats()).toMatchObject({ followers: 2, openFds: 3, watches: 4 });
    expect(openFdCount()).toBe(fds + 3); // one inotify fd and the two files
    appendFileSync(a, 'to a\n');
    appendFileSync(b, 'to b\n');
    await waitFor(() => sinkA.items.length === 1 && sinkB.items.length === 1, 10_000, 'both files');
    viewerA.stop();
    expect(engine.stats()).toMatchObject({ followers: 1, openFds: 2 });
    // b's directory watch is the same kernel watch a held: it must still report b's re-creation.
    appendFileSync(b, 'still b\n');
    writeFileSync(fixture.file('b.new'), 'new b\n');
    renameSync(fixture.file('b.new'), b);
    await waitFor(() => sinkB.items.length === 4, 10_000, "b's rotation");
    expect(sinkB.timeline()).toEqual(['to b', 'still b', '[rotated]', 'new b']);
    expect(sinkA.timeline()).toEqual(['to a']);
    viewerB.stop();
    expect(engine.stats()).toMatchObject({ followers: 0, watches: 0, openFds: 0 });
    expect(openFdCount()).toBe(fds);
  });

  it('finds a file created while the kernel queue overflowed (its own event lost)', async () => {
    const log = fixture.file('late.log');
    const engine = fixture.engine({ l: { path: log, title: 'L' } });
    const sink = new RecordingSink();
    engine.open('l', { sink });
    // More directory events than the kernel queues (fs.inotify.max_queued_events, 16384 by default),
    // all before the loop can read any: the creation of the log file comes after the overflow.
    const queued = Number(readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8'));
    for (let i = 0; i <= queued; i++) writeFileSync(fixture.file(`noise-${i}`), '');
    writeFileSync(log, 'found\n');
    await waitFor(() => sink.items.length === 3, 20_000, 'the file after the overflow');
    expect(sink.timeline()).toEqual(['[waiting]', '[opened]', 'found']);
  });
});
