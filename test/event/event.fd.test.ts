// Raw events on a socket pair fd: persistent and one-shot reads, timeouts, activate and free.
import { closeSync, readSync, writeSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Event, socketpair } from '../../src/index.ts';
import { EV, liveCounts, turns, waitFor } from '../helpers.ts';

const cleanups: Array<() => void> = [];

/** A socket pair whose fds are closed after the test. */
function pair(): [number, number] {
  const fds = socketpair();
  cleanups.push(() => fds.forEach((fd) => closeSync(fd)));
  return fds;
}

/** Reads (and discards) whatever is buffered on the non-blocking fd. */
function consume(fd: number): string {
  const chunk = Buffer.alloc(4096);
  try {
    return chunk.subarray(0, readSync(fd, chunk)).toString();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return '';
    throw error;
  }
}

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await turns(2);
  expect(liveCounts().events).toBe(0);
});

describe('an fd Event', () => {
  it('with EV.READ | EV.PERSIST fires with EV.READ each time data arrives, and not after del()', async () => {
    const [a, b] = pair();
    const fired: Array<{ fd: number; what: number; data: string }> = [];
    const event = new Event(a, EV.READ | EV.PERSIST, (fd, what) =>
      fired.push({ fd, what, data: consume(fd) }),
    );
    event.add();
    expect(event.pending(EV.READ)).toBe(true);
    for (const data of ['one', 'two', 'three']) {
      writeSync(b, data);
      await waitFor(
        () => fired.length === ['one', 'two', 'three'].indexOf(data) + 1,
        10_000,
        `the read of ${data}`,
      );
    }
    expect(fired).toEqual([
      { fd: a, what: EV.READ, data: 'one' },
      { fd: a, what: EV.READ, data: 'two' },
      { fd: a, what: EV.READ, data: 'three' },
    ]);

    event.del();
    expect(event.pending()).toBe(false);
    writeSync(b, 'unseen');
    await turns(10);
    expect(fired).toHaveLength(3);

    event.add(); // level-triggered: the data that arrived while deleted is reported now
    await waitFor(() => fired.length === 4, 10_000, 'the read after add');
    expect(fired[3]).toEqual({ fd: a, what: EV.READ, data: 'unseen' });
    event.free();
  });

  it('without EV.PERSIST fires once, even though the data stays unread', async () => {
    const [a, b] = pair();
    const fired: number[] = [];
    const event = new Event(a, EV.READ, (_fd, what) => fired.push(what));
    event.add();
    writeSync(b, 'stays');
    await waitFor(() => fired.length === 1, 10_000, 'the read');
    await turns(10);
    expect(fired).toEqual([EV.READ]);
    expect(event.pending()).toBe(false);
    event.free();
  });

  it('fires with EV.WRITE at once when the socket is writable', async () => {
    const [a] = pair();
    const fired: number[] = [];
    const event = new Event(a, EV.WRITE, (_fd, what) => fired.push(what)).add();
    await waitFor(() => fired.length === 1, 10_000, 'writability');
    expect(fired).toEqual([EV.WRITE]);
    event.free();
  });

  it('fires with EV.TIMEOUT when no data arrives before its timeout', async () => {
    const [a] = pair();
    const fired: Array<{ what: number; after: number }> = [];
    const started = performance.now();
    const event = new Event(a, EV.READ, (_fd, what) =>
      fired.push({ what, after: performance.now() - started }),
    );
    event.add(40);
    expect(event.pending(EV.TIMEOUT)).toBe(true);
    await waitFor(() => fired.length === 1, 10_000, 'the timeout');
    expect(fired[0]!.what).toBe(EV.TIMEOUT);
    expect(fired[0]!.after).toBeGreaterThanOrEqual(35);
    await turns(5);
    expect(fired).toHaveLength(1);
    event.free();
  });

  it('with EV.PERSIST and a timeout reports reads and then a timeout once data stops', async () => {
    const [a, b] = pair();
    const fired: number[] = [];
    const event = new Event(a, EV.READ | EV.PERSIST, (fd, what) => {
      fired.push(what);
      consume(fd);
    });
    event.add(50);
    writeSync(b, 'x');
    await waitFor(() => fired.length >= 2, 10_000, 'a read and then a timeout');
    expect(fired.slice(0, 2)).toEqual([EV.READ, EV.TIMEOUT]);
    expect(event.pending(EV.READ)).toBe(true); // persistent: still pending after the timeout
    event.free();
  });
});

