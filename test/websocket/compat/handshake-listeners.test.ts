// The client handshake's state machine against the user's listeners: exceptions thrown by them
// reach the process and the handshake still finishes (child processes: an uncaught exception is
// the expected outcome there); terminate()/close() inside 'error' and 'upgrade'; readyState during
// 'upgrade'. The in-process bodies run against ours and ws.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runChild } from '../../loop/child.ts';
import { implementations, listeningServer, next, shutDown } from './implementations.ts';

async function runScenario(event: string) {
  const result = await runChild('../../websocket/compat/fixtures/listener-throws.mjs', [event], 20_000);
  expect(result.timedOut).toBe(false);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout.trim()) as { events: string[]; uncaught: string[]; readyState: number };
}

describe('an exception thrown by a handshake listener propagates, and the handshake finishes', () => {
  it("'upgrade' throws: the exception reaches the process once, 'open' and 'close' still come", async () => {
    const outcome = await runScenario('upgrade');
    expect(outcome.uncaught).toEqual(['boom in upgrade']);
    expect(outcome.events).toEqual(['upgrade 0', 'open 1', 'close 3']);
    expect(outcome.readyState).toBe(3);
  });

  it("'open' throws: reported once, and the socket closes normally ('close' with CLOSED)", async () => {
    const outcome = await runScenario('open');
    expect(outcome.uncaught).toEqual(['boom in open']);
    expect(outcome.events).toEqual(['upgrade 0', 'open 1', 'close 3']);
  });

  it("'unexpected-response' throws: reported once, then 'close'", async () => {
    const outcome = await runScenario('unexpected-response');
    expect(outcome.uncaught).toEqual(['boom in unexpected-response']);
    expect(outcome.events).toEqual(['unexpected-response 0', 'close 3']);
  });

  it("'error' throws: reported once, then 'close' (readyState CLOSED, not stuck at CLOSING)", async () => {
    const outcome = await runScenario('error');
    expect(outcome.uncaught).toEqual(['boom in error']);
    expect(outcome.events).toEqual(['error 2', 'close 3']);
    expect(outcome.readyState).toBe(3);
  });

  it("'close' throws: reported once, readyState CLOSED", async () => {
    const outcome = await runScenario('close');
    expect(outcome.uncaught).toEqual(['boom in close']);
    expect(outcome.events).toEqual(['upgrade 0', 'open 1', 'close 3']);
    expect(outcome.readyState).toBe(3);
  });
});

describe.each(implementations)('handshake state seen from listeners, $name', (impl) => {
  const { WebSocket } = impl;

  it("is CONNECTING during 'upgrade'; close() there aborts: error, close 1006, no 'open'", async () => {
    const { wss, port } = await listeningServer(impl);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const events: string[] = [];
    ws.on('upgrade', () => {
      events.push(`upgrade ${ws.readyState}`);
      ws.close();
    });
    ws.on('open', () => events.push('open'));
    ws.on('error', () => events.push('error'));
    ws.on('close', (code: number) => events.push(`close ${code}`));
    await next(ws, 'close');
    expect(events).toEqual(['upgrade 0', 'error', 'close 1006']);
    await shutDown(wss);
  });

  it("emits 'close' once when terminate() or close() is called in the 'error' listener of a failed handshake", async () => {
    const server = createServer();
    server.on('upgrade', (_request, socket) => socket.end('HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    for (const method of ['terminate', 'close'] as const) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
      const events: string[] = [];
      ws.on('error', () => {
        events.push(`error ${ws.readyState}`);
        ws[method]();
      });
      ws.on('close', (code: number) => events.push(`close ${code}`));
      await next(ws, 'close');
      // Another turn or two: a second 'close' would come on the next tick.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(events).toEqual(['error 2', 'close 1006']);
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
