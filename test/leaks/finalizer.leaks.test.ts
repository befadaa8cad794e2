// Finalizers: a dropped bufferevent is collected and its fd closed, unless it is still doing work.
//
// Contract (src/bufferevent.ts #syncKeepAlive): a bufferevent with at least one callback that has not
// yet reported EOF or ERROR is work in flight, like a Node socket with listeners: the binding keeps it
// alive even when user code holds no reference, and it keeps delivering data. Without callbacks, or
// once EOF/ERROR was delivered, only user references keep it; when it is collected its finalizer frees
// it and (closeOnFree) closes the fd.
import { readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Bufferevent, socketpair } from '../../src/index.ts';
import { BEV, EV, liveCounts, turns, waitFor } from '../helpers.ts';
import { collectUntil } from './gc.ts';

/** What /proc says `fd` is (e.g. "socket:[123]"), or null when it is not open. */
function fdTarget(fd: number): string | null {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

/** A bufferevent on a new socket pair's first end, reachable only through the returned WeakRef. */
function droppedBufferevent(setUp: (bev: Bufferevent) => void): {
  ref: WeakRef<Bufferevent>;
  fd: number;
  peer: number;
} {
  const [fd, peer] = socketpair();
  const bev = Bufferevent.socket({ fd });
  setUp(bev);
  return { ref: new WeakRef(bev), fd, peer };
}

/** A bufferevent on `fd` that records its events. */
function watcher(fd: number): { bev: Bufferevent; events: number[] } {
  const events: number[] = [];
  const bev = Bufferevent.socket({ fd });
  bev.setCallbacks({ event: (_bev, what) => events.push(what) });
  bev.enable(EV.READ);
  return { bev, events };
}

describe('a dropped bufferevent', () => {
  it('without callbacks is collected, and its fd closed so the peer sees EOF', async () => {
    const { ref, fd, peer } = droppedBufferevent(() => {});
    const socketName = fdTarget(fd);
    expect(socketName).toMatch(/^socket:/);
    const other = watcher(peer);

    expect(await collectUntil(() => ref.deref() === undefined)).toBe(true);
    await waitFor(() => other.events.length > 0, 10_000, 'EOF at the peer');
    expect(other.events).toEqual([BEV.EOF | BEV.READING]);
    expect(fdTarget(fd)).not.toBe(socketName); // closed (or the number reused for something else)

    other.bev.free();
    await turns(2);
    expect(liveCounts().bufferevents).toBe(0);
  });

  it('that was enabled but has no callbacks is collected too', async () => {
    const { ref, peer } = droppedBufferevent((bev) => bev.enable(EV.READ | EV.WRITE));
    const other = watcher(peer);
    expect(await collectUntil(() => ref.deref() === undefined)).toBe(true);
    await waitFor(() => other.events.length > 0, 10_000, 'EOF at the peer');
    expect(other.events).toEqual([BEV.EOF | BEV.READING]);
    other.bev.free();
  });

  it('with callbacks on an open connection is kept alive and keeps delivering data', async () => {
    const received: string[] = [];
    const events: number[] = [];
    const { ref, fd, peer } = droppedBufferevent((bev) => {
      bev.setCallbacks({
        read: (self) => received.push(self.read().toString()),
        event: (_self, what) => events.push(what),
      });
      bev.enable(EV.READ);
    });
    const socketName = fdTarget(fd);
    const other = watcher(peer);

    expect(await collectUntil(() => ref.deref() === undefined, 20)).toBe(false);
    other.bev.write('still here');
    other.bev.enable(EV.WRITE);
    await waitFor(() => received.join('') === 'still here', 10_000, 'data at the dropped bufferevent');
    expect(ref.deref()).toBeInstanceOf(Bufferevent);
    expect(other.events).toEqual([]); // its fd was never closed

    // Once its connection ends (EOF delivered), nothing keeps it: it is collected and its fd closed.
    other.bev.free();
    await waitFor(() => events.length > 0, 10_000, 'EOF at the dropped bufferevent');
    expect(events).toEqual([BEV.EOF | BEV.READING]);
    expect(await collectUntil(() => ref.deref() === undefined)).toBe(true);
    await turns(3);
    expect(fdTarget(fd)).not.toBe(socketName);
    expect(liveCounts().bufferevents).toBe(0);
  });
});
