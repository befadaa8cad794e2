// Idle WebSocket clients in a child process (fixtures/idle-clients.mjs) for the tests that measure
// what a server-side connection costs: the clients' objects and buffers stay out of this process's
// heap and malloc, so what grows here is the server's side alone.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { EventBase } from '../../src/index.ts';
import { native } from '../../src/native.ts';
import { WebSocketServer } from '../../src/websocket/index.ts';
import { turns, waitFor } from '../helpers.ts';
import { settledHeapUsed } from '../leaks/gc.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/idle-clients.mjs', import.meta.url));

export interface Clients {
  ask<Answer>(message: object): Promise<Answer>;
  child: ChildProcess;
}

let children: ChildProcess[] = [];

/** Ends every child started by startClients (call it from afterEach). */
export function killClients(): void {
  for (const child of children) child.kill();
  children = [];
}

export function startClients(): Clients {
  const child = fork(FIXTURE, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  const waiting: Array<(answer: unknown) => void> = [];
  child.on('message', (answer) => waiting.shift()?.(answer));
  return {
    child,
    ask: <Answer>(message: object) =>
      new Promise<Answer>((resolve) => {
        waiting.push(resolve as (answer: unknown) => void);
        child.send(message);
      }),
  };
}

/** A server on a free loopback port, with a backlog that takes a batch of connects at once. */
export async function listeningServer(): Promise<{ wss: WebSocketServer; port: number }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', backlog: 1024 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  return { wss, port: (wss.address() as { port: number }).port };
}

/** `count` more connections, each handshake done, and the server holding all of them. */
export async function openBatch(clients: Clients, wss: WebSocketServer, port: number, count: number) {
  const before = wss.clients.size;
  const { opened, failed } = await clients.ask<{ opened: number; failed: number }>({ open: count, port });
  expect({ opened, failed }).toEqual({ opened: count, failed: 0 });
  await waitFor(() => wss.clients.size === before + count, 60_000, 'the server to hold the batch');
}

/** Ends every connection, from the client side (FIN) or the server side (terminate()). */
export async function closeBatch(clients: Clients, wss: WebSocketServer, byServer: boolean) {
  if (byServer) {
    for (const ws of wss.clients) ws.terminate();
    await waitFor(() => wss.clients.size === 0, 60_000, 'every server-side close');
    const deadline = Date.now() + 60_000;
    while ((await clients.ask<{ open: number }>({ open: 'count' })).open > 0) {
      if (Date.now() > deadline) throw new Error('the clients did not see every close');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } else {
    await clients.ask({ close: true });
    await waitFor(() => wss.clients.size === 0, 60_000, 'every server-side close');
  }
  await turns(3); // libevent's deferred frees
}

export interface IdleConnectionCost {
  heapPerConnection: number;
  mallocPerConnection: number; // glibc malloc's bytes in use (native.mallocStats())
  liveWebSockets: number; // the native connections alive while the batch was held
}

/**
 * What `count` idle server-side connections add, per connection, to this process's V8 heap and
 * malloc, measured against the server after a warm-up batch of `warmup` connections (opened and
 * closed, so the code, libevent's tables and the free lists exist). Everything is closed after.
 */
export async function measureIdleConnections(count: number, warmup: number): Promise<IdleConnectionCost> {
  const { wss, port } = await listeningServer();
  const clients = startClients();
  await openBatch(clients, wss, port, warmup);
  await closeBatch(clients, wss, false);
  const heapBefore = await settledHeapUsed();
  const mallocBefore = native.mallocStats().inUse;

  await openBatch(clients, wss, port, count);
  const heapPerConnection = ((await settledHeapUsed()) - heapBefore) / count;
  const mallocPerConnection = (native.mallocStats().inUse - mallocBefore) / count;
  const liveWebSockets = EventBase.default().stats().liveWebSockets;

  await closeBatch(clients, wss, false);
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  return { heapPerConnection, mallocPerConnection, liveWebSockets };
}
