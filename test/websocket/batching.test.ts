// Batched delivery: the small messages one read yields reach JavaScript in one call, yet every
// listener sees what it would see one message at a time: 'message' per message in stream order,
// pings and large messages in their places, pause() stopping delivery at the message it was called
// in, terminate() dropping the rest, close() letting the rest through (as ws does) while nothing is
// sent after the close frame, and a throwing listener losing nothing. The raw client writes each
// batch of frames in one write, so the server reads it in one read.
import { describe, expect, it } from 'vitest';
import { EventBase } from '../../src/index.ts';
import { WebSocket, WebSocketServer } from '../../src/websocket/index.ts';
import { runChild } from '../loop/child.ts';
import { checkNothingLeaksAfterEach, turns, waitFor } from '../helpers.ts';
import {
  RawClient,
  WAIT_MS,
  closeCodeOf,
  frames,
  OPCODE,
  parseServerFrames,
} from './conformance/raw-client.ts';
import { batchOf, connectRawClient, deferCleanups, texts } from './batch-fixtures.ts';

checkNothingLeaksAfterEach({ fds: true });

const cleanups = deferCleanups();

const connect = (onConnection: (ws: WebSocket) => void) => connectRawClient(cleanups, onConnection);

describe('one call per read', () => {
  it('delivers a 64-message read before any microtask runs, each message a view of one slab', async () => {
    const events: string[] = [];
    const buffers: Buffer[] = [];
    const { client } = await connect((ws) => {
      ws.on('message', (data: Buffer) => {
        events.push(data.toString());
        buffers.push(data);
        queueMicrotask(() => events.push(`microtask after ${data.toString()}`));
      });
    });
    await client.send(batchOf(texts('m', 64)));
    await waitFor(() => events.length === 128, WAIT_MS, 'the messages and microtasks');
    // One call into JavaScript for the read: the microtasks queued by the listeners run after it.
    expect(events).toEqual([...texts('m', 64), ...texts('m', 64).map((text) => `microtask after ${text}`)]);
    expect(new Set(buffers.map((buffer) => buffer.buffer)).size).toBe(1);
    // Views that do not overlap: each holds its own bytes.
    expect(buffers.map((buffer) => buffer.toString())).toEqual(texts('m', 64));
  });

  it('keeps stream order across batches with small, large and huge messages, pings and binary', async () => {
    const events: string[] = [];
    const { client } = await connect((ws) => {
      ws.on('message', (data: Buffer, isBinary: boolean) =>
        events.push(`${isBinary ? 'binary' : 'text'} ${data.length} ${data.subarray(0, 2).toString()}`),
      );
      ws.on('ping', (data: Buffer) => events.push(`ping ${data.toString()}`));
    });
    const large = 'L'.repeat(20 * 1024); // beyond the slab's per-message size: its own Buffer
    const huge = 'H'.repeat(100 * 1024); // handed over without a copy
    await client.send(
      Buffer.concat([
        frames.text('a1'),
        frames.text(large),
        frames.binary('b2'),
        frames.ping('p1'),
        frames.text(huge),
        frames.text('c3'),
      ]),
    );
    await client.send(Buffer.concat([frames.text('d4'), frames.ping('p2'), frames.binary('e5')]));
    await waitFor(() => events.length === 9, WAIT_MS, 'every event');
    expect(events).toEqual([
      'text 2 a1',
      `text ${large.length} LL`,
      'binary 2 b2',
      'ping p1',
      `text ${huge.length} HH`,
      'text 2 c3',
      'text 2 d4',
      'ping p2',
      'binary 2 e5',
    ]);
    // Every ping was answered in its place among the replies (none here but the pongs).
    const pongs = await client.readMessages(2);
    expect(pongs.map((pong) => `${pong.opcode} ${pong.data.toString()}`)).toEqual([
      `${OPCODE.PONG} p1`,
      `${OPCODE.PONG} p2`,
    ]);
  });

  it('answers interleaved pings in order with the replies to the messages around them', async () => {
    const { client } = await connect((ws) =>
      ws.on('message', (data: Buffer) => ws.send(`echo ${data.toString()}`)),
    );
    await client.send(
      Buffer.concat([
        frames.text('m0'),
        frames.ping('p0'),
        frames.text('m1'),
        frames.ping('p1'),
        frames.text('m2'),
      ]),
    );
    const replies = await client.readMessages(5);
    expect(
      replies.map((reply) => (reply.opcode === OPCODE.PONG ? `pong ${reply.data}` : reply.data.toString())),
    ).toEqual(['echo m0', 'pong p0', 'echo m1', 'pong p1', 'echo m2']);
  });

  it('sends from a listener to its own socket and to another one each reach their own peer, in order', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    const sockets: WebSocket[] = [];
    server.on('connection', (ws: WebSocket) => {
      const index = sockets.push(ws) - 1;
      ws.on('message', (data: Buffer) => {
        const other = sockets[1 - index];
        // Interleaved, so that each socket's replies and relays share its batch.
        ws.send(`self ${data.toString()}`);
        other?.send(`from ${index} ${data.toString()}`);
      });
    });
    cleanups.push(async () => {
      for (const ws of server.clients) ws.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as { port: number }).port;
    const first = await RawClient.open(port);
    cleanups.push(() => first.destroy());
    await waitFor(() => sockets.length === 1, WAIT_MS, 'the first connection');
    const second = await RawClient.open(port);
    cleanups.push(() => second.destroy());
    await waitFor(() => sockets.length === 2, WAIT_MS, 'the second connection');
    await first.send(batchOf(texts('a', 4)));
    const atFirst = (await first.readMessages(4)).map((reply) => reply.data.toString());
    const atSecond = (await second.readMessages(4)).map((reply) => reply.data.toString());
    expect(atFirst).toEqual(texts('a', 4).map((text) => `self ${text}`));
    expect(atSecond).toEqual(texts('a', 4).map((text) => `from 0 ${text}`));
    await second.send(batchOf(texts('b', 3)));
    expect((await second.readMessages(3)).map((reply) => reply.data.toString())).toEqual(
      texts('b', 3).map((text) => `self ${text}`),
    );
    expect((await first.readMessages(3)).map((reply) => reply.data.toString())).toEqual(
      texts('b', 3).map((text) => `from 1 ${text}`),
    );
  });

  it('sends a reply larger than any cork whole and in order between small ones', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    const { client } = await connect((ws) =>
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        ws.send(text === 'm2' ? big : `echo ${text}`);
      }),
    );
    await client.send(batchOf(texts('m', 5)));
    const replies = await client.readMessages(5);
    expect(replies.map((reply) => reply.data.length)).toEqual([7, 7, big.length, 7, 7]);
    expect(replies[2]!.data.equals(big)).toBe(true);
    expect(replies.filter((_, i) => i !== 2).map((reply) => reply.data.toString())).toEqual([
      'echo m0',
      'echo m1',
      'echo m3',
      'echo m4',
    ]);
  });
});

