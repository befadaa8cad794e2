// Integrity matrix: every public member of Listener while open, disabled and closed.
import { afterAll, describe, expect, it } from 'vitest';
import { Listener } from '../../src/index.ts';
import { liveCounts, turns } from '../helpers.ts';
import { attempt, expectThrowsCode, expectWorksOrThrows } from './outcome.ts';

type State = 'open' | 'disabled' | 'closed';

function enter(state: State): Listener {
  const listener = Listener.listen({ host: '127.0.0.1', port: 0 }, () => {
    throw new Error('no connection is made in this test');
  });
  if (state === 'disabled') listener.disable();
  if (state === 'closed') listener.close();
  return listener;
}

const members: Record<string, (listener: Listener) => unknown> = {
  address: (listener) => listener.address,
  fd: (listener) => listener.fd,
  closed: (listener) => listener.closed,
  enable: (listener) => listener.enable(),
  disable: (listener) => listener.disable(),
  close: (listener) => listener.close(),
  'Symbol.dispose': (listener) => listener[Symbol.dispose](),
};

afterAll(async () => {
  await turns(3);
  expect(liveCounts()).toEqual({ bufferevents: 0, listeners: 0, events: 0, evbuffers: 0 });
});

describe.each<State>(['open', 'disabled'])('a Listener (%s)', (state) => {
  it.each(Object.keys(members))('runs %s without throwing', async (name) => {
    const listener = enter(state);
    expectWorksOrThrows(
      attempt(() => members[name]!(listener)),
      [],
    );
    listener.close();
    await turns(2);
  });

  it('reports its bound address, an fd and closed === false', () => {
    const listener = enter(state);
    expect(listener.address).toEqual({ address: '127.0.0.1', port: expect.any(Number), family: 'IPv4' });
    expect(listener.address.port).toBeGreaterThan(0);
    expect(listener.fd).toBeGreaterThanOrEqual(0);
    expect(listener.closed).toBe(false);
    listener.close();
  });
});

describe('a closed Listener', () => {
  it.each(['address', 'fd', 'enable', 'disable'])('throws ERR_FREED from %s', (name) => {
    const listener = enter('closed');
    expectThrowsCode(
      attempt(() => members[name]!(listener)),
      'ERR_FREED',
    );
  });

  it('answers closed === true and accepts close() and Symbol.dispose again', async () => {
    const before = liveCounts();
    const listener = enter('open');
    listener.close();
    listener.close();
    listener[Symbol.dispose]();
    expect(listener.closed).toBe(true);
    await turns(2);
    expect(liveCounts()).toEqual({ ...before });
  });
});
