// The close reason round trip: close(4001, 'bye') from either side gives the peer 4001 and 'bye',
// and the initiator the echo of both (the reply is built from the peer's close frame), between our
// client and our server, and with npm ws on the other end.
import { once } from 'node:events';
import type { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import WsClient, { WebSocketServer as WsServer } from 'ws';
import { WebSocket, WebSocketServer } from '../../src/websocket/index.ts';
import { checkNothingLeaksAfterEach, turns } from '../helpers.ts';

checkNothingLeaksAfterEach({ fds: true });

interface Closable extends EventEmitter {
  close(code?: number, reason?: string): void;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await turns(3);
});

/** Starts the server ('ours' or 'ws') and returns its port and a promise of its first socket. */
async function server(kind: 'ours' | 'ws'): Promise<{ port: number; accepted: Promise<Closable> }> {
  const wss =
    kind === 'ours'
      ? new WebSocketServer({ port: 0, host: '127.0.0.1' })
      : new WsServer({ port: 0, host: '127.0.0.1' });
  const accepted = new Promise<Closable>((resolve) => (wss as EventEmitter).once('connection', resolve));
  await once(wss as EventEmitter, 'listening');
  cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
  return { port: (wss.address() as { port: number }).port, accepted };
}

function client(kind: 'ours' | 'ws', port: number): Closable {
  return kind === 'ours' ? new WebSocket(`ws://127.0.0.1:${port}/`) : new WsClient(`ws://127.0.0.1:${port}/`);
}

function closeEvent(socket: Closable): Promise<[number, string]> {
  return new Promise((resolve) =>
    socket.once('close', (code: number, reason: Buffer) => resolve([code, reason.toString()])),
  );
}

const pairs = [
  { client: 'ours', server: 'ours' },
  { client: 'ws', server: 'ours' },
  { client: 'ours', server: 'ws' },
] as const;

describe.each(pairs)(
  'close(4001, "bye") between $client client and $server server',
  ({ client: clientKind, server: serverKind }) => {
    it.each(['client', 'server'] as const)(
      'started by the %s: both ends see 4001 and "bye"',
      async (initiator) => {
        const { port, accepted } = await server(serverKind);
        const ours = client(clientKind, port);
        await once(ours, 'open');
        const serverSide = await accepted;
        const clientClosed = closeEvent(ours);
        const serverClosed = closeEvent(serverSide);
        (initiator === 'client' ? ours : serverSide).close(4001, 'bye');
        expect(await clientClosed).toEqual([4001, 'bye']);
        expect(await serverClosed).toEqual([4001, 'bye']);
      },
    );
  },
);