describe('Event.activate', () => {
  it('runs the callback from the loop with the given flags, never inside the call', async () => {
    const [a] = pair();
    const fired: number[] = [];
    const event = new Event(a, EV.READ, (_fd, what) => fired.push(what));
    event.activate(EV.WRITE);
    expect(fired).toEqual([]);
    await Promise.resolve(); // microtasks run before the loop does
    expect(fired).toEqual([]);
    await waitFor(() => fired.length === 1, 10_000, 'the activation');
    await turns(3);
    expect(fired).toEqual([EV.WRITE]);
    event.free();
  });

  it('runs nothing when the event is freed before the loop gets to it', async () => {
    const [a] = pair();
    const fired: number[] = [];
    const event = new Event(a, EV.READ, (_fd, what) => fired.push(what));
    event.activate(EV.READ);
    event.free();
    await turns(5);
    expect(fired).toEqual([]);
  });
});

describe('Event.free', () => {
  it('is safe inside the event’s own callback, and no further callback runs', async () => {
    const [a, b] = pair();
    let calls = 0;
    const event: Event = new Event(a, EV.READ | EV.PERSIST, () => {
      calls++;
      event.free();
      expect(event.freed).toBe(true);
    });
    event.add();
    writeSync(b, 'never consumed'); // level-triggered: it would fire on every pass if still alive
    await waitFor(() => calls === 1, 10_000, 'the first callback');
    await turns(10);
    expect(calls).toBe(1);
    expect(liveCounts().events).toBe(0);
  });

  it('freeing another event that is active in the same pass keeps its callback from running', async () => {
    const [a, b] = pair();
    const [c, d] = pair();
    const calls: string[] = [];
    const events: Event[] = [];
    const onFire = (name: string, other: () => Event) => () => {
      calls.push(name);
      other().free();
    };
    events.push(
      new Event(
        a,
        EV.READ,
        onFire('first', () => events[1]!),
      ),
    );
    events.push(
      new Event(
        c,
        EV.READ,
        onFire('second', () => events[0]!),
      ),
    );
    writeSync(b, 'x');
    writeSync(d, 'y');
    await turns(2); // both fds are readable before either event is added
    for (const event of events) event.add();
    await waitFor(() => calls.length > 0, 10_000, 'one callback');
    await turns(5);
    expect(calls).toHaveLength(1);
    const [ran, other] = calls[0] === 'first' ? [events[0]!, events[1]!] : [events[1]!, events[0]!];
    expect(other.freed).toBe(true);
    expect(ran.freed).toBe(false);
    ran.free();
  });

  it('on a pending timer means the timer never fires', async () => {
    let calls = 0;
    const timer = Event.timer(10, () => calls++);
    expect(timer.pending(EV.TIMEOUT)).toBe(true);
    timer.free();
    await new Promise((resolve) => setTimeout(resolve, 50)); // longer than the timer's 10 ms
    await turns(3);
    expect(calls).toBe(0);
  });
});

describe('Event.timer', () => {
  it('fires once with EV.TIMEOUT and fd -1, or repeatedly with persist', async () => {
    const once: Array<[number, number]> = [];
    const repeated: number[] = [];
    const single = Event.timer(5, (fd, what) => once.push([fd, what]));
    const every = Event.timer(5, (_fd, what) => repeated.push(what), { persist: true });
    await waitFor(() => once.length === 1 && repeated.length >= 3, 10_000, 'the timers');
    expect(once).toEqual([[-1, EV.TIMEOUT]]);
    expect(new Set(repeated)).toEqual(new Set([EV.TIMEOUT]));
    expect(single.pending()).toBe(false);
    expect(every.pending(EV.TIMEOUT)).toBe(true);
    single.free();
    every.free();
  });
});
