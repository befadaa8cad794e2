// The native boundary is type-safe: no object a caller can make reaches C++ as a wrapper it is not.
// Each case here was a SIGSEGV before the addon checked type tags and the native handles became
// package-internal; now each is a BuffereventError with code ERR_INVALID_ARG naming the parameter.
import { describe, expect, it } from 'vitest';
import * as publicApi from '../../src/index.ts';
import { closeSync } from 'node:fs';
import { Bufferevent, EvBuffer, RateLimitGroup, socketpair } from '../../src/index.ts';
import { EV } from '../../src/constants.ts';
import { native } from '../../src/native.ts';
import { buffereventHandles } from '../../src/native-handles.ts';
import { checkNothingLeaksAfterEach, errorCodeOf, socketPairBufferevents, waitFor } from '../helpers.ts';

checkNothingLeaksAfterEach({ fds: true });

function messageOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    return (error as Error).message;
  }
  return '(did not throw)';
}

describe('through the public API', () => {
  it('refuses new EvBuffer(argument), so bev.write(new EvBuffer({})) cannot forge a native buffer', () => {
    const [a, b] = socketPairBufferevents();
    expect(errorCodeOf(() => a.write(new (EvBuffer as new (x: unknown) => EvBuffer)({})))).toBe(
      'ERR_INVALID_ARG',
    );
    expect(messageOf(() => new (EvBuffer as new (x: unknown) => EvBuffer)({}))).toMatch(/takes no arguments/);
    expect(a.output.length).toBe(0);
    a.free();
    b.free();
  });

  it('refuses new EvBuffer(otherEvBuffer), so addBuffer cannot be handed a wrapper around a wrapper', () => {
    const source = new EvBuffer().add('kept');
    const target = new EvBuffer();
    expect(errorCodeOf(() => target.addBuffer(new (EvBuffer as new (x: unknown) => EvBuffer)(source)))).toBe(
      'ERR_INVALID_ARG',
    );
    expect(source.toString()).toBe('kept');
    expect(target.length).toBe(0);
    source.free();
    target.free();
  });

  it('refuses a look-alike with EvBuffer.prototype in write() and addBuffer()', () => {
    const forged = Object.create(EvBuffer.prototype) as EvBuffer;
    const [a, b] = socketPairBufferevents();
    const target = new EvBuffer();
    expect(errorCodeOf(() => a.write(forged))).toBe('ERR_INVALID_ARG');
    expect(messageOf(() => a.write(forged))).toBe('data must be an EvBuffer');
    expect(errorCodeOf(() => target.addBuffer(forged))).toBe('ERR_INVALID_ARG');
    expect(messageOf(() => target.addBuffer(forged))).toBe('source must be an EvBuffer');
    a.free();
    b.free();
    target.free();
  });

  it('refuses an object with a fake unwrapNative() in RateLimitGroup.add and remove', () => {
    const group = new RateLimitGroup({ readRate: 1_000_000 });
    const fake = { unwrapNative: () => ({}) } as unknown as Bufferevent;
    expect(errorCodeOf(() => group.add(fake))).toBe('ERR_INVALID_ARG');
    expect(messageOf(() => group.add(fake))).toBe('bev must be a Bufferevent');
    expect(errorCodeOf(() => group.remove(fake))).toBe('ERR_INVALID_ARG');
    expect(errorCodeOf(() => group.add(Object.create(Bufferevent.prototype) as Bufferevent))).toBe(
      'ERR_INVALID_ARG',
    );
    expect(group.totals.members).toBe(0);
    group.free();
  });

  it('refuses a look-alike underlying in Bufferevent.filter', () => {
    const forged = Object.create(Bufferevent.prototype) as Bufferevent;
    expect(errorCodeOf(() => Bufferevent.filter(forged, {}))).toBe('ERR_INVALID_ARG');
    expect(messageOf(() => Bufferevent.filter(forged, {}))).toBe('underlying must be a Bufferevent');
  });

  it('hands out no native handle: no unwrapNative, no EvBuffer.unwrap, no registry in the exports', () => {
    const [a, b] = socketPairBufferevents();
    expect('unwrapNative' in a).toBe(false);
    expect('unwrap' in EvBuffer).toBe(false);
    const names = Object.getOwnPropertyNames(Bufferevent.prototype).concat(
      Object.getOwnPropertyNames(EvBuffer.prototype),
      Object.getOwnPropertyNames(Bufferevent),
      Object.getOwnPropertyNames(EvBuffer),
      Object.keys(publicApi),
    );
    expect(names.filter((name) => /native|unwrap|handle/i.test(name))).toEqual([]);
    a.free();
    b.free();
  });
});

