/* eslint-disable @typescript-eslint/no-explicit-any -- the bodies are ws users' untyped code, run against two implementations */
// Errors as ws users handle them, the same bodies against ours and ws: Node's system errors for a
// failed connect (code, negative errno, syscall, address), the 'unexpected-response' path, the
// classes of argument errors (TypeError, RangeError, SyntaxError), send callbacks' null, and the
// server's 'error' for a busy port. Our errors also carry a WS_ERR_* code (checked separately).
import { lookup } from 'node:dns/promises';
import { createServer, request as httpRequest } from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers.ts';
import {
  bufferevent,
  implementations,
  listeningServer,
  next,
  shutDown,
  systemErrorFields,
} from './implementations.ts';

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function thrown(action: () => unknown): Error & { code?: string } {
  try {
    action();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('did not throw');
}

describe.each(implementations)('errors of $name as ws users handle them', (impl) => {
  const { WebSocket, WebSocketServer } = impl;

  it("reports a refused connect as Node does: ECONNREFUSED, errno, syscall, address, port; then 'close' 1006", async () => {
    const port = await closedPort();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const events: unknown[] = [];
    ws.on('error', (error: any) => events.push(systemErrorFields(error)));
    ws.on('close', (code: number) => events.push(code));
    await next(ws, 'close');
    expect(events).toEqual([
      {
        code: 'ECONNREFUSED',
        errno: -111,
        syscall: 'connect',
        address: '127.0.0.1',
        port,
        message: `connect ECONNREFUSED 127.0.0.1:${port}`,
      },
      1006,
    ]);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });

  it('reports a name that does not resolve with the resolver error Node gives for it', async () => {
    const expected = (await lookup('nonexistent.invalid').catch(
      (error: unknown) => error,
    )) as NodeJS.ErrnoException;
    expect(expected).toBeInstanceOf(Error);
    const ws = new WebSocket('ws://nonexistent.invalid:9/', { handshakeTimeout: 5000 });
    const errors: any[] = [];
    ws.on('error', (error: any) => errors.push(error));
    const [code] = await next<[number]>(ws, 'close');
    expect(code).toBe(1006);
    expect(errors).toHaveLength(1);
    expect(errors[0].code).toBe(expected.code);
    expect(errors[0].errno).toBe(expected.errno);
    expect(errors[0].syscall).toBe('getaddrinfo');
    expect(errors[0].hostname).toBe('nonexistent.invalid');
    expect(errors[0].message.split(expected.code!).length).toBe(2); // named once
  });

  it("hands a 404 to 'unexpected-response' when listened to, else 'error'; 'close' 1006 either way", async () => {
    const server = createServer((_request, response) => {
      response.statusCode = 404;
      response.end('nope');
    });
    server.on('upgrade', (_request, socket) => {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;

    const plain = new WebSocket(`ws://127.0.0.1:${port}/`);
    const plainEvents: string[] = [];
    plain.on('error', (error: Error) => plainEvents.push(`error ${/404/.test(error.message)}`));
    plain.on('close', (code: number) => plainEvents.push(`close ${code}`));
    await next(plain, 'close');
    expect(plainEvents).toEqual(['error true', 'close 1006']);

    const listened = new WebSocket(`ws://127.0.0.1:${port}/`);
    const listenedEvents: string[] = [];
    listened.on('error', () => listenedEvents.push('error'));
    // The listener owns the outcome, and ends the attempt as ws's documentation says.
    listened.on('unexpected-response', (_request: unknown, response: any) => {
      listenedEvents.push(`unexpected-response ${response.statusCode} ${listened.readyState}`);
      listened.terminate();
    });
    listened.on('close', (code: number) => listenedEvents.push(`close ${code}`));
    await waitFor(() => listenedEvents.includes('close 1006'), 10_000, "'close'");
    expect(listenedEvents).toEqual(['unexpected-response 404 0', 'error', 'close 1006']);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('throws SyntaxError for an invalid URL, scheme, fragment or subprotocol', () => {
    expect(thrown(() => new WebSocket('not a url'))).toBeInstanceOf(SyntaxError);
    expect(thrown(() => new WebSocket('ftp://127.0.0.1/'))).toBeInstanceOf(SyntaxError);
    expect(thrown(() => new WebSocket('ws://127.0.0.1/#fragment'))).toBeInstanceOf(SyntaxError);
    expect(thrown(() => new WebSocket('ws://127.0.0.1:9/', ['a b']))).toBeInstanceOf(SyntaxError);
    expect(thrown(() => new WebSocket('ws://127.0.0.1:9/', ['a', 'a']))).toBeInstanceOf(SyntaxError);
  });

  it('throws RangeError for an unsupported protocolVersion', () => {
    expect(thrown(() => new WebSocket('ws://127.0.0.1:9/', { protocolVersion: 7 }))).toBeInstanceOf(
      RangeError,
    );
  });

  it('throws TypeError for a bad close code, RangeError for a long reason or control payload; the socket stays open', async () => {
    const { wss, port } = await listeningServer(impl);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    await next(ws, 'open');
    expect(thrown(() => ws.close(999))).toBeInstanceOf(TypeError);
    expect(thrown(() => ws.close(1005))).toBeInstanceOf(TypeError);
    expect(thrown(() => ws.close(1000, 'x'.repeat(124)))).toBeInstanceOf(RangeError);
    expect(thrown(() => ws.ping(Buffer.alloc(126)))).toBeInstanceOf(RangeError);
    expect(thrown(() => ws.pong(Buffer.alloc(126)))).toBeInstanceOf(RangeError);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
    await next(ws, 'close');
    await shutDown(wss);
  });

  it('throws an Error for send/ping/pong while CONNECTING; close() then aborts with error + close', async () => {
    const port = await closedPort();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const events: string[] = [];
    ws.on('error', (error: Error) => events.push(`error ${error.message}`));
    ws.on('close', (code: number) => events.push(`close ${code}`));
    for (const action of [() => ws.send('x'), () => ws.ping(), () => ws.pong()]) {
      const error = thrown(action);
      expect(error).toBeInstanceOf(Error);
      expect(error.message).toBe('WebSocket is not open: readyState 0 (CONNECTING)');
    }
    ws.close();
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    await next(ws, 'close');
    expect(events).toEqual([
      'error WebSocket was closed before the connection was established',
      'close 1006',
    ]);
  });

  it('calls send, ping and pong callbacks with null on success, with an Error after close()', async () => {
    const { wss, port } = await listeningServer(impl);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    await next(ws, 'open');
    const calls: unknown[] = [];
    ws.send('a', (error: unknown) => calls.push(['send', error]));
    ws.send('b', {}, (error: unknown) => calls.push(['send options', error]));
    ws.ping((error: unknown) => calls.push(['ping', error]));
    ws.pong('p', (error: unknown) => calls.push(['pong', error]));
    ws.ping('q', true, (error: unknown) => calls.push(['ping mask', error]));
    await waitFor(() => calls.length === 5, 10_000, 'the callbacks');
    expect(calls).toEqual([
      ['send', null],
      ['send options', null],
      ['ping', null],
      ['pong', null],
      ['ping mask', null],
    ]);
    const closed = next(ws, 'close');
    ws.close();
    const late: unknown[] = [];
    ws.send('late', (error: Error) => late.push(error.message));
    await waitFor(() => late.length === 1, 10_000, 'the late callback');
    expect(late).toEqual(['WebSocket is not open: readyState 2 (CLOSING)']);
    await closed;
    await shutDown(wss);
  });

  it("emits 'error' on the server for a busy port (EADDRINUSE, naming the address), and no 'listening'", async () => {
    const { wss, port } = await listeningServer(impl);
    const busy = new WebSocketServer({ port, host: '127.0.0.1' });
    const events: string[] = [];
    busy.on('listening', () => events.push('listening'));
    const [error] = await next<[any]>(busy, 'error');
    expect(error.code).toBe('EADDRINUSE');
    expect(error.errno).toBe(-98);
    expect(error.syscall).toBe('listen');
    expect(error.address).toBe('127.0.0.1');
    expect(error.port).toBe(port);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(events).toEqual([]);
    await shutDown(wss);
  });

  it('leaves clients undefined when clientTracking is false', async () => {
    const wss = new WebSocketServer({ noServer: true, clientTracking: false });
    expect(wss.clients).toBeUndefined();
    const tracked = new WebSocketServer({ noServer: true });
    expect(tracked.clients).toBeInstanceOf(Set);
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => tracked.close(() => resolve()));
  });

  it('throws when handleUpgrade is called twice for the same socket, and answers 503 after close()', async () => {
    const wss = new WebSocketServer({ noServer: true });
    const outcomes: string[] = [];
    const server = createServer();
    server.on('upgrade', (request, socket, head) => {
      if (request.url === '/twice') {
        wss.handleUpgrade(request, socket, head, () => outcomes.push('upgraded'));
        try {
          wss.handleUpgrade(request, socket, head, () => outcomes.push('upgraded again'));
        } catch (error) {
          outcomes.push(`threw ${error instanceof Error}`);
        }
      } else {
        wss.handleUpgrade(request, socket, head, () => outcomes.push('upgraded after close'));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/twice`);
    await next(ws, 'open');
    expect(outcomes).toEqual(['upgraded', 'threw true']);
    ws.terminate();
    await next(ws, 'close');

    await new Promise<void>((resolve) => wss.close(() => resolve()));
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest({
        port,
        host: '127.0.0.1',
        path: '/late',
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'Sec-WebSocket-Version': '13',
        },
      });
      request.on('response', (response) => {
        response.resume();
        resolve(response.statusCode!);
      });
      request.on('error', reject);
      request.end();
    });
    expect(status).toBe(503);
    expect(outcomes).toEqual(['upgraded', 'threw true']);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe('our argument errors also carry their WS_ERR_* code', () => {
  const { WebSocket } = bufferevent;

  it.each([
    ['an invalid URL', () => new WebSocket('not a url'), SyntaxError, 'WS_ERR_INVALID_URL'],
    [
      'a bad subprotocol',
      () => new WebSocket('ws://127.0.0.1:9/', ['a b']),
      SyntaxError,
      'WS_ERR_INVALID_PROTOCOL',
    ],
    [
      'protocolVersion 8',
      () => new WebSocket('ws://127.0.0.1:9/', { protocolVersion: 8 }),
      RangeError,
      'WS_ERR_UNSUPPORTED_VERSION',
    ],
    [
      'a bad header',
      () => new WebSocket('ws://127.0.0.1:9/', { headers: { 'a b': 'c' } }),
      TypeError,
      'WS_ERR_INVALID_HEADER',
    ],
  ])('%s', (_what, action, type, code) => {
    const error = thrown(action);
    expect(error).toBeInstanceOf(type);
    expect(error.code).toBe(code);
  });
});
