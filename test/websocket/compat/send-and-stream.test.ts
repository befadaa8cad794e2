/* eslint-disable @typescript-eslint/no-explicit-any -- the bodies are ws users' untyped code, run against two implementations */
// send(blob) (read asynchronously, sent in call order), send() and ping()/pong() without data, and
// createWebSocketStream with backpressure both ways: the same bodies against ours and ws.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers.ts';
import { implementations, listeningServer, next, shutDown } from './implementations.ts';

describe.each(implementations)('sending and streams, $name', (impl) => {
  const { WebSocket } = impl;

  async function connectedPair() {
    const { wss, port } = await listeningServer(impl);
    const serverSide = next<[any]>(wss, 'connection');
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    await next(ws, 'open');
    const [peer] = await serverSide;
    return { wss, ws, peer };
  }

  it('sends a Blob as a binary message, in order with what was sent around it; send() sends an empty one', async () => {
    const { wss, ws, peer } = await connectedPair();
    const got: string[] = [];
    peer.on('message', (data: Buffer, isBinary: boolean) => got.push(`${data}/${isBinary}`));
    const pings: string[] = [];
    peer.on('ping', (data: Buffer) => pings.push(`${data}@${got.length}`));
    const callbacks: unknown[] = [];
    ws.send('first');
    ws.send(new Blob(['blob ', 'bytes']), (error: unknown) => callbacks.push(error));
    ws.ping('p');
    ws.send('after');
    ws.send();
    await waitFor(() => got.length === 4, 10_000, 'four messages');
    expect(got).toEqual(['first/false', 'blob bytes/true', 'after/false', '/true']);
    expect(pings).toEqual(['p@2']);
    expect(callbacks).toEqual([null]);
    ws.close();
    await next(ws, 'close');
    await shutDown(wss);
  });

  it('sends the close frame after a Blob still being read', async () => {
    const { wss, ws, peer } = await connectedPair();
    const got: string[] = [];
    peer.on('message', (data: Buffer) => got.push(String(data)));
    const closed = next<[number, Buffer]>(peer, 'close');
    ws.send(new Blob(['last words']));
    ws.close(1000, 'done');
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    const [code, reason] = await closed;
    expect(got).toEqual(['last words']);
    expect([code, String(reason)]).toEqual([1000, 'done']);
    await shutDown(wss);
  });

  it('createWebSocketStream: writes become messages, messages become readable chunks; end() closes', async () => {
    const { wss, ws, peer } = await connectedPair();
    peer.on('message', (data: Buffer) => peer.send(`echo ${data}`));
    const duplex = impl.createWebSocketStream(ws, { encoding: 'utf8' });
    const chunks: string[] = [];
    duplex.on('data', (chunk: string) => chunks.push(chunk));
    duplex.write('a');
    duplex.write('b');
    await waitFor(() => chunks.length === 2, 10_000, 'two echoes');
    expect(chunks).toEqual(['echo a', 'echo b']);
    const closed = next<[number]>(peer, 'close');
    const duplexClosed = next(duplex, 'close');
    duplex.end();
    expect((await closed)[0]).toBe(1005);
    await duplexClosed;
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    await shutDown(wss);
  });

  it('createWebSocketStream: an unread stream pauses the socket; reading resumes it', async () => {
    const { wss, ws, peer } = await connectedPair();
    const duplex = impl.createWebSocketStream(ws, { readableHighWaterMark: 1024 });
    for (let i = 0; i < 16; i++) peer.send(Buffer.alloc(512, i));
    await waitFor(() => ws.isPaused === true, 10_000, 'the socket to pause');
    let total = 0;
    duplex.on('data', (chunk: Buffer) => (total += chunk.length));
    await waitFor(() => total === 16 * 512, 10_000, 'every byte');
    expect(ws.isPaused).toBe(false);
    const duplexClosed = next(duplex, 'close');
    duplex.destroy();
    await duplexClosed;
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    await shutDown(wss);
  });
});
