/* eslint-disable @typescript-eslint/no-explicit-any -- the bodies are ws users' untyped code, run against two implementations */
// The browser-style API ws offers (onopen/onmessage/onerror/onclose, addEventListener with Event
// objects, binaryType), the state constants and the enumerable attributes: the same bodies against
// our WebSocket and against ws, so each expectation is ws's documented behaviour.
import { describe, expect, it } from 'vitest';
import { implementations, listeningServer, next, shutDown } from './implementations.ts';

describe.each(implementations)('browser-style API of $name', (impl) => {
  const { WebSocket } = impl;

  /** A server that sends a text 'hi' and a binary [1, 2, 3] to each client, then closes 4000 'bye'. */
  async function scriptedServer() {
    const { wss, port } = await listeningServer(impl);
    wss.on('connection', (ws: any) => {
      ws.send('hi');
      ws.send(Buffer.from([1, 2, 3]));
      ws.close(4000, 'bye');
    });
    return { wss, port };
  }

  it('delivers open, message (text as a string, binary as binaryType says), close events in order', async () => {
    const { wss, port } = await scriptedServer();
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    ws.binaryType = 'arraybuffer';
    const log: unknown[] = [];
    ws.onopen = (event: any) => log.push(['open', event.type, event.target === ws]);
    ws.onmessage = (event: any) =>
      log.push([
        'message',
        event.type,
        typeof event.data === 'string' ? event.data : [...new Uint8Array(event.data as ArrayBuffer)],
        event.target === ws,
      ]);
    ws.addEventListener('close', (event: any) =>
      log.push(['close', event.type, event.code, event.reason, event.wasClean, event.target === ws]),
    );
    await next(ws, 'close');
    expect(log).toEqual([
      ['open', 'open', true],
      ['message', 'message', 'hi', true],
      ['message', 'message', [1, 2, 3], true],
      ['close', 'close', 4000, 'bye', true, true],
    ]);
    await shutDown(wss);
  });

  it("applies binaryType to binary messages only: text stays a Buffer for 'message'", async () => {
    for (const [type, check] of [
      ['nodebuffer', (data: unknown) => Buffer.isBuffer(data)],
      ['arraybuffer', (data: unknown) => data instanceof ArrayBuffer],
      [
        'fragments',
        (data: unknown) => Array.isArray(data) && Buffer.concat(data).equals(Buffer.from([1, 2, 3])),
      ],
    ] as const) {
      const { wss, port } = await scriptedServer();
      const ws = new WebSocket(`ws://127.0.0.1:${port}`);
      ws.binaryType = type;
      const got: Array<[unknown, boolean]> = [];
      ws.on('message', (data: unknown, isBinary: boolean) => got.push([data, isBinary]));
      await next(ws, 'close');
      expect(got).toHaveLength(2);
      expect(Buffer.isBuffer(got[0]![0])).toBe(true);
      expect(String(got[0]![0])).toBe('hi');
      expect(got[0]![1]).toBe(false);
      expect(check(got[1]![0])).toBe(true);
      expect(got[1]![1]).toBe(true);
      await shutDown(wss);
    }
  });

  it('ignores an unknown binaryType (keeps the previous one)', () => {
    const ws = new WebSocket('ws://127.0.0.1:9');
    ws.on('error', () => {});
    ws.binaryType = 'arraybuffer';
    ws.binaryType = 'bogus';
    expect(ws.binaryType).toBe('arraybuffer');
    ws.terminate();
  });

  it('honours { once: true }, adds a handler once per type, and removeEventListener removes it', async () => {
    const { wss, port } = await listeningServer(impl);
    // '2' and '3' only once the client has changed its listeners and says 'go'.
    wss.on('connection', (ws: any) => {
      ws.send('1');
      ws.on('message', () => {
        ws.send('2');
        ws.send('3');
      });
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const calls: string[] = [];
    const always = (event: any) => calls.push(`always ${event.data}`);
    const removed = (event: any) => calls.push(`removed ${event.data}`);
    ws.addEventListener('message', (event: any) => calls.push(`once ${event.data}`), { once: true });
    ws.addEventListener('message', always);
    ws.addEventListener('message', always); // the same handler again: still one listener
    ws.addEventListener('message', removed);
    ws.addEventListener('message', { handleEvent: (event: any) => calls.push(`object ${event.data}`) });
    ws.onmessage = always; // the attribute is a separate slot
    ws.addEventListener('nonsense', always); // other types are ignored, as in ws
    expect(ws.listenerCount('nonsense')).toBe(0);
    expect(ws.listenerCount('message')).toBe(5);
    await new Promise<void>((resolve) => ws.addEventListener('message', () => resolve(), { once: true }));
    ws.removeEventListener('message', removed);
    ws.removeEventListener('message', always); // removes the listener, never the attribute
    expect(ws.onmessage).toBe(always);
    const twoMore = new Promise<void>((resolve) => {
      let seen = 0;
      ws.on('message', () => ++seen === 2 && resolve());
    });
    ws.send('go');
    await twoMore;
    expect(calls).toEqual([
      'once 1',
      'always 1',
      'removed 1',
      'object 1',
      'always 1',
      'object 2',
      'always 2',
      'object 3',
      'always 3',
    ]);
    ws.onmessage = null;
    expect(ws.onmessage).toBe(null);
    ws.close();
    await next(ws, 'close');
    await shutDown(wss);
  });

  it('reports a failed connection through onerror (ErrorEvent) and onclose (CloseEvent 1006, not clean)', async () => {
    const { wss, port } = await listeningServer(impl);
    await shutDown(wss);
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const log: unknown[] = [];
    ws.onerror = (event: any) =>
      log.push(['error', event.type, event.error instanceof Error, event.message === event.error.message]);
    ws.onclose = (event: any) => log.push(['close', event.code, event.reason, event.wasClean]);
    await next(ws, 'close');
    expect(log).toEqual([
      ['error', 'error', true, true],
      ['close', 1006, '', false],
    ]);
  });

  it('has read-only, enumerable state constants on the class and the prototype, not on instances', () => {
    for (const [name, value] of [
      ['CONNECTING', 0],
      ['OPEN', 1],
      ['CLOSING', 2],
      ['CLOSED', 3],
    ] as const) {
      const descriptor = { value, writable: false, enumerable: true, configurable: false };
      expect(Object.getOwnPropertyDescriptor(WebSocket, name)).toEqual(descriptor);
      expect(Object.getOwnPropertyDescriptor(WebSocket.prototype, name)).toEqual(descriptor);
    }
    const ws = new WebSocket('ws://127.0.0.1:9');
    ws.on('error', () => {});
    expect(Object.keys(ws)).not.toContain('OPEN');
    expect(ws.OPEN).toBe(1);
    expect(() => {
      'use strict';
      ws.OPEN = 5;
    }).toThrow(TypeError);
    ws.terminate();
  });

  it('has enumerable attribute accessors on the prototype', () => {
    for (const name of [
      'binaryType',
      'bufferedAmount',
      'extensions',
      'isPaused',
      'protocol',
      'readyState',
      'url',
      'onopen',
      'onmessage',
      'onerror',
      'onclose',
    ]) {
      const descriptor = Object.getOwnPropertyDescriptor(WebSocket.prototype, name);
      expect(descriptor?.enumerable, name).toBe(true);
      expect(typeof descriptor?.get, name).toBe('function');
    }
  });

  it('offers WebSocket.Server (= WebSocketServer) and WebSocket.WebSocket', () => {
    expect(WebSocket.Server).toBe(impl.WebSocketServer);
    expect(WebSocket.WebSocketServer).toBe(impl.WebSocketServer);
    expect(WebSocket.WebSocket).toBe(WebSocket);
    expect(WebSocket.createWebSocketStream).toBe(impl.createWebSocketStream);
  });
});
