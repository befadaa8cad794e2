// Servers and clients with permessage-deflate for the compression tests: ours by default, or npm
// ws's with DEFLATE_IMPL=ws (to check a test's own expectations against the reference). Each end
// records what it received; payload makers give compressible and incompressible data of any size.
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { WebSocket as WsWebSocket, WebSocketServer as WsWebSocketServer } from 'ws';
import { EventBase } from '../../../src/index.ts';
import { WebSocket, WebSocketServer } from '../../../src/websocket/index.ts';
import type { PerMessageDeflateOptions } from '../../../src/websocket/deflate/options.ts';
import { turns, waitFor } from '../../helpers.ts';

export type Implementation = 'bufferevent' | 'ws';
export const IMPL: Implementation = process.env.DEFLATE_IMPL === 'ws' ? 'ws' : 'bufferevent';

export const WAIT_MS = 30_000;

/** What the tests use of a WebSocket, common to ours and ws's, either end. */
export interface Peer extends EventEmitter {
  readonly readyState: number;
  readonly extensions: string;
  send(
    data: Buffer | string,
    options?: { binary?: boolean; compress?: boolean; fin?: boolean },
    callback?: (error?: Error) => void,
  ): unknown;
  ping(data?: Buffer | string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

export interface Received {
  data: Buffer;
  isBinary: boolean;
}

/** One end of a connection and everything it reported. */
export interface Recorded {
  ws: Peer;
  /** A server side's request path. */
  url?: string | undefined;
  messages: Received[];
  pings: Buffer[];
  errors: Array<Error & { code?: string }>;
  closes: Array<{ code: number; reason: string }>;
  /** Resolves with the messages once `count` arrived in all. */
  nextMessages(count: number): Promise<Received[]>;
}

export function record(ws: Peer): Recorded {
  const recorded: Recorded = {
    ws,
    messages: [],
    pings: [],
    errors: [],
    closes: [],
    async nextMessages(count) {
      await waitFor(
        () => recorded.messages.length >= count || recorded.closes.length > 0,
        WAIT_MS,
        `${count} messages (have ${recorded.messages.length})`,
      );
      if (recorded.messages.length < count) {
        const why = JSON.stringify({ closes: recorded.closes, errors: recorded.errors.map((e) => e.code) });
        throw new Error(`closed after ${recorded.messages.length} of ${count} messages: ${why}`);
      }
      return recorded.messages.slice(0, count);
    },
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => recorded.messages.push({ data, isBinary }));
  ws.on('ping', (data: Buffer) => recorded.pings.push(data));
  ws.on('error', (error: Error & { code?: string }) => recorded.errors.push(error));
  ws.on('close', (code: number, reason: Buffer) => recorded.closes.push({ code, reason: reason.toString() }));
  return recorded;
}

export interface ServerOptions {
  perMessageDeflate?: PerMessageDeflateOptions | boolean;
  maxPayload?: number;
  /** Ours only: a subscriber over this many queued bytes is skipped by publish. */
  backpressureBytes?: number;
  /** Send every message back as it came (default true). */
  echo?: boolean;
}

export interface Server {
  wss: EventEmitter & { close(callback?: () => void): void };
  port: number;
  accepted: Recorded[];
  /** Waits for the server side of connection `index`. */
  side(index: number): Promise<Recorded>;
  clients: Recorded[];
  /** Opens a client of `impl` (default IMPL) to `port` (default this server's). */
  connect(
    perMessageDeflate: PerMessageDeflateOptions | boolean,
    { impl, port, path }?: { impl?: Implementation; port?: number; path?: string },
  ): Promise<Recorded>;
  /** Drops whatever is open, closes the server and waits until nothing of ours is alive. */
  close(): Promise<void>;
}

function liveWebSockets(): number {
  return EventBase.default().stats().liveWebSockets;
}

/** Opens a client; resolves once it is open (rejects on an error before that). */
export async function openClient(
  url: string,
  perMessageDeflate: PerMessageDeflateOptions | boolean,
  impl: Implementation = IMPL,
  more: { maxPayload?: number } = {},
): Promise<Recorded> {
  const options = { perMessageDeflate, ...more } as never;
  const ws = (impl === 'ws' ? new WsWebSocket(url, options) : new WebSocket(url, options)) as unknown as Peer;
  const recorded = record(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('close', () => reject(new Error(`closed before opening: ${JSON.stringify(recorded.closes)}`)));
  });
  return recorded;
}

export async function startServer(options: ServerOptions = {}, impl: Implementation = IMPL): Promise<Server> {
  const { echo = true, ...serverOptions } = options;
  const settings = { port: 0, host: '127.0.0.1', ...serverOptions };
  const wss = (impl === 'ws'
    ? new WsWebSocketServer(settings as never)
    : new WebSocketServer(settings as never)) as unknown as Server['wss'] & { address(): { port: number } };
  const accepted: Recorded[] = [];
  const clients: Recorded[] = [];
  wss.on('connection', (ws: Peer, request: { url?: string }) => {
    const side = record(ws);
    side.url = request.url;
    accepted.push(side);
    if (echo) ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', () => resolve());
    wss.once('error', reject);
  });
  const port = wss.address().port;
  return {
    wss,
    port,
    accepted,
    clients,
    async side(index) {
      await waitFor(() => accepted.length > index, WAIT_MS, `server-side connection ${index}`);
      return accepted[index]!;
    },
    async connect(perMessageDeflate, { impl: clientImpl = IMPL, port: to = port, path = '/' } = {}) {
      const client = await openClient(`ws://127.0.0.1:${to}${path}`, perMessageDeflate, clientImpl);
      clients.push(client);
      return client;
    },
    async close() {
      for (const end of [...clients, ...accepted]) if (end.closes.length === 0) end.ws.terminate();
      await waitFor(
        () => [...clients, ...accepted].every((end) => end.closes.length === 1),
        WAIT_MS,
        'every socket closed',
      );
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await waitFor(() => liveWebSockets() === 0, WAIT_MS, 'no live native WebSocket connection');
      await turns(3);
    },
  };
}

/** Text that compresses well but not to nothing: words from a small vocabulary, in a pseudo-random order. */
export function compressibleText(length: number, seed = 1): string {
  const words = ['deflate', 'window', 'frame', 'socket', 'libevent', 'ütf-8 ✓', 'message', 'zlib'];
  const parts: string[] = [];
  let bytes = 0;
  let state = seed;
  while (bytes < length) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    const word = `${words[(state >> 16) % words.length]} `;
    parts.push(word);
    bytes += Buffer.byteLength(word);
  }
  const out = parts.join('');
  // Trim to exactly `length` bytes on an ASCII boundary: pad with ASCII after cutting whole characters.
  let cut = Buffer.from(out).subarray(0, length);
  while (cut.length > 0 && (cut[cut.length - 1]! & 0x80) !== 0) cut = cut.subarray(0, -1);
  return cut.toString() + '.'.repeat(length - cut.length);
}

/** Binary that compresses well: a repeating 251-byte pattern with a counter mixed in. */
export function compressibleBinary(length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (i % 251) ^ ((i >> 12) & 0xff);
  return out;
}

/** Incompressible bytes. */
export function randomBinary(length: number): Buffer {
  return randomBytes(length);
}

/** Incompressible-looking text (base64 of random bytes), exactly `length` bytes. */
export function randomText(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4) + 3)
    .toString('base64')
    .slice(0, length);
}
