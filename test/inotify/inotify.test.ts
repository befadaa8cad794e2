// Inotify on real files in a temp directory, its fd watched by an Event on the libevent loop.
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Event, IN, Inotify, type InotifyEvent } from '../../src/index.ts';
import { native } from '../../src/native.ts';
import { EV, checkNothingLeaksAfterEach, openFdCount, thrownError, waitFor } from '../helpers.ts';

let dir: string;
const closers: Array<() => void> = [];

// Registered first so that, with vitest's stacked hooks, it checks after the cleanup below.
checkNothingLeaksAfterEach({ fds: true });
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bufferevent-inotify-'));
});
afterEach(() => {
  for (const close of closers.splice(0)) close();
  rmSync(dir, { recursive: true, force: true });
});

/** An Inotify whose events are collected from an Event on the loop. */
function watched(): { inotify: Inotify; events: InotifyEvent[]; wakeups: () => number } {
  const inotify = new Inotify();
  const events: InotifyEvent[] = [];
  let wakeups = 0;
  const event = new Event(inotify.fd, EV.READ | EV.PERSIST, () => {
    wakeups++;
    events.push(...inotify.readEvents());
  }).add();
  closers.push(() => {
    event.free();
    inotify.close();
  });
  return { inotify, events, wakeups: () => wakeups };
}

describe('Inotify', () => {
  it('reports a directory entry created, written and moved, in order, through an Event on its fd', async () => {
    const { inotify, events } = watched();
    const wd = inotify.addWatch(dir, IN.CREATE | IN.MOVED_FROM | IN.MOVED_TO | IN.DELETE);
    writeFileSync(path.join(dir, 'a.log'), 'x');
    renameSync(path.join(dir, 'a.log'), path.join(dir, 'b.log'));
    rmSync(path.join(dir, 'b.log'));
    await waitFor(() => events.length >= 4, 10_000, 'four directory events');
    expect(events.map((e) => [e.wd, e.mask, e.name])).toEqual([
      [wd, IN.CREATE, 'a.log'],
      [wd, IN.MOVED_FROM, 'a.log'],
      [wd, IN.MOVED_TO, 'b.log'],
      [wd, IN.DELETE, 'b.log'],
    ]);
    expect(events[1]!.cookie).not.toBe(0);
    expect(events[2]!.cookie).toBe(events[1]!.cookie);
  });

  it('reports IN.MODIFY on a watched file with an empty name, and nothing after removeWatch except IN.IGNORED', async () => {
    const file = path.join(dir, 'f.log');
    writeFileSync(file, '');
    const { inotify, events } = watched();
    const wd = inotify.addWatch(file, IN.MODIFY);
    appendFileSync(file, 'line\n');
    await waitFor(() => events.length >= 1, 10_000, 'IN.MODIFY');
    expect(events[0]).toEqual({ wd, mask: IN.MODIFY, cookie: 0, name: '' });
    inotify.removeWatch(wd);
    await waitFor(() => events.some((e) => e.mask & IN.IGNORED), 10_000, 'IN.IGNORED');
    const count = events.length;
    appendFileSync(file, 'more\n');
    // A second, still-watched file proves the loop ran after the append.
    const other = path.join(dir, 'g.log');
    writeFileSync(other, '');
    const wd2 = inotify.addWatch(other, IN.MODIFY);
    appendFileSync(other, 'x');
    await waitFor(() => events.some((e) => e.wd === wd2), 10_000, 'the other file');
    expect(events.slice(count).map((e) => e.wd)).toEqual([wd2]);
  });

  it('returns [] when nothing is queued and reads many events in bounded calls without losing any', () => {
    const inotify = new Inotify();
    closers.push(() => inotify.close());
    expect(inotify.readEvents()).toEqual([]);
    inotify.addWatch(dir, IN.CREATE);
    // Long names make each record big: more than one 64 KiB call's worth.
    const names = Array.from({ length: 600 }, (_, i) => `${String(i).padStart(4, '0')}-${'n'.repeat(200)}`);
    for (const name of names) writeFileSync(path.join(dir, name), '');
    const seen: string[] = [];
    let calls = 0;
    for (let batch = inotify.readEvents(); batch.length > 0; batch = inotify.readEvents()) {
      calls++;
      seen.push(...batch.map((e) => e.name));
    }
    expect(seen).toEqual(names);
    expect(calls).toBeGreaterThan(1);
  });

  it('fails addWatch with ERR_INOTIFY_WATCH and errno ENOENT for a missing path', () => {
    const inotify = new Inotify();
    closers.push(() => inotify.close());
    const error = thrownError(() => inotify.addWatch(path.join(dir, 'missing'), IN.MODIFY));
    expect(error.code).toBe('ERR_INOTIFY_WATCH');
    expect(error.systemCode).toBe('ENOENT');
    expect(error.syscall).toBe('inotify_add_watch');
    const removed = thrownError(() => inotify.removeWatch(12345));
    expect([removed.code, removed.systemCode]).toEqual(['ERR_INOTIFY_WATCH', 'EINVAL']);
  });

  it('refuses wrong arguments with ERR_INVALID_ARG and never crashes', () => {
    const inotify = new Inotify();
    closers.push(() => inotify.close());
    const bad: Array<() => unknown> = [
      () => inotify.addWatch(42 as unknown as string, IN.MODIFY),
      () => inotify.addWatch('', IN.MODIFY),
      () => inotify.addWatch(`${dir}\0x`, IN.MODIFY),
      () => inotify.addWatch(dir, 0),
      () => inotify.addWatch(dir, 2 ** 40),
      () => inotify.addWatch(dir, -1),
      () => inotify.addWatch(dir, 1.5),
      () => inotify.addWatch(dir, IN.ONESHOT),
      () => inotify.addWatch(dir, '2' as unknown as number),
      () => inotify.removeWatch(-1),
      () => inotify.removeWatch(2 ** 53),
      () => inotify.removeWatch(Number.NaN),
    ];
    for (const call of bad) expect(thrownError(call).code).toBe('ERR_INVALID_ARG');
  });

  it('close() closes the fd, is idempotent, and later calls throw ERR_FREED', () => {
    const before = openFdCount();
    const inotify = new Inotify();
    expect(openFdCount()).toBe(before + 1);
    inotify.addWatch(dir, IN.CREATE);
    inotify.close();
    inotify.close();
    expect(openFdCount()).toBe(before);
    expect(inotify.closed).toBe(true);
    for (const call of [
      () => inotify.fd,
      () => inotify.addWatch(dir, IN.CREATE),
      () => inotify.removeWatch(1),
      () => inotify.readEvents(),
    ]) {
      expect(thrownError(call).code).toBe('ERR_FREED');
    }
  });

  it('does not wake the loop while nothing changes (no polling)', async () => {
    const file = path.join(dir, 'quiet.log');
    writeFileSync(file, '');
    const { inotify, events, wakeups } = watched();
    inotify.addWatch(file, IN.MODIFY);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(wakeups()).toBe(0);
    appendFileSync(file, 'x');
    await waitFor(() => events.length === 1, 10_000, 'one event');
    expect(wakeups()).toBe(1);
  });
});

describe('IN', () => {
  it('holds exactly the values of <sys/inotify.h> the addon was built with', () => {
    expect({ ...IN }).toEqual(native.inotifyConstants);
  });
});
