/* eslint-disable @typescript-eslint/no-explicit-any -- the bodies are ws users' untyped code, run against two implementations */
// The client option localAddress, the same bodies against ours and ws: the connection comes from that
// address (the server sees it as the peer), and a bind that fails is reported as Node reports it
// (code, negative errno, syscall 'bind', the local address). Linux loopback accepts every 127/8
// address; 192.0.2.1 (TEST-NET-1) is on no machine.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  bufferevent,
  implementations,
  listeningServer,
  next,
  shutDown,
  systemErrorFields,
} from './implementations.ts';

const { EADDRNOTAVAIL, EINVAL } = constants.errno;

describe.each(implementations)('localAddress with $name', (impl) => {
  const { WebSocket } = impl;

  it("connects from localAddress: the server's request socket has it as remoteAddress", async () => {
    const { wss, port } = await listeningServer(impl);
    const peers: string[] = [];
    wss.on('connection', (_ws: unknown, request: any) => peers.push(request.socket.remoteAddress));
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { localAddress: '127.0.0.2' });
    await next(ws, 'open');
    const plain = new WebSocket(`ws://127.0.0.1:${port}/`);
    await next(plain, 'open');
    expect(peers).toEqual(['127.0.0.2', '127.0.0.1']);
    for (const client of [ws, plain]) client.close();
    await Promise.all([next(ws, 'close'), next(plain, 'close')]);
    await shutDown(wss);
  });

  it('connects from localAddress again after a redirect', async () => {
    const wss = new impl.WebSocketServer({ noServer: true });
    const server = createServer();
    const seen: Array<[string | undefined, string | undefined]> = [];
    server.on('upgrade', (request: IncomingMessage, socket, head) => {
      seen.push([request.url, request.socket.remoteAddress]);
      if (request.url === '/a') socket.end('HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n');
      else wss.handleUpgrade(request, socket, head, () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/a`, {
      localAddress: '127.0.0.2',
      followRedirects: true,
    });
    await next(ws, 'open');
    expect(seen).toEqual([
      ['/a', '127.0.0.2'],
      ['/b', '127.0.0.2'],
    ]);
    ws.terminate();
    await next(ws, 'close');
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("reports a local address of no interface as Node's bind error, then 'close' 1006", async () => {
    const { wss, port } = await listeningServer(impl);
    let connections = 0;
    wss.on('connection', () => connections++);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { localAddress: '192.0.2.1' });
    const events: unknown[] = [];
    ws.on('error', (error: any) => events.push(systemErrorFields(error)));
    ws.on('close', (code: number) => events.push(code));
    await next(ws, 'close');
    expect(events).toEqual([
      {
        code: 'EADDRNOTAVAIL',
        errno: -EADDRNOTAVAIL,
        syscall: 'bind',
        address: '192.0.2.1',
        port: undefined,
        message: 'bind EADDRNOTAVAIL 192.0.2.1',
      },
      1006,
    ]);
    expect(connections).toBe(0);
    await shutDown(wss);
  });

  it('fails with bind EINVAL when localAddress is of the other family than the server address', async () => {
    const ws = new WebSocket('ws://127.0.0.1:9/', { localAddress: '::1' });
    const errors: any[] = [];
    ws.on('error', (error: any) => errors.push(error));
    const [code] = await next<[number]>(ws, 'close');
    expect(code).toBe(1006);
    expect(errors).toHaveLength(1);
    expect([errors[0].code, errors[0].errno, errors[0].syscall, errors[0].address]).toEqual([
      'EINVAL',
      -EINVAL,
      'bind',
      '::1',
    ]);
  });
});

describe('localAddress that is not an IP address (ours)', () => {
  it('throws a TypeError WS_ERR_INVALID_OPTION at once (ws emits it as an error event)', () => {
    for (const localAddress of ['localhost', '', 42]) {
      expect(() => new bufferevent.WebSocket('ws://127.0.0.1:9/', { localAddress })).toThrow(
        expect.objectContaining({ name: 'TypeError', code: 'WS_ERR_INVALID_OPTION' }),
      );
    }
  });
});