// The addon itself is internal, but it must not trust its callers either: each native method that
// takes a wrapper checks the object's type tag, so even a wrapper of another class is refused.
describe('inside the addon (type tags)', () => {
  it('refuses plain objects and wrappers of another class where an EvBuffer is expected', () => {
    const target = new native.EvBuffer();
    const group = new native.RateLimitGroup({}, { tickMs: 100 });
    for (const wrong of [{}, [], Object.create(null), group, () => 0]) {
      expect(errorCodeOf(() => target.addBuffer(wrong as never))).toBe('ERR_INVALID_ARG');
    }
    expect(messageOf(() => target.addBuffer({} as never))).toMatch(/source must be an EvBuffer/);
    group.free();
    target.free();
  });

  it('refuses plain objects and wrappers of another class where a Bufferevent is expected', () => {
    const evbuffer = new native.EvBuffer();
    const group = new native.RateLimitGroup({}, { tickMs: 100 });
    const [a, b] = socketPairBufferevents();
    for (const wrong of [{}, evbuffer, group]) {
      expect(errorCodeOf(() => group.add(wrong as never))).toBe('ERR_INVALID_ARG');
      expect(
        errorCodeOf(
          () => new native.Bufferevent({}, 'filter', { underlying: wrong, closeOnFree: false } as never),
        ),
      ).toBe('ERR_INVALID_ARG');
      expect(
        errorCodeOf(() =>
          native.WebSocketConnection.open(
            wrong as never,
            { client: false, maxPayload: 1024, maxFragments: 0 },
            {},
          ),
        ),
      ).toBe('ERR_INVALID_ARG');
    }
    expect(messageOf(() => group.add({} as never))).toMatch(/bufferevent must be a Bufferevent/);
    a.free();
    b.free();
    group.free();
    evbuffer.free();
  });

  it('refuses a wrong object where a bufferevent writes an evbuffer', () => {
    const [a, b] = socketPairBufferevents();
    const group = new native.RateLimitGroup({}, { tickMs: 100 });
    // The public write() never passes these; the native method is checked all the same.
    const nativeWrite = (
      native.Bufferevent.prototype as unknown as { writeBuffer(this: unknown, x: unknown): void }
    ).writeBuffer;
    const nativeOfA = new native.Bufferevent({}, 'pair', {});
    expect(errorCodeOf(() => nativeWrite.call(nativeOfA, group))).toBe('ERR_INVALID_ARG');
    expect(errorCodeOf(() => nativeWrite.call(nativeOfA, {}))).toBe('ERR_INVALID_ARG');
    nativeOfA.free();
    group.free();
    a.free();
    b.free();
  });
});

describe('a socket made through the native class directly', () => {
  it('takes any maxReadPerWakeup: beyond 64 MiB clamped, NaN and negatives as none', () => {
    for (const maxReadPerWakeup of [
      2 ** 40,
      Number.MAX_VALUE,
      Infinity,
      -5,
      Number.NaN,
      0.5,
      64 * 1024 * 1024,
    ]) {
      const [mine, theirs] = socketpair();
      const bev = new native.Bufferevent({}, 'socket', {
        fd: mine,
        closeOnFree: true,
        maxReadPerWakeup,
        writeThrough: true,
      } as never);
      bev.enable(EV.READ | EV.WRITE);
      bev.free();
      closeSync(theirs);
    }
  });
});