describe('pause() and resume() inside a batch', () => {
  it('stops delivery at the message it was called in; later reads wait too; resume() delivers the rest in order', async () => {
    const events: string[] = [];
    const { client, ws } = await connect((socket) => {
      socket.on('message', (data: Buffer) => {
        events.push(data.toString());
        if (data.toString() === 'm3') socket.pause();
      });
      socket.on('ping', (data: Buffer) => events.push(`ping ${data.toString()}`));
    });
    await client.send(batchOf(texts('m', 10)));
    await waitFor(() => events.length === 4, WAIT_MS, 'the messages up to the pause');
    await client.send(Buffer.concat([frames.text('n0'), frames.ping('p'), frames.text('n1')]));
    await turns(20);
    expect(events).toEqual(texts('m', 4));
    expect(ws().isPaused).toBe(true);

    ws().resume();
    expect(events).toEqual(texts('m', 4)); // delivered on a later tick, not inside resume()
    await waitFor(() => events.length === 13, WAIT_MS, 'the rest');
    expect(events).toEqual([...texts('m', 10), 'n0', 'ping p', 'n1']);
  });

  it('a pause() undone by resume() in the same listener does not interrupt the batch', async () => {
    const events: string[] = [];
    const { client } = await connect((socket) =>
      socket.on('message', (data: Buffer) => {
        events.push(data.toString());
        socket.pause();
        socket.resume();
      }),
    );
    await client.send(batchOf(texts('m', 8)));
    await waitFor(() => events.length === 8, WAIT_MS, 'every message');
    expect(events).toEqual(texts('m', 8));
  });

  it('pausing again while the held messages are delivered holds the remainder again', async () => {
    const events: string[] = [];
    const { client, ws } = await connect((socket) =>
      socket.on('message', (data: Buffer) => {
        events.push(data.toString());
        if (data.toString() === 'm1' || data.toString() === 'm4') socket.pause();
      }),
    );
    await client.send(batchOf(texts('m', 7)));
    await waitFor(() => events.length === 2, WAIT_MS, 'm0 and m1');
    ws().resume();
    await waitFor(() => events.length === 5, WAIT_MS, 'up to m4');
    await turns(10);
    expect(events).toEqual(texts('m', 5));
    ws().resume();
    await waitFor(() => events.length === 7, WAIT_MS, 'the rest');
    expect(events).toEqual(texts('m', 7));
  });
});

