// Shared test utilities: connected bufferevents over real loopback sockets, waiting on events, and
// the counts (open fds, live objects) that leak tests compare.
import { readdirSync } from 'node:fs';
import { afterEach, beforeEach, expect } from 'vitest';
import { Bufferevent, BEV, EV, EventBase, Listener, socketpair } from '../src/index.ts';

/** Resolves after one full turn of Node's loop, so libevent has run at least one pass. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Resolves after `turns` loop turns (libevent's deferred frees need one pass each). */
export async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await nextTurn();
}

/** Polls `predicate` once per loop turn (and every 5 ms) until it holds, failing after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

export function liveCounts(): { bufferevents: number; listeners: number; events: number; evbuffers: number } {
  const stats = EventBase.default().stats();
  return {
    bufferevents: stats.liveBufferevents,
    listeners: stats.liveListeners,
    events: stats.liveEvents,
    evbuffers: stats.liveEvBuffers,
  };
}

/** Two socket bufferevents on the ends of a Unix socket pair (closeOnFree), not yet enabled. */
export function socketPairBufferevents(): [Bufferevent, Bufferevent] {
  const [a, b] = socketpair();
  return [Bufferevent.socket({ fd: a }), Bufferevent.socket({ fd: b })];
}

/**
 * A TCP connection over 127.0.0.1: `client` was connected with connect(), `server` wraps the accepted
 * fd. The listener is closed before this resolves.
 */
export async function tcpPair(): Promise<{ client: Bufferevent; server: Bufferevent; port: number }> {
  let accepted: number | undefined;
  const listener = Listener.listen({ host: '127.0.0.1', port: 0 }, (fd) => {
    accepted = fd;
  });
  const port = listener.address.port;
  const client = Bufferevent.socket();
  let connected = false;
  let failure: Error | undefined;
  client.setCallbacks({
    event(_bev, events, error) {
      if (events & BEV.CONNECTED) connected = true;
      else failure = error ?? new Error(`unexpected events ${events}`);
    },
  });
  client.connect({ host: '127.0.0.1', port });
  await waitFor(
    () => (connected && accepted !== undefined) || failure !== undefined,
    10_000,
    'TCP connection',
  );
  listener.close();
  if (failure) throw failure;
  client.setCallbacks({});
  return { client, server: Bufferevent.socket({ fd: accepted! }), port };
}

/**
 * Registers hooks that record the live object counts (and, with `fds`, the open fd count) before each
 * test and assert after it, once libevent's deferred frees have run, that they are back where they were.
 */
export function checkNothingLeaksAfterEach({ fds = false }: { fds?: boolean } = {}): void {
  let counts: ReturnType<typeof liveCounts>;
  let fdsBefore = 0;
  beforeEach(() => {
    counts = liveCounts();
    if (fds) fdsBefore = openFdCount();
  });
  afterEach(async () => {
    await turns(3);
    expect(liveCounts()).toEqual(counts);
    if (fds) expect(openFdCount()).toBe(fdsBefore);
  });
}

export { errorCodeOf, thrownError } from './error-assertions.ts';

export { BEV, EV };
