// What the batching, corking and publish tests share: cleanups run after each test (last
// registered first), and batches of text frames a raw client writes in one write.
import { afterEach } from 'vitest';
import { WebSocketServer, type ServerOptions, type WebSocket } from '../../src/websocket/index.ts';
import { turns, waitFor } from '../helpers.ts';
import { frames, RawClient, WAIT_MS } from './conformance/raw-client.ts';

export type Cleanup = () => void | Promise<void>;

/** The list to push a test's cleanups to; each test's run after it, in reverse order. */
export function deferCleanups(): Cleanup[] {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await turns(3);
  });
  return cleanups;
}

/** `${prefix}0` … `${prefix}${count - 1}`. */
export const texts = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}`);

/** Client frames for `messages`, concatenated: written in one write, they arrive in one read. */
export const batchOf = (messages: string[]) => Buffer.concat(messages.map((text) => frames.text(text)));

/**
 * A server (`options` apart from its address) with one expected connection, handed to
 * `onConnection`; resolves with a raw client. The
 * server, its sockets and the client go with the test's cleanups.
 */
export async function connectRawClient(
  cleanups: Cleanup[],
  onConnection: (ws: WebSocket) => void,
  options: ServerOptions = {},
): Promise<{ client: RawClient; ws: () => WebSocket; server: WebSocketServer }> {
  const server = new WebSocketServer({ ...options, port: 0, host: '127.0.0.1' });
  let socket: WebSocket | null = null;
  server.on('connection', (ws: WebSocket) => {
    socket = ws;
    onConnection(ws);
  });
  cleanups.push(async () => {
    for (const ws of server.clients) ws.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const client = await RawClient.open((server.address() as { port: number }).port);
  cleanups.push(() => client.destroy());
  await waitFor(() => socket !== null, WAIT_MS, 'the connection');
  return { client, ws: () => socket!, server };
}