describe('closing from a listener in the middle of a batch', () => {
  it('close(): nothing is sent after the close frame; the rest is still delivered, as in ws', async () => {
    const results: string[] = [];
    const { client } = await connect((ws) =>
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        results.push(`${text} ${ws.send(`echo ${text}`)}`);
        if (text === 'm2') ws.close(4000, 'enough');
      }),
    );
    await client.send(batchOf(texts('m', 6)));
    const close = await client.waitForCloseFrame();
    expect(close.before.map((message) => message.data.toString())).toEqual(['echo m0', 'echo m1', 'echo m2']);
    expect(closeCodeOf(close)).toBe(4000);
    expect(results).toEqual(['m0 ok', 'm1 ok', 'm2 ok', 'm3 dropped', 'm4 dropped', 'm5 dropped']);
    await client.send(frames.close(1000));
    expect(await client.readUntilTcpClose()).toEqual({ bytes: Buffer.alloc(0), end: 'fin' });
  });

  it('terminate(): the rest of the batch is not delivered, and what was sent before goes out', async () => {
    const events: string[] = [];
    let closeCode = 0;
    const { client } = await connect((ws) => {
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        events.push(text);
        ws.send(`echo ${text}`);
        if (text === 'm2') ws.terminate();
      });
      ws.on('close', (code: number) => (closeCode = code));
    });
    await client.send(batchOf(texts('m', 6)));
    const { bytes } = await client.readUntilTcpClose();
    expect(events).toEqual(texts('m', 3));
    await waitFor(() => closeCode !== 0, WAIT_MS, "'close'");
    expect(closeCode).toBe(1006);
    expect(parseServerFrames(bytes).map((frame) => frame.payload.toString())).toEqual([
      'echo m0',
      'echo m1',
      'echo m2',
    ]);
  });
});

describe('the end of the stream in the same read as messages', () => {
  const echo = (ws: WebSocket) => ws.on('message', (data: Buffer) => ws.send(`echo ${data.toString()}`));

  it("the peer's close frame: the messages before it are answered, then our close frame, then FIN", async () => {
    const { client } = await connect(echo);
    await client.send(Buffer.concat([batchOf(texts('m', 3)), frames.close(1000)]));
    const { bytes, end } = await client.readUntilTcpClose();
    const sent = parseServerFrames(bytes);
    expect(sent.map((frame) => frame.payload.toString('hex'))).toEqual([
      ...texts('m', 3).map((text) => Buffer.from(`echo ${text}`).toString('hex')),
      '03e8',
    ]);
    expect(sent.at(-1)!.opcode).toBe(OPCODE.CLOSE);
    expect(end).toBe('fin');
  });

  it('a protocol error: the messages before it are answered, then the close frame 1002', async () => {
    const errors: string[] = [];
    const { client } = await connect((ws) => {
      echo(ws);
      ws.on('error', (error: Error & { code?: string }) => errors.push(error.code ?? ''));
    });
    await client.send(Buffer.concat([batchOf(texts('m', 3)), frames.text('bad', { rsv2: true })]));
    const close = await client.waitForCloseFrame();
    expect(close.before.map((message) => message.data.toString())).toEqual(
      texts('m', 3).map((text) => `echo ${text}`),
    );
    expect(closeCodeOf(close)).toBe(1002);
    expect(errors).toEqual(['WS_ERR_UNEXPECTED_RSV_2_3']);
  });
});

