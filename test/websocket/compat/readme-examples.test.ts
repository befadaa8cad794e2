/* eslint-disable @typescript-eslint/no-explicit-any -- the bodies are ws users' untyped code, run against two implementations */
// The examples of ws's README, as ws users copy them, run against our classes and against ws
// itself: the bodies use only ws's API (the same code for both), with ports on 127.0.0.1 and short
// intervals instead of 8080 and 30 s.
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers.ts';
import { implementations, listeningServer, next, shutDown } from './implementations.ts';

describe.each(implementations)('ws README examples against $name', (impl) => {
  const { WebSocket, WebSocketServer } = impl;

  it('simple server and client: the server greets, the client sends on open', async () => {
    const { wss, port } = await listeningServer(impl);
    const received: string[] = [];
    wss.on('connection', function connection(ws: any) {
      ws.on('error', (error: Error) => received.push(`error ${error.message}`));
      ws.on('message', function message(data: Buffer) {
        received.push(`received: ${data}`);
      });
      ws.send('something');
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    ws.on('error', (error: Error) => received.push(`client error ${error.message}`));
    ws.on('open', function open() {
      ws.send('something');
    });
    const [data, isBinary] = await next<[Buffer, boolean]>(ws, 'message');
    expect([data.toString(), isBinary]).toEqual(['something', false]);
    await waitFor(() => received.length === 1, 10_000, 'the server to receive');
    expect(received).toEqual(['received: something']);
    ws.close();
    await next(ws, 'close');
    await shutDown(wss);
  });

  it('broadcast to every other client (wss.clients, readyState === WebSocket.OPEN, { binary: isBinary })', async () => {
    const { wss, port } = await listeningServer(impl);
    wss.on('connection', function connection(ws: any) {
      ws.on('message', function message(data: Buffer, isBinary: boolean) {
        wss.clients.forEach(function each(client: any) {
          if (client !== ws && client.readyState === WebSocket.OPEN) {
            client.send(data, { binary: isBinary });
          }
        });
      });
    });
    const clients = [0, 1, 2].map(() => new WebSocket(`ws://127.0.0.1:${port}`));
    await Promise.all(clients.map((client) => next(client, 'open')));
    await waitFor(() => wss.clients.size === 3, 10_000, 'three tracked clients');
    const got: string[][] = clients.map(() => []);
    clients.forEach((client, i) =>
      client.on('message', (data: Buffer, isBinary: boolean) => got[i]!.push(`${data}/${isBinary}`)),
    );
    clients[0].send('hello');
    clients[1].send(Buffer.from('bin'));
    await waitFor(
      () => got[0]!.length === 1 && got[1]!.length === 1 && got[2]!.length === 2,
      10_000,
      'broadcasts',
    );
    expect(got[0]).toEqual(['bin/true']);
    expect(got[1]).toEqual(['hello/false']);
    expect(got[2]!.sort()).toEqual(['bin/true', 'hello/false']);
    for (const client of clients) client.close();
    await Promise.all(clients.map((client) => next(client, 'close')));
    await shutDown(wss);
  });

  it('server from an http server: new WebSocketServer({ server }) and server.listen()', async () => {
    const server = createServer((_request, response) => response.end('page'));
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws: any) => ws.on('message', (data: Buffer) => ws.send(`echo ${data}`)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    await next(ws, 'open');
    ws.send('x');
    const [data] = await next<[Buffer]>(ws, 'message');
    expect(data.toString()).toBe('echo x');
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(await page.text()).toBe('page');
    ws.close();
    await next(ws, 'close');
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("noServer with authentication in the http server's 'upgrade' listener", async () => {
    const server = createServer();
    const wss = new WebSocketServer({ noServer: true });
    const connections: string[] = [];
    wss.on('connection', function connection(ws: any, request: IncomingMessage, client: string) {
      connections.push(`${client} ${request.url}`);
      ws.on('message', function message(data: Buffer) {
        ws.send(`Received message ${data} from user ${client}`);
      });
    });
    const authenticate = (request: IncomingMessage, done: (error: Error | null, client?: string) => void) => {
      const token = request.headers.authorization;
      if (token === 'Bearer good') done(null, 'alice');
      else done(new Error('bad token'));
    };
    const onSocketError = (error: Error) => connections.push(`socket error ${error.message}`);
    server.on('upgrade', function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer) {
      socket.on('error', onSocketError);
      authenticate(request, function next(error, client) {
        if (error || !client) {
          socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
          socket.destroy();
          return;
        }
        socket.removeListener('error', onSocketError);
        wss.handleUpgrade(request, socket, head, function done(ws: any) {
          wss.emit('connection', ws, request, client);
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;

    const refused = new WebSocket(`ws://127.0.0.1:${port}/chat`, {
      headers: { Authorization: 'Bearer bad' },
    });
    const refusal: string[] = [];
    refused.on('error', (error: Error) => refusal.push(error.message));
    const [closeCode] = await next<[number]>(refused, 'close');
    expect(closeCode).toBe(1006);
    expect(refusal).toHaveLength(1);
    expect(refusal[0]).toMatch(/401/);

    const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`, { headers: { Authorization: 'Bearer good' } });
    await next(ws, 'open');
    ws.send('hi');
    const [data] = await next<[Buffer]>(ws, 'message');
    expect(data.toString()).toBe('Received message hi from user alice');
    expect(connections).toEqual(['alice /chat']);
    ws.close();
    await next(ws, 'close');
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("'headers' gives the 101's status line and header lines; a pushed line is sent", async () => {
    const { wss, port } = await listeningServer(impl);
    const seen: string[][] = [];
    wss.on('headers', (headers: string[]) => {
      seen.push([...headers]);
      headers.push('Set-Cookie: session=1');
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const opened = next(ws, 'open');
    const [response] = await next<[{ headers: Record<string, string | string[]> }]>(ws, 'upgrade');
    expect(seen).toHaveLength(1);
    expect(seen[0]![0]).toBe('HTTP/1.1 101 Switching Protocols');
    expect(
      seen[0]!
        .slice(1)
        .map((line) => line.split(':')[0]!.toLowerCase())
        .sort(),
    ).toEqual(['connection', 'sec-websocket-accept', 'upgrade']);
    expect(String(response.headers['set-cookie'])).toBe('session=1');
    await opened;
    ws.close();
    await next(ws, 'close');
    await shutDown(wss);
  });

  it('client with headers, origin and a subprotocol: the server sees them', async () => {
    const { wss, port } = await listeningServer(impl);
    const [ws] = [
      new WebSocket(`ws://127.0.0.1:${port}/path?q=1`, ['chat'], {
        headers: { 'X-Token': 'abc', Cookie: 'a=b' },
        origin: 'http://example.test',
      }),
    ];
    const [, request] = await next<[unknown, IncomingMessage]>(wss, 'connection');
    await next(ws, 'open');
    expect(request.url).toBe('/path?q=1');
    expect(request.headers['x-token']).toBe('abc');
    expect(request.headers.cookie).toBe('a=b');
    expect(request.headers.origin).toBe('http://example.test');
    expect(ws.protocol).toBe('chat');
    ws.close();
    await next(ws, 'close');
    await shutDown(wss);
  });

  it('ping/pong heartbeat: isAlive, ping() every interval, terminate() the client that stopped answering', async () => {
    const { wss, port } = await listeningServer(impl);
    function heartbeat(this: any) {
      this.isAlive = true;
    }
    wss.on('connection', function connection(ws: any) {
      ws.isAlive = true;
      ws.on('error', () => {});
      ws.on('pong', heartbeat);
    });
    const interval = setInterval(function ping() {
      wss.clients.forEach(function each(ws: any) {
        if (ws.isAlive === false) return ws.terminate();
        ws.isAlive = false;
        ws.ping();
      });
    }, 50);
    wss.on('close', function close() {
      clearInterval(interval);
    });
    const alive = new WebSocket(`ws://127.0.0.1:${port}`);
    const silent = new WebSocket(`ws://127.0.0.1:${port}`);
    await Promise.all([next(alive, 'open'), next(silent, 'open')]);
    let pings = 0;
    alive.on('ping', () => pings++);
    const serverCloses: number[] = [];
    for (const client of wss.clients) client.on('close', (code: number) => serverCloses.push(code));
    // A client that reads nothing answers no ping: the server terminates it.
    silent.pause();
    await waitFor(() => serverCloses.length === 1, 10_000, 'the server to terminate the silent client');
    expect(serverCloses).toEqual([1006]);
    await waitFor(() => pings >= 3, 10_000, 'pings to the live client');
    expect(alive.readyState).toBe(WebSocket.OPEN);
    expect(wss.clients.size).toBe(1);
    silent.terminate();
    alive.close();
    await Promise.all([next(alive, 'close'), next(silent, 'close')]);
    await shutDown(wss);
    expect(interval).toBeDefined();
  });
});
