// Integrity matrix: every public member of EvBuffer, owned or a bufferevent's view, alive or freed.
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bufferevent, EOL, EvBuffer, socketpair } from '../../src/index.ts';
import { liveCounts, turns } from '../helpers.ts';
import { attempt, cleanupOnce, expectThrowsCode, expectWorksOrThrows } from './outcome.ts';

type State = 'owned' | 'input view' | 'output view' | 'view of a freed bufferevent' | 'freed owned';
interface Subject {
  buffer: EvBuffer;
  cleanup(): void;
}

let dir: string;
let file: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'evbuffer-integrity-'));
  file = path.join(dir, 'data.txt');
  writeFileSync(file, 'file contents\n');
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await turns(3);
  expect(liveCounts()).toEqual({ bufferevents: 0, listeners: 0, events: 0, evbuffers: 0 });
});

function enter(state: State): Subject {
  if (state === 'owned' || state === 'freed owned') {
    const buffer = new EvBuffer().add('abc\nrest');
    if (state === 'freed owned') buffer.free();
    return { buffer, cleanup: cleanupOnce(() => buffer.free()) };
  }
  const [a, b] = socketpair();
  const bev = Bufferevent.socket({ fd: a });
  const cleanup = cleanupOnce(() => {
    bev.free();
    closeSync(b);
  });
  if (state === 'input view') return { buffer: bev.input.prepend('abc\nrest'), cleanup };
  const buffer = bev.write('abc\nrest').output; // not enabled for writing: the bytes stay queued
  if (state === 'view of a freed bufferevent') bev.free();
  return { buffer, cleanup };
}

function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

// Each member called with valid arguments; `after` releases what the call was given.
const members: Record<string, (buffer: EvBuffer) => { value: () => unknown; after?: () => void }> = {
  length: (buffer) => ({ value: () => buffer.length }),
  add: (buffer) => ({ value: () => buffer.add('more') }),
  addBuffer: (buffer) => {
    const source = new EvBuffer().add('moved');
    return { value: () => buffer.addBuffer(source), after: () => source.free() };
  },
  prepend: (buffer) => ({ value: () => buffer.prepend('front') }),
  remove: (buffer) => ({ value: () => buffer.remove(2) }),
  drain: (buffer) => ({ value: () => buffer.drain(2) }),
  copyOut: (buffer) => ({ value: () => buffer.copyOut(2) }),
  pullup: (buffer) => ({ value: () => buffer.pullup(2) }),
  search: (buffer) => ({ value: () => buffer.search('c') }),
  readLine: (buffer) => ({ value: () => buffer.readLine(EOL.LF) }),
  readLineBytes: (buffer) => ({ value: () => buffer.readLineBytes(EOL.LF) }),
  addFile: (buffer) => {
    const fd = openSync(file, 'r');
    // A refused addFile leaves the fd with the caller; a successful one hands it to libevent.
    return { value: () => buffer.addFile(fd, 0, 4), after: () => isOpen(fd) && closeSync(fd) };
  },
  writeTo: (buffer) => {
    const [a, b] = socketpair();
    return { value: () => buffer.writeTo(a), after: () => (closeSync(a), closeSync(b)) };
  },
  readFrom: (buffer) => {
    const [a, b] = socketpair();
    writeSync(b, 'incoming');
    return { value: () => buffer.readFrom(a), after: () => (closeSync(a), closeSync(b)) };
  },
  'toString()': (buffer) => ({ value: () => buffer.toString() }),
  free: (buffer) => ({ value: () => buffer.free() }),
  'Symbol.dispose': (buffer) => ({ value: () => buffer[Symbol.dispose]() }),
};

// libevent freezes the END of a socket bufferevent's input (only libevent appends) and the START of its
// output (only libevent removes); a view is not the owner, so free() is refused.
const frozenEnd = ['ERR_EVBUFFER_FROZEN'];
const frozenStart = ['ERR_EVBUFFER_FROZEN'];
const allowed: Partial<Record<State, Partial<Record<string, string[]>>>> = {
  'input view': {
    add: frozenEnd,
    addBuffer: frozenEnd,
    addFile: ['ERR_EVBUFFER_FROZEN', 'ERR_EVBUFFER_ADD_FILE'],
    readFrom: ['ERR_EVBUFFER_FROZEN', 'ERR_EVBUFFER_READ'],
    free: ['ERR_NOT_OWNER'],
    'Symbol.dispose': ['ERR_NOT_OWNER'],
  },
  'output view': {
    prepend: frozenStart,
    remove: frozenStart,
    drain: frozenStart,
    copyOut: frozenStart,
    'toString()': frozenStart,
    writeTo: ['ERR_EVBUFFER_FROZEN', 'ERR_EVBUFFER_WRITE'],
    free: ['ERR_NOT_OWNER'],
    'Symbol.dispose': ['ERR_NOT_OWNER'],
  },
};

describe.each<State>(['owned', 'input view', 'output view'])('an EvBuffer (%s)', (state) => {
  it.each(Object.keys(members))('runs %s or throws one of its allowed codes', async (name) => {
    const subject = enter(state);
    const { value, after } = members[name]!(subject.buffer);
    expectWorksOrThrows(attempt(value), allowed[state]?.[name] ?? []);
    after?.();
    subject.cleanup();
    await turns(2);
  });
});

describe.each<State>(['view of a freed bufferevent', 'freed owned'])('an EvBuffer (%s)', (state) => {
  const stillUsable = new Set(['free', 'Symbol.dispose']);
  it.each(Object.keys(members).filter((name) => !stillUsable.has(name)))(
    'throws ERR_FREED from %s',
    (name) => {
      const subject = enter(state);
      const { value, after } = members[name]!(subject.buffer);
      expectThrowsCode(attempt(value), 'ERR_FREED');
      after?.();
      subject.cleanup();
    },
  );

  it('accepts free() and Symbol.dispose without throwing', () => {
    const subject = enter(state);
    subject.buffer.free();
    subject.buffer[Symbol.dispose]();
    subject.cleanup();
  });
});

describe('EvBuffer contents seen through the frozen sides', () => {
  it('copies the queued bytes out of a socket bufferevent output, or refuses with ERR_EVBUFFER_FROZEN', () => {
    // evbuffer_copyout fails on a start-frozen buffer; the bytes handed back must never be anything else.
    const subject = enter('output view');
    const outcome = attempt(() => subject.buffer.copyOut());
    expectWorksOrThrows(outcome, frozenStart);
    if (!outcome.threw) expect((outcome.value as Buffer).toString()).toBe('abc\nrest');
    const text = attempt(() => subject.buffer.toString());
    expectWorksOrThrows(text, frozenStart);
    if (!text.threw) expect(text.value).toBe('abc\nrest');
    subject.cleanup();
  });
});