describe('held events when the connection ends', () => {
  it("closeTimeout while paused: the held message and the peer's close code are delivered before 'close'", async () => {
    const events: string[] = [];
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1', closeTimeout: 300 });
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    server.on('connection', (ws: WebSocket) => {
      ws.on('message', (data: Buffer) => {
        events.push(data.toString());
        if (data.toString() === 'm0') {
          ws.pause();
          ws.close(4000);
        }
      });
      ws.on('close', (code: number) => events.push(`close ${code}`));
    });
    await new Promise((resolve) => server.once('listening', resolve));
    const client = await RawClient.open((server.address() as { port: number }).port);
    cleanups.push(() => client.destroy());
    await client.send(Buffer.concat([frames.text('m0'), frames.text('m1'), frames.close(4001)]));
    expect(closeCodeOf(await client.waitForCloseFrame())).toBe(4000);
    client.destroy();
    await waitFor(() => events.some((event) => event.startsWith('close')), WAIT_MS, "'close'");
    expect(events).toEqual(['m0', 'm1', 'close 4001']);
  });

  it('terminate() while paused drops what is held', async () => {
    const events: string[] = [];
    const { client, ws } = await connect((socket) => {
      socket.on('message', (data: Buffer) => {
        events.push(data.toString());
        if (data.toString() === 'm0') socket.pause();
      });
      socket.on('close', (code: number) => events.push(`close ${code}`));
    });
    await client.send(batchOf(texts('m', 3)));
    await waitFor(() => events.length === 1, WAIT_MS, 'm0');
    ws().terminate();
    await waitFor(() => events.length === 2, WAIT_MS, "'close'");
    await turns(5);
    expect(events).toEqual(['m0', 'close 1006']);
  });
});

describe('a listener that throws in the middle of a batch', () => {
  it('reaches the process once; every message is still delivered in order, and the connection goes on', async () => {
    const result = await runChild('../../websocket/fixtures/throwing-message-listener.mjs', [], 20_000);
    expect(result.stderr).toBe('');
    const outcome = JSON.parse(result.stdout.trim()) as {
      delivered: string[];
      uncaught: string[];
      replies: string[];
    };
    expect(outcome.uncaught).toEqual(['boom at m3']);
    expect(outcome.delivered).toEqual([...texts('m', 10), 'after']);
    expect(outcome.replies).toEqual([...texts('m', 10), 'after'].map((text) => `echo ${text}`));
  });
});

describe('cork(callback)', () => {
  const writeThroughs = () => EventBase.default().stats().writeThroughs;

  it('outside a batch: ten sends in one write; without it, ten writes', async () => {
    const { client, ws } = await connect(() => {});
    const corked = writeThroughs();
    const returned = ws().cork(() => {
      for (let i = 0; i < 10; i++) ws().send(`c${i}`);
      return 'value';
    });
    expect(returned).toBe('value');
    expect(writeThroughs() - corked).toBe(1);
    const plain = writeThroughs();
    for (let i = 0; i < 10; i++) ws().send(`p${i}`);
    expect(writeThroughs() - plain).toBe(10);
    const received = await client.readMessages(20);
    expect(received.map((message) => message.data.toString())).toEqual([
      ...texts('c', 10),
      ...texts('p', 10),
    ]);
  });

  it('a callback that throws still uncorks: what it sent leaves, and the exception propagates', async () => {
    const { client, ws } = await connect(() => {});
    expect(() =>
      ws().cork(() => {
        ws().send('before');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect((await client.readMessage()).data.toString()).toBe('before');
    expect(ws().bufferedAmount).toBe(0);
  });

  it('nested, inside a message listener, after close() and with a non-function', async () => {
    const { client, ws } = await connect((socket) =>
      socket.on('message', (data: Buffer) => socket.cork(() => socket.send(`echo ${data.toString()}`))),
    );
    ws().cork(() => ws().cork(() => ws().send('nested')));
    await client.send(batchOf(['a', 'b']));
    expect((await client.readMessages(3)).map((message) => message.data.toString())).toEqual([
      'nested',
      'echo a',
      'echo b',
    ]);
    expect(() => ws().cork(42 as unknown as () => void)).toThrow(
      expect.objectContaining({ code: 'WS_ERR_INVALID_CALLBACK', name: 'TypeError' }),
    );
    ws().close(1000);
    expect(ws().cork(() => ws().send('late'))).toBe('dropped');
    expect(closeCodeOf(await client.waitForCloseFrame())).toBe(1000);
  });
});
