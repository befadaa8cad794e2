// WebSocketServer.close() with handshakes in flight: each one is finished at once (timers cleared,
// sockets closed), a late verifyClient answer does nothing, no 'wsClientError' follows 'close', and
// nothing of the server keeps the process alive.
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocketServer, type VerifyClientDone } from '../../src/websocket/index.ts';
import { EventBase } from '../../src/index.ts';
import { lines, runChild } from '../loop/child.ts';
import { checkNothingLeaksAfterEach, turns, waitFor } from '../helpers.ts';
import { handshakeRequest } from './conformance/raw-client.ts';

const WAIT_MS = 20_000;

checkNothingLeaksAfterEach({ fds: true });

function liveBufferevents(): number {
  return EventBase.default().stats().liveBufferevents;
}

/** A raw client socket recording whether the server closed it and what it answered. */
function rawClient(port: number, bytes: string, { halfOpen = false } = {}) {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: halfOpen });
  const state = { socket, received: '', ended: false, closed: false };
  socket.on('data', (chunk: Buffer) => (state.received += chunk.toString('latin1')));
  socket.on('end', () => (state.ended = true));
  socket.on('close', () => (state.closed = true));
  socket.on('error', () => {});
  socket.write(bytes);
  return state;
}

describe('WebSocketServer.close() with handshakes in flight', () => {
  it('native listener: ends a pending async verifyClient, a half-sent head and a lingering refusal at once; late done() is harmless', async () => {
    const dones: VerifyClientDone[] = [];
    const wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      path: '/ws',
      handshakeTimeout: 60_000,
      closeTimeout: 60_000,
      verifyClient: (_info, done) => void dones.push(done),
    });
    const events: string[] = [];
    wss.on('wsClientError', (error: Error & { code?: string }) => events.push(`wsClientError ${error.code}`));
    wss.on('connection', () => events.push('connection'));
    wss.on('close', () => events.push('close'));
    await once(wss, 'listening');
    const port = (wss.address() as { port: number }).port;
    const verifying = rawClient(port, handshakeRequest({ path: '/ws' }).text);
    const halfSent = rawClient(port, handshakeRequest({ path: '/ws' }).text.slice(0, 30));
    const refused = rawClient(port, handshakeRequest({ path: '/other' }).text, { halfOpen: true });
    await waitFor(() => dones.length === 1 && refused.ended, WAIT_MS, 'verifyClient and the refusal');
    expect(events).toEqual(['wsClientError WS_ERR_PATH']);
    expect(liveBufferevents()).toBe(3);

    wss.close();
    expect(liveBufferevents()).toBe(0); // freed at once, the lingering refusal too
    await waitFor(() => verifying.closed && halfSent.closed, WAIT_MS, 'the clients to see the close');
    expect(verifying.received).toBe(''); // no 101, no answer
    expect(halfSent.received).toBe('');
    // verifyClient answers late, both ways: nothing is thrown, written, emitted.
    expect(() => dones[0]!(true)).not.toThrow();
    expect(() => dones[0]!(false, 403)).not.toThrow();
    await turns(5);
    expect(events).toEqual(['wsClientError WS_ERR_PATH', 'close']);
    refused.socket.destroy();
  });

  it('a handshake timing out or refused after close() reports nothing', async () => {
    let pending: VerifyClientDone | undefined;
    const wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      verifyClient: (_info, done) => void (pending = done),
    });
    const events: string[] = [];
    wss.on('wsClientError', (error: Error & { code?: string }) => events.push(`wsClientError ${error.code}`));
    await once(wss, 'listening');
    const client = rawClient((wss.address() as { port: number }).port, handshakeRequest().text);
    await waitFor(() => pending !== undefined, WAIT_MS, 'verifyClient');
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    pending!(false, 401);
    await waitFor(() => client.closed, WAIT_MS, 'the client closed');
    await turns(5);
    expect(events).toEqual([]);
    expect(client.received).toBe('');
  });

  it('noServer + handleUpgrade: close() destroys a socket waiting for verifyClient; done(true) afterwards opens nothing', async () => {
    let pending: VerifyClientDone | undefined;
    const wss = new WebSocketServer({ noServer: true, verifyClient: (_info, done) => void (pending = done) });
    const events: string[] = [];
    wss.on('wsClientError', (error: Error & { code?: string }) => events.push(`wsClientError ${error.code}`));
    const httpServer = http.createServer();
    httpServer.on('upgrade', (request, socket, head) =>
      wss.handleUpgrade(request, socket as net.Socket, head, () => events.push('connection')),
    );
    httpServer.listen(0, '127.0.0.1');
    await once(httpServer, 'listening');
    const client = rawClient((httpServer.address() as net.AddressInfo).port, handshakeRequest().text);
    await waitFor(() => pending !== undefined, WAIT_MS, 'verifyClient');
    wss.close();
    await waitFor(() => client.closed, WAIT_MS, 'the client socket closed');
    expect(() => pending!(true)).not.toThrow();
    await turns(5);
    expect(events).toEqual([]);
    expect(client.received).toBe('');
    expect(liveBufferevents()).toBe(0);
    // After close(), handleUpgrade answers 503 and closes.
    const late = rawClient((httpServer.address() as net.AddressInfo).port, handshakeRequest().text);
    await waitFor(() => late.closed, WAIT_MS, 'the late client closed');
    expect(late.received).toMatch(/^HTTP\/1\.1 503 /);
    expect(events).toEqual([]);
    httpServer.closeAllConnections();
    await new Promise((resolve) => httpServer.close(resolve));
  });

  it('lets the process exit by itself at once (child process)', async () => {
    const result = await runChild('../../websocket/fixtures/close-with-handshakes.mjs', [], 20_000);
    expect(result.timedOut, `killed: still running; stdout: ${result.stdout}`).toBe(false);
    expect(result.stderr).toBe('');
    const output = lines(result.stdout);
    expect(output.filter((line) => line.startsWith('wsClientError'))).toEqual(['wsClientError WS_ERR_PATH']);
    expect(
      output.filter((line) => !line.startsWith('wsClientError') && !line.startsWith('client socket')),
    ).toEqual([
      'verifyClient waiting',
      'refused answered',
      'server closed',
      'timers 0',
      'late done() returned',
      'exit 0',
    ]);
    expect(output.filter((line) => line === 'client socket closed')).toHaveLength(2);
    expect(output).not.toContain('connection');
    expect(result.code).toBe(0);
  });
});
