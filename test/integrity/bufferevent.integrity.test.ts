// Integrity matrix: every public member of Bufferevent in every state either works or throws a listed code.
import { closeSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bufferevent, BuffereventError, Listener, socketpair, type SocketOptions } from '../../src/index.ts';
import { BEV, EV, liveCounts, turns, waitFor } from '../helpers.ts';
import { attempt, cleanupOnce, expectThrowsCode, expectWorksOrThrows } from './outcome.ts';

type State = 'new' | 'connecting' | 'connected' | 'eof' | 'freed';
interface Subject {
  bev: Bufferevent;
  cleanup(): void;
}

let listener: Listener;
let port: number;
const acceptedFds: number[] = [];

beforeAll(() => {
  listener = Listener.listen({ host: '127.0.0.1', port: 0 }, (fd) => acceptedFds.push(fd));
  port = listener.address.port;
});

afterAll(async () => {
  listener.close();
  for (const fd of acceptedFds.splice(0)) closeSync(fd);
  await turns(3);
  expect(liveCounts()).toEqual({ bufferevents: 0, listeners: 0, events: 0, evbuffers: 0 });
});

function onPair(options: SocketOptions = {}): { bev: Bufferevent; peer: number } {
  const [a, b] = socketpair();
  return { bev: Bufferevent.socket({ ...options, fd: a }), peer: b };
}

async function enter(state: State, options: SocketOptions = {}): Promise<Subject> {
  if (state === 'new') {
    const bev = Bufferevent.socket(options);
    return { bev, cleanup: cleanupOnce(() => bev.free()) };
  }
  if (state === 'connecting') {
    // No loop turn passes between connect() and the call under test, so the connect is still in flight.
    const bev = Bufferevent.socket(options).connect({ host: '127.0.0.1', port });
    return { bev, cleanup: cleanupOnce(() => bev.free()) };
  }
  const { bev, peer } = onPair(options);
  if (state === 'eof') {
    const events: number[] = [];
    bev.setCallbacks({ event: (_bev, what) => events.push(what) });
    closeSync(peer);
    bev.enable(EV.READ);
    await waitFor(() => events.length > 0, 10_000, 'EOF');
    expect(events).toEqual([BEV.EOF | BEV.READING]);
    expect(bev.enabled).toBe(EV.WRITE); // libevent disables reading when it reports EOF
    return { bev, cleanup: cleanupOnce(() => bev.free()) };
  }
  if (state === 'freed') bev.free();
  return { bev, cleanup: cleanupOnce(() => (bev.free(), closeSync(peer))) };
}

const noop = (): void => {};

// Each member called with valid arguments.
const members: Record<string, (bev: Bufferevent) => unknown> = {
  setCallbacks: (bev) => bev.setCallbacks({ read: noop, write: noop, event: noop }),
  enable: (bev) => bev.enable(EV.READ | EV.WRITE),
  disable: (bev) => bev.disable(EV.READ),
  enabled: (bev) => bev.enabled,
  setWatermark: (bev) => bev.setWatermark(EV.READ, 0, 1024),
  getWatermark: (bev) => bev.getWatermark(EV.WRITE),
  setTimeouts: (bev) => bev.setTimeouts({ read: 5000, write: 5000 }),
  timeouts: (bev) => bev.timeouts,
  input: (bev) => bev.input,
  output: (bev) => bev.output,
  write: (bev) => bev.write('x'),
  read: (bev) => bev.read(),
  flush: (bev) => bev.flush(EV.WRITE, BEV.NORMAL),
  'priority (get)': (bev) => bev.priority,
  'priority (set)': (bev) => (bev.priority = 0),
  fd: (bev) => bev.fd,
  trigger: (bev) => bev.trigger(EV.READ | EV.WRITE),
  triggerEvent: (bev) => bev.triggerEvent(BEV.READING | BEV.TIMEOUT),
  connect: (bev) => bev.connect({ host: '127.0.0.1', port }),
  connectHostname: (bev) => bev.connectHostname('localhost', port),
  shutdownWrite: (bev) => bev.shutdownWrite(),
  toStream: (bev) => bev.toStream().on('error', noop), // errors are reported, not thrown
  free: (bev) => bev.free(),
  'Symbol.dispose': (bev) => bev[Symbol.dispose](),
  freed: (bev) => bev.freed,
  kind: (bev) => bev.kind,
};

// Codes a member may throw in a state (absent: it must work). A socket that already has a connected or
// connecting fd refuses a second connect (EISCONN, EALREADY, EAFNOSUPPORT on a Unix socket...).
const allowed: Partial<Record<State, Partial<Record<string, string[]>>>> = {
  new: { shutdownWrite: ['ERR_NOT_CONNECTED'] },
  connecting: { connect: ['ERR_CONNECT'] },
  connected: { connect: ['ERR_CONNECT'] },
  eof: { connect: ['ERR_CONNECT'] },
};

const stillUsableAfterFree = new Set(['free', 'Symbol.dispose', 'freed', 'kind']);
const states: State[] = ['new', 'connecting', 'connected', 'eof'];
// The opt-in fast paths (larger reads, write-through) and undeferred callbacks take other native code
// paths: run the matrix on each.
const variants: Array<{ name: string; options: SocketOptions }> = [
  { name: 'default options', options: {} },
  { name: 'writeThrough and maxReadPerWakeup', options: { writeThrough: true, maxReadPerWakeup: 65536 } },
  { name: 'deferCallbacks false', options: { deferCallbacks: false } },
];
const cases = variants.flatMap((variant) => states.map((state) => ({ state, ...variant })));

describe.each(cases)('a Bufferevent in the $state state ($name)', ({ state, options }) => {
  it.each(Object.keys(members))(
    'runs %s or throws one of its allowed codes, and survives the loop',
    async (name) => {
      const subject = await enter(state, options);
      const outcome = attempt(() => members[name]!(subject.bev));
      expectWorksOrThrows(outcome, allowed[state]?.[name] ?? []);
      await turns(3); // whatever the call started runs while the bufferevent is alive...
      subject.cleanup();
      await turns(3); // ...and whatever is still queued finds the wrapper dead
    },
  );
});

describe('a freed Bufferevent', () => {
  it.each(Object.keys(members).filter((name) => !stillUsableAfterFree.has(name)))(
    'throws ERR_FREED from %s',
    async (name) => {
      const subject = await enter('freed');
      expectThrowsCode(
        attempt(() => members[name]!(subject.bev)),
        'ERR_FREED',
      );
      subject.cleanup();
    },
  );

  it('still answers freed and kind', async () => {
    const subject = await enter('freed');
    expect(subject.bev.freed).toBe(true);
    expect(subject.bev.kind).toBe('socket');
    subject.cleanup();
  });

  it('accepts free() and Symbol.dispose again without throwing', async () => {
    const before = liveCounts();
    const { bev, peer } = onPair();
    bev.free();
    bev.free();
    bev[Symbol.dispose]();
    expect(bev.freed).toBe(true);
    closeSync(peer);
    await turns(2);
    expect(liveCounts()).toEqual(before);
  });

  it('reports ERR_FREED as a BuffereventError whose message says the bufferevent was freed', async () => {
    const subject = await enter('freed');
    const outcome = attempt(() => subject.bev.write('late'));
    expectThrowsCode(outcome, 'ERR_FREED');
    expect(outcome.threw && (outcome.error as BuffereventError).message).toMatch(/freed/);
    subject.cleanup();
  });
});
