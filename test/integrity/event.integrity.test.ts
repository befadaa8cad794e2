// Integrity matrix: every public member of Event when new, added, fired and freed.
import { closeSync, writeSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Event, socketpair } from '../../src/index.ts';
import { EV, liveCounts, turns, waitFor } from '../helpers.ts';
import { attempt, cleanupOnce, expectThrowsCode, expectWorksOrThrows } from './outcome.ts';

type State = 'new' | 'added' | 'fired' | 'freed';
interface Subject {
  event: Event;
  fired: number[];
  cleanup(): void;
}

async function enter(state: State): Promise<Subject> {
  const [a, b] = socketpair();
  const fired: number[] = [];
  const event = new Event(a, EV.READ, (_fd, what) => fired.push(what));
  const cleanup = cleanupOnce(() => {
    event.free();
    closeSync(a);
    closeSync(b);
  });
  if (state === 'added' || state === 'fired') event.add();
  if (state === 'fired') {
    writeSync(b, 'x');
    await waitFor(() => fired.length === 1, 10_000, 'the event to fire');
    expect(fired).toEqual([EV.READ]);
    expect(event.pending()).toBe(false); // not persistent: no longer pending once it fired
  }
  if (state === 'freed') event.free();
  return { event, fired, cleanup };
}

const members: Record<string, (event: Event) => unknown> = {
  add: (event) => event.add(),
  'add with a timeout': (event) => event.add(5000),
  del: (event) => event.del(),
  activate: (event) => event.activate(EV.READ),
  pending: (event) => event.pending(),
  'priority (set)': (event) => (event.priority = 0),
  fd: (event) => event.fd,
  freed: (event) => event.freed,
  free: (event) => event.free(),
  'Symbol.dispose': (event) => event[Symbol.dispose](),
};

const stillUsableAfterFree = new Set(['fd', 'freed', 'free', 'Symbol.dispose']);

afterAll(async () => {
  await turns(3);
  expect(liveCounts()).toEqual({ bufferevents: 0, listeners: 0, events: 0, evbuffers: 0 });
});

describe.each<State>(['new', 'added', 'fired'])('an Event (%s)', (state) => {
  it.each(Object.keys(members))('runs %s without throwing, and survives the loop', async (name) => {
    const subject = await enter(state);
    const before = subject.fired.length;
    expectWorksOrThrows(
      attempt(() => members[name]!(subject.event)),
      [],
    );
    expect(subject.fired.length).toBe(before); // nothing runs synchronously inside a call
    subject.cleanup();
    await turns(3);
    expect(subject.fired.length).toBe(before); // nor after free()
  });
});

describe('a freed Event', () => {
  it.each(Object.keys(members).filter((name) => !stillUsableAfterFree.has(name)))(
    'throws ERR_FREED from %s',
    async (name) => {
      const subject = await enter('freed');
      expectThrowsCode(
        attempt(() => members[name]!(subject.event)),
        'ERR_FREED',
      );
      subject.cleanup();
    },
  );

  it('still answers fd and freed, and accepts free() and Symbol.dispose again', async () => {
    const subject = await enter('freed');
    expect(subject.event.freed).toBe(true);
    expect(subject.event.fd).toBeGreaterThanOrEqual(0);
    subject.event.free();
    subject.event[Symbol.dispose]();
    subject.cleanup();
  });
});
