// The finalizer safety net: an Inotify dropped without close() is collected and its fd closed.
import { readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IN, Inotify } from '../../src/index.ts';
import { collectUntil } from '../leaks/gc.ts';

function fdTarget(fd: number): string | null {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

function dropped(): { ref: WeakRef<Inotify>; fd: number } {
  const inotify = new Inotify();
  inotify.addWatch('/tmp', IN.CREATE);
  return { ref: new WeakRef(inotify), fd: inotify.fd };
}

describe('an Inotify nobody closed', () => {
  it('is collected and its fd closed by the finalizer', async () => {
    const { ref, fd } = dropped();
    expect(fdTarget(fd)).toBe('anon_inode:inotify');
    expect(await collectUntil(() => ref.deref() === undefined)).toBe(true);
    expect(await collectUntil(() => fdTarget(fd) !== 'anon_inode:inotify')).toBe(true);
  });
});
