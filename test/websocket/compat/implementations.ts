/* eslint-disable @typescript-eslint/no-explicit-any -- the bodies are ws users' untyped code, run against two implementations */
// The two implementations the compatibility tests run the same bodies against: ours, and npm `ws`,
// which shows that each expectation is ws's own behaviour. Both are loaded the way their users
// load them (ours from the package entry, ws through its CommonJS default export).
import { createRequire } from 'node:module';
import * as ours from '../../../src/websocket/index.ts';

const require = createRequire(import.meta.url);

/** What a test needs from an implementation, loosely typed: the bodies use only ws's API. */
export interface Implementation {
  name: string;
  WebSocket: any;
  WebSocketServer: any;
  createWebSocketStream: (ws: any, options?: object) => import('node:stream').Duplex;
}

const ws = require('ws') as { WebSocketServer: unknown; createWebSocketStream: unknown } & object;

export const bufferevent: Implementation = {
  name: 'bufferevent',
  WebSocket: ours.WebSocket,
  WebSocketServer: ours.WebSocketServer,
  createWebSocketStream: ours.createWebSocketStream as Implementation['createWebSocketStream'],
};

export const npmWs: Implementation = {
  name: 'ws',
  WebSocket: ws,
  WebSocketServer: ws.WebSocketServer,
  createWebSocketStream: ws.createWebSocketStream as Implementation['createWebSocketStream'],
};

export const implementations = [bufferevent, npmWs];

/** A server on a free loopback port, and its port, once it listens. */
export async function listeningServer(
  impl: Implementation,
  options: object = {},
): Promise<{ wss: any; port: number }> {
  const wss = new impl.WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  return { wss, port: wss.address().port as number };
}

/** Resolves with the arguments of the next `event` of `emitter`. */
export function next<T extends unknown[] = unknown[]>(
  emitter: { once(event: string, listener: (...args: any[]) => void): unknown },
  event: string,
): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T)));
}

/** Closes a server and every client it still has. */
export async function shutDown(wss: any): Promise<void> {
  for (const client of wss.clients ?? []) client.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}

/** The fields a Node-shaped system error carries, as a plain object for toEqual. */
export function systemErrorFields(error: any): Record<string, unknown> {
  return {
    code: error.code,
    errno: error.errno,
    syscall: error.syscall,
    address: error.address,
    port: error.port,
    message: error.message,
  };
}