describe('a WebSocket connection known by its id', () => {
  const connections = native.WebSocketConnection;
  const OPTIONS = { client: false, maxPayload: 1024, maxFragments: 0 };

  async function openOnPair() {
    const [a, b] = socketPairBufferevents();
    const received: Buffer[] = [];
    b.setCallbacks({ read: (bev) => received.push(bev.input.remove()) });
    b.enable(EV.READ);
    const id = connections.open(buffereventHandles.of(a, 'bufferevent'), OPTIONS, {});
    return { id, peer: b, received };
  }

  it('works by its id, and refuses ids that name no open connection without touching another', async () => {
    const { id, peer, received } = await openOnPair();
    const other = await openOnPair();
    const text = Buffer.from('hi');
    expect(connections.send(id, text, 0x81, -1)).toBeGreaterThanOrEqual(0);
    await waitFor(() => Buffer.concat(received).length === 4, 5_000, 'the frame');
    expect(Buffer.concat(received)).toEqual(Buffer.from([0x81, 0x02, 0x68, 0x69]));
    // Not numbers: ERR_INVALID_ARG. Numbers that name no open connection (0, negative, NaN, beyond
    // the table, another slot's generation, fractions of a real id): ERR_FREED.
    for (const wrong of [undefined, null, {}, 'x', 10n, () => 0]) {
      expect(errorCodeOf(() => connections.send(wrong as never, text, 0x81, -1))).toBe('ERR_INVALID_ARG');
      expect(errorCodeOf(() => connections.bufferedAmount(wrong as never))).toBe('ERR_INVALID_ARG');
      expect(errorCodeOf(() => connections.close(wrong as never))).toBe('ERR_INVALID_ARG');
    }
    const generationStep = 2 ** 23;
    for (const wrong of [
      0,
      -1,
      -id,
      NaN,
      Infinity,
      -Infinity,
      2 ** 31,
      2 ** 53,
      id + generationStep,
      id ^ 1,
      id + 0.5,
      id - 0.25,
    ]) {
      if (wrong === other.id) continue;
      expect(errorCodeOf(() => connections.send(wrong, text, 0x81, -1))).toBe('ERR_FREED');
      expect(errorCodeOf(() => connections.pause(wrong))).toBe('ERR_FREED');
      expect(errorCodeOf(() => connections.subscribe(wrong, 0, 't', 0))).toBe('ERR_FREED');
      expect(errorCodeOf(() => connections.close(wrong))).toBe('ERR_FREED');
    }
    for (const [data, frame, limit] of [
      ['hi', 0x81, -1],
      [text, 'x', -1],
      [text, 0x81, undefined],
    ]) {
      expect(errorCodeOf(() => connections.send(id, data as never, frame as never, limit as never))).toBe(
        'ERR_INVALID_ARG',
      );
    }
    // Over the limit: nothing is queued.
    expect(connections.send(id, Buffer.alloc(10), 0x82, 5)).toBe(-1);
    // A bufferevent can be taken over once: its native object is no longer a Bufferevent's.
    const [c, d] = socketPairBufferevents();
    const handle = buffereventHandles.of(c, 'bufferevent');
    const taken = connections.open(handle, OPTIONS, {});
    expect(errorCodeOf(() => connections.open(handle, OPTIONS, {}))).toBe('ERR_INVALID_ARG');
    expect(messageOf(() => connections.open(handle, OPTIONS, {}))).toMatch(/taken over/);
    connections.close(taken);
    d.free();
    connections.close(id);
    // Closed: its id finds nothing, not even for a second close.
    expect(errorCodeOf(() => connections.send(id, text, 0x81, -1))).toBe('ERR_FREED');
    expect(errorCodeOf(() => connections.bufferedAmount(id))).toBe('ERR_FREED');
    expect(errorCodeOf(() => connections.close(id))).toBe('ERR_FREED');
    // The other connection was never touched by any of it.
    expect(connections.bufferedAmount(other.id)).toBe(0);
    expect(other.received).toEqual([]);
    // A new connection reuses the slot under a new id: the old one still finds nothing.
    const again = await openOnPair();
    expect(again.id).not.toBe(id);
    expect(errorCodeOf(() => connections.send(id, text, 0x81, -1))).toBe('ERR_FREED');
    expect(connections.send(again.id, text, 0x81, -1)).toBeGreaterThanOrEqual(0);
    await waitFor(() => Buffer.concat(again.received).length === 4, 5_000, 'the new connection');
    expect(Buffer.concat(received).length).toBe(4);
    for (const { id: open, peer: end } of [other, again]) {
      connections.close(open);
      end.free();
    }
    peer.free();
  });
});

describe('the memory requests after a burst (src/websocket/burst-memory.ts)', () => {
  it('take no arguments and ignore whatever they are given, however often they are called', async () => {
    const hostile = [undefined, null, -1, 2 ** 53, Number.NaN, 'x'.repeat(1000), {}, Symbol('s'), () => 1];
    for (let i = 0; i < 50; i++) {
      expect(native.reduceMemory(...(hostile as []))).toBeUndefined();
      expect(native.releaseFreeMemory(...(hostile as []))).toBeUndefined();
    }
    // The loop, libevent's allocator and a socket work on after them.
    const [a, b] = socketPairBufferevents();
    try {
      const got = new Promise<string>((resolve) =>
        b.setCallbacks({ read: () => resolve(b.read().toString()) }),
      );
      b.enable(EV.READ);
      a.write('after');
      expect(await got).toBe('after');
      expect(native.baseStats().cachedChainBytes).toBeGreaterThanOrEqual(0);
    } finally {
      a.free();
      b.free();
    }
  });
});
