// Sends from a socket's own listeners: a server socket's small whole messages are written into the
// send slab in JavaScript, and the addon takes them when the listener returns or before anything
// else reaches it. Whatever way each send takes (the slab, the native send for a large or a
// callback's message, a ping, a publish), the peer gets every frame in the order it was sent, the
// limits hold as they do outside a listener, and nothing follows the close frame.
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native.ts';
import { WebSocket, WebSocketServer, type ServerOptions } from '../../src/websocket/index.ts';
import { checkNothingLeaksAfterEach, waitFor } from '../helpers.ts';
import { WAIT_MS, closeCodeOf, frames, OPCODE, type ServerMessage } from './conformance/raw-client.ts';
import { batchOf, connectRawClient, deferCleanups, texts } from './batch-fixtures.ts';

checkNothingLeaksAfterEach({ fds: true });

const cleanups = deferCleanups();

const connect = (onConnection: (ws: WebSocket) => void, options: ServerOptions = {}) =>
  connectRawClient(cleanups, onConnection, options);

const textOf = (message: ServerMessage) =>
  `${message.opcode === OPCODE.BINARY ? 'binary' : message.opcode === OPCODE.TEXT ? 'text' : `op${message.opcode}`} ${message.data.length} ${message.data.subarray(0, 3).toString()}`;

