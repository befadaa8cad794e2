// A WebSocket keeps its listeners in a fast-mode table instead of EventEmitter's dictionary
// (src/websocket/listener-table.ts), made on its first listener: every EventEmitter behaviour must
// stay as it is, before and after the table exists, and the table must cost less than the
// dictionary did.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/websocket/index.ts';
import { settledHeapUsed } from '../leaks/gc.ts';

/** A socket that never connects: what a server creates before it attaches the connection. */
const unconnected = () => new WebSocket(null);

describe("a WebSocket's listener table", () => {
  it('behaves as EventEmitter: on, once, prepend, off, eventNames, listenerCount, emit', () => {
    const ws = unconnected();
    const calls: string[] = [];
    const first = () => calls.push('first');
    const second = () => calls.push('second');
    ws.on('message', first);
    ws.prependListener('message', second);
    ws.once('ping', () => calls.push('once'));
    expect(ws.eventNames()).toEqual(['message', 'ping']);
    expect(ws.listenerCount('message')).toBe(2);
    expect(ws.listeners('message')).toEqual([second, first]);

    expect(ws.emit('message')).toBe(true);
    expect(ws.emit('ping')).toBe(true);
    expect(ws.emit('ping')).toBe(false);
    expect(calls).toEqual(['second', 'first', 'once']);
    expect(ws.eventNames()).toEqual(['message']);

    ws.off('message', second);
    ws.off('message', first);
    expect(ws.eventNames()).toEqual([]);
    expect(ws.listenerCount('message')).toBe(0);
    expect(ws.emit('message')).toBe(false);
  });

  it('has no table before the first listener, and every way of adding one makes the fast table', () => {
    const tableOf = (ws: WebSocket) => (ws as unknown as { _events: object | undefined })._events;
    const adders: Record<string, (ws: WebSocket, listener: () => void) => void> = {
      on: (ws, listener) => ws.on('message', listener),
      addListener: (ws, listener) => ws.addListener('message', listener),
      once: (ws, listener) => ws.once('message', listener),
      prependListener: (ws, listener) => ws.prependListener('message', listener),
      prependOnceListener: (ws, listener) => ws.prependOnceListener('message', listener),
      addEventListener: (ws, listener) => ws.addEventListener('message', listener),
      onmessage: (ws, listener) => {
        ws.onmessage = listener;
      },
    };
    for (const [name, add] of Object.entries(adders)) {
      const ws = unconnected();
      // Everything EventEmitter offers works on a socket without a table.
      expect(tableOf(ws), name).toBeUndefined();
      expect(ws.eventNames()).toEqual([]);
      expect(ws.listenerCount('message')).toBe(0);
      expect(ws.listeners('message')).toEqual([]);
      expect(ws.emit('message', Buffer.from('x'), false)).toBe(false);
      ws.off('message', () => {});
      ws.removeAllListeners('message');
      ws.removeAllListeners();
      expect(tableOf(ws), name).toBeUndefined();

      let calls = 0;
      add(ws, () => calls++);
      const table = tableOf(ws);
      // The fast table (its prototype is an empty object), not EventEmitter's null-prototype one.
      expect(table !== undefined && Object.getPrototypeOf(table) !== null, name).toBe(true);
      expect(ws.listenerCount('message'), name).toBe(1);
      expect(ws.emit('message', Buffer.from('x'), false), name).toBe(true);
      expect(calls, name).toBe(1);
    }
  });

  it('is an EventEmitter in every way: instanceof, statics, max listeners and their warning', async () => {
    const ws = unconnected();
    expect(ws instanceof EventEmitter).toBe(true);
    expect(WebSocket.defaultMaxListeners).toBe(EventEmitter.defaultMaxListeners);
    expect(ws.getMaxListeners()).toBe(EventEmitter.defaultMaxListeners);
    ws.setMaxListeners(2);
    expect(ws.getMaxListeners()).toBe(2);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 3; i++) ws.on('message', () => {});
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual(['MaxListenersExceededWarning']);
  });

  it('keeps the captureRejections setting it was made under, as an EventEmitter does', () => {
    const previous = EventEmitter.captureRejections;
    // A listener's thenable: capturing means EventEmitter attaches a rejection handler to it.
    const capturedBy = (emitter: EventEmitter) => {
      let captured = false;
      emitter.on('custom', () => ({ then: () => (captured = true) }));
      emitter.emit('custom');
      return captured;
    };
    try {
      EventEmitter.captureRejections = false;
      const madeOff = [unconnected(), new EventEmitter()];
      EventEmitter.captureRejections = true;
      const madeOn = [unconnected(), new EventEmitter()];
      // Both settings flipped after the sockets were made: each keeps its own.
      expect(madeOff.map(capturedBy)).toEqual([false, false]);
      EventEmitter.captureRejections = false;
      expect(madeOn.map(capturedBy)).toEqual([true, true]);
    } finally {
      EventEmitter.captureRejections = previous;
    }
  });

  it('inherits no names: toString, constructor and __proto__ are not listeners', () => {
    const ws = unconnected();
    for (const name of ['toString', 'constructor', 'hasOwnProperty', '__proto__', 'valueOf']) {
      expect(ws.listenerCount(name)).toBe(0);
      expect(ws.emit(name)).toBe(false);
    }
    const calls: number[] = [];
    ws.on('toString', () => calls.push(1));
    expect(ws.emit('toString')).toBe(true);
    expect(calls).toEqual([1]);
    expect(ws.eventNames()).toEqual(['toString']);
  });

  it("reports 'newListener' and 'removeListener', and removeAllListeners empties it", () => {
    const ws = unconnected();
    const seen: string[] = [];
    ws.on('newListener', (name: string) => seen.push(`new ${name}`));
    ws.on('removeListener', (name: string) => seen.push(`removed ${name}`));
    const listener = () => {};
    ws.on('close', listener);
    ws.off('close', listener);
    expect(seen).toEqual(['new removeListener', 'new close', 'removed close']);
    ws.on('open', listener);
    ws.removeAllListeners();
    expect(ws.eventNames()).toEqual([]);
    ws.on('open', listener);
    expect(ws.listenerCount('open')).toBe(1);
  });

  it("an unhandled 'error' still throws, and a listener still catches it", () => {
    const ws = unconnected();
    expect(() => ws.emit('error', new Error('boom'))).toThrow('boom');
    const caught: unknown[] = [];
    ws.on('error', (error) => caught.push(error));
    ws.emit('error', new Error('caught'));
    expect(caught).toHaveLength(1);
  });

  it("costs less heap than EventEmitter's own table, with listeners on", async () => {
    const count = 5000;
    const listener = () => {};
    const measure = async (make: () => EventEmitter) => {
      const before = await settledHeapUsed();
      const kept = Array.from({ length: count }, () => {
        const emitter = make();
        emitter.on('message', listener);
        emitter.on('close', listener);
        return emitter;
      });
      const perObject = ((await settledHeapUsed()) - before) / count;
      expect(kept).toHaveLength(count);
      return perObject;
    };
    const dictionary = () => {
      const ws = unconnected();
      // What EventEmitter itself would have made.
      (ws as unknown as { _events: object })._events = { __proto__: null };
      return ws;
    };
    // Once each first, so that neither measurement carries one-time costs (code, feedback).
    await measure(dictionary);
    await measure(unconnected);
    const withDictionary = await measure(dictionary);
    const ours = await measure(unconnected);
    // Measured: the dictionary costs about 130 bytes more per socket.
    expect(ours).toBeLessThan(withDictionary - 80);
  });
});