describe('sends from a listener to its own socket', () => {
  it('reach the peer in send order, whichever way each one goes', async () => {
    const results: string[] = [];
    const callbacks: (Error | undefined | null)[] = [];
    let server: WebSocketServer | null = null;
    const { client, server: started } = await connect((ws) => {
      ws.subscribe('news');
      ws.on('message', () => {
        results.push(ws.send('a1'));
        results.push(ws.send('b'.repeat(125)));
        results.push(ws.send('c'.repeat(126))); // the first length with a 16-bit field
        results.push(ws.send(Buffer.alloc(8 * 1024, 'd'))); // the slab's largest
        results.push(ws.send(Buffer.alloc(8 * 1024 + 1, 'e'))); // the native send's
        results.push(ws.send('f1', (error) => callbacks.push(error))); // a callback: native
        ws.ping('p1');
        results.push(ws.send('g1'));
        server!.publish('news', 'h1');
        results.push(ws.send(Buffer.from('i1'), { binary: true }));
        results.push(ws.send('j1', { fin: false })); // a fragmented message: native
        results.push(ws.send('j2'));
        results.push(ws.send('k1'));
      });
    });
    server = started;
    await client.send(frames.text('go'));
    const messages = await client.readMessages(12);
    expect(messages.map(textOf)).toEqual([
      'text 2 a1',
      'text 125 bbb',
      'text 126 ccc',
      'binary 8192 ddd',
      'binary 8193 eee',
      'text 2 f1',
      'op9 2 p1',
      'text 2 g1',
      'text 2 h1',
      'binary 2 i1',
      'text 4 j1j',
      'text 2 k1',
    ]);
    expect(messages[3]!.data.equals(Buffer.alloc(8 * 1024, 'd'))).toBe(true);
    expect(messages[10]!.frames).toBe(2);
    expect(client.frames.every((frame) => !frame.masked && !frame.rsv1)).toBe(true);
    expect(results.every((result) => result === 'ok')).toBe(true);
    await waitFor(() => callbacks.length === 1, WAIT_MS, "the send's callback");
    expect(callbacks[0]).toBeFalsy();
  });

  it('counts what the listener sent in bufferedAmount at once, frame header included', async () => {
    const amounts: number[][] = [];
    const { client } = await connect((ws) => {
      ws.on('message', (data: Buffer) => {
        const before = ws.bufferedAmount;
        ws.send(data);
        const afterOne = ws.bufferedAmount;
        ws.send(Buffer.alloc(300));
        amounts.push([before, afterOne, ws.bufferedAmount]);
      });
    });
    await client.send(batchOf(texts('m', 4)));
    await client.readMessages(8);
    expect(amounts).toHaveLength(4);
    for (const [before, afterOne, afterTwo] of amounts) {
      // The replies of one read are held until its batch ends.
      expect(afterOne! - before!).toBe(2 + 2);
      expect(afterTwo! - afterOne!).toBe(4 + 300);
    }
  });

  it('go out whole and in order when one listener sends more than the slab holds', async () => {
    const count = 4000; // 4000 × (2 + 40) bytes: about two and a half slabs
    const { client } = await connect((ws) => {
      ws.once('message', () => {
        for (let i = 0; i < count; i++) ws.send(`${String(i).padStart(8, '0')}${'x'.repeat(32)}`);
      });
    });
    await client.send(frames.text('go'));
    const messages = await client.readMessages(count);
    expect(messages.map((message) => message.data.toString().slice(0, 8))).toEqual(
      Array.from({ length: count }, (_, i) => String(i).padStart(8, '0')),
    );
  });

  it('answers backpressure and drops past maxBufferedBytes as a send outside a listener would', async () => {
    const maxBufferedBytes = 4096;
    const backpressureBytes = 1024;
    const results: string[] = [];
    const amounts: number[] = [];
    const payload = Buffer.alloc(100, 'z');
    const { client } = await connect(
      (ws) => {
        ws.once('message', () => {
          for (let i = 0; i < 60; i++) {
            results.push(ws.send(payload));
            amounts.push(ws.bufferedAmount);
          }
        });
      },
      { maxBufferedBytes, backpressureBytes },
    );
    await client.send(frames.text('go'));
    await waitFor(() => results.length === 60, WAIT_MS, 'the sends');
    // Each frame is 102 bytes; a message is refused when the queued bytes and its payload pass the limit.
    const accepted = results.filter((result) => result !== 'dropped').length;
    expect(accepted).toBe(Math.floor((maxBufferedBytes - payload.length) / 102) + 1);
    expect(results.slice(accepted).every((result) => result === 'dropped')).toBe(true);
    const firstBackpressure = results.indexOf('backpressure');
    expect(firstBackpressure).toBe(Math.floor(backpressureBytes / 102));
    expect(results.slice(0, firstBackpressure).every((result) => result === 'ok')).toBe(true);
    expect(Math.max(...amounts)).toBeLessThanOrEqual(maxBufferedBytes);
    const messages = await client.readMessages(accepted);
    expect(messages.every((message) => message.data.equals(payload))).toBe(true);
  });

  it('sends nothing after a close() in the listener: the replies before it, then the close frame', async () => {
    const results: string[] = [];
    const { client } = await connect((ws) => {
      ws.once('message', () => {
        results.push(ws.send('x1'), ws.send('x2'));
        ws.close(1000, 'bye');
        results.push(ws.send('x3'));
      });
    });
    await client.send(frames.text('go'));
    const close = await client.waitForCloseFrame();
    expect(close.before.map(textOf)).toEqual(['text 2 x1', 'text 2 x2']);
    expect(closeCodeOf(close)).toBe(1000);
    expect(results).toEqual(['ok', 'ok', 'dropped']);
  });

  it('drops what the listener sent when it terminates the socket, and writes nothing after', async () => {
    const { client } = await connect((ws) => {
      ws.once('message', () => {
        ws.send('y1');
        ws.terminate();
        ws.send('y2');
      });
    });
    await client.send(frames.text('go'));
    await client.waitForTcpClose();
    // terminate() drops what is queued, as for any send; whatever left first is a prefix.
    const sent = client.frames.map((frame) => frame.payload.toString());
    expect(['', 'y1']).toContain(sent.join(''));
  });

  it("keeps a client's replies masked (a client never writes to the slab)", async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await new Promise((resolve) => server.once('listening', resolve));
    const received: string[] = [];
    server.on('connection', (ws) => {
      ws.on('message', (data: Buffer) => {
        received.push(data.toString());
        if (received.length === 1) ws.send('ping-pong');
      });
      ws.send('start');
    });
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as { port: number }).port}/`);
    cleanups.push(() => client.terminate());
    client.on('message', (data: Buffer) => client.send(`echo ${data.toString()}`));
    await waitFor(() => received.length === 2, WAIT_MS, "the client's replies");
    expect(received).toEqual(['echo start', 'echo ping-pong']);
  });
});

describe('the slab at the native boundary', () => {
  it('is one Buffer and one Uint32Array of 2 per environment, the same on every call', () => {
    const [bytes, state] = native.wsSendSlab();
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(bytes.length).toBe(64 * 1024);
    expect(state).toBeInstanceOf(Uint32Array);
    expect(state).toHaveLength(2);
    const [again, stateAgain] = native.wsSendSlab();
    expect(again).toBe(bytes);
    expect(stateAgain).toBe(state);
  });

  it('drops a byte count beyond the slab instead of reading past it', async () => {
    const [, state] = native.wsSendSlab();
    const { client } = await connect((ws) => ws.on('message', (data: Buffer) => ws.send(data)));
    state[0] = 0xffffffff;
    await client.send(frames.text('one'));
    const [reply] = await client.readMessages(1);
    expect(reply!.data.toString()).toBe('one');
    expect(state[0]).toBe(0);
  });
});
