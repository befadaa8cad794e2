// Automatic corking: the replies a connection's handlers send while one read's batch of frames is
// delivered leave together in one write at the end of the batch, in order with the automatic pongs
// and the close frame; a lone send outside a batch still goes out at once, and a send to another
// connection during the batch is not held. The raw client writes each batch of frames in one
// write, so the server reads it in one read; `stats().writeThroughs` counts the server's writes.
import { describe, expect, it } from 'vitest';
import { EventBase } from '../../src/index.ts';
import { WebSocket, WebSocketServer, type ServerOptions } from '../../src/websocket/index.ts';
import { checkNothingLeaksAfterEach, turns, waitFor } from '../helpers.ts';
import {
  RawClient,
  WAIT_MS,
  closeCodeOf,
  frames,
  OPCODE,
  parseServerFrames,
} from './conformance/raw-client.ts';
import { batchOf, deferCleanups, texts } from './batch-fixtures.ts';

checkNothingLeaksAfterEach({ fds: true });

const writeThroughs = () => EventBase.default().stats().writeThroughs;
const callbacks = () => EventBase.default().stats().callbacks;

const cleanups = deferCleanups();

/** A server whose connections get `onConnection`; resolves with its port and accepted sockets. */
async function startServer(
  onConnection: (ws: WebSocket) => void,
  options: ServerOptions = {},
): Promise<{ port: number; sockets: WebSocket[]; server: WebSocketServer }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  const sockets: WebSocket[] = [];
  server.on('connection', (ws: WebSocket) => {
    sockets.push(ws);
    onConnection(ws);
  });
  cleanups.push(async () => {
    for (const ws of server.clients) ws.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  await new Promise((resolve) => server.once('listening', resolve));
  return { port: (server.address() as { port: number }).port, sockets, server };
}

async function openClient(port: number): Promise<RawClient> {
  const client = await RawClient.open(port);
  cleanups.push(() => client.destroy());
  return client;
}

const echo = (ws: WebSocket) =>
  ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));

describe('replies sent while a batch is delivered', () => {
  it('16 replies to one 16-frame read cost one write; a lone send outside a batch writes at once', async () => {
    const { port, sockets } = await startServer(echo);
    const client = await openClient(port);
    await waitFor(() => sockets.length === 1, WAIT_MS, 'the connection');
    const before = writeThroughs();
    const callbacksBefore = callbacks();
    await client.send(batchOf(texts('m', 16)));
    const replies = await client.readMessages(16);
    expect(replies.map((reply) => reply.data.toString())).toEqual(texts('m', 16));
    expect(writeThroughs() - before).toBe(1);
    // Everything left at once and nobody waits for 'drain': the write event is not re-armed, so the
    // read is the only libevent callback (a re-armed write event would call back on the next pass).
    await turns(3);
    expect(callbacks() - callbacksBefore).toBe(1);

    const lone = writeThroughs();
    expect(sockets[0]!.send('lone')).toBe('ok');
    expect(writeThroughs() - lone).toBe(1);
    expect(sockets[0]!.bufferedAmount).toBe(0);
    expect((await client.readMessage()).data.toString()).toBe('lone');
  });

  it('keep their order across batches, with several replies per message and the pongs in place', async () => {
    const { port } = await startServer((ws) => {
      ws.on('message', (data: Buffer) => {
        ws.send(`${data.toString()}:a`);
        ws.send(`${data.toString()}:b`);
      });
    });
    const client = await openClient(port);
    const expected: string[] = [];
    for (let batch = 0; batch < 3; batch++) {
      const parts: Buffer[] = [];
      for (let i = 0; i < 5; i++) {
        parts.push(frames.text(`${batch}.${i}`));
        expected.push(`${batch}.${i}:a`, `${batch}.${i}:b`);
        if (i % 2 === 1) {
          parts.push(frames.ping(`p${batch}.${i}`));
          expected.push(`pong p${batch}.${i}`);
        }
      }
      await client.send(Buffer.concat(parts));
    }
    const received = await client.readMessages(expected.length);
    const described = received.map((message) =>
      message.opcode === OPCODE.PONG ? `pong ${message.data.toString()}` : message.data.toString(),
    );
    expect(described).toEqual(expected);
  });

  it('count in bufferedAmount until the batch ends; callbacks and drain come after it left', async () => {
    const amounts: number[] = [];
    const results: string[] = [];
    const events: string[] = [];
    const { port } = await startServer(
      (ws) => {
        ws.on('message', (data: Buffer) => {
          // 18 bytes each on the wire: a 2-byte header and a 16-byte payload.
          results.push(
            ws.send(data.toString().padEnd(16, '.'), (error) => events.push(`callback ${error ?? 'ok'}`)),
          );
          amounts.push(ws.bufferedAmount);
        });
        ws.on('drain', () => events.push(`drain ${ws.bufferedAmount}`));
      },
      { backpressureBytes: 40 },
    );
    const client = await openClient(port);
    await client.send(batchOf(texts('m', 3)));
    expect((await client.readMessages(3)).map((reply) => reply.data.toString())).toEqual(
      texts('m', 3).map((text) => text.padEnd(16, '.')),
    );
    expect(amounts).toEqual([18, 36, 54]);
    expect(results).toEqual(['ok', 'ok', 'backpressure']);
    await waitFor(() => events.length === 4, WAIT_MS, 'the callbacks and drain');
    expect(events).toEqual(['callback ok', 'callback ok', 'callback ok', 'drain 0']);
  });

  it('do not hold a send to another connection: it writes through at once', async () => {
    const seen: Array<{ otherQueued: number; otherWrites: number; ownQueued: number }> = [];
    const { port, sockets } = await startServer((ws) => {
      ws.on('message', (data: Buffer) => {
        const other = sockets.find((socket) => socket !== ws)!;
        const before = writeThroughs();
        other.send(`relayed ${data.toString()}`);
        const otherWrites = writeThroughs() - before;
        const otherQueued = other.bufferedAmount;
        ws.send(`own ${data.toString()}`);
        seen.push({ otherQueued, otherWrites, ownQueued: ws.bufferedAmount });
      });
    });
    const sender = await openClient(port);
    const receiver = await openClient(port);
    await waitFor(() => sockets.length === 2, WAIT_MS, 'both connections');
    await sender.send(batchOf(['x', 'y']));
    expect((await receiver.readMessages(2)).map((message) => message.data.toString())).toEqual([
      'relayed x',
      'relayed y',
    ]);
    expect((await sender.readMessages(2)).map((message) => message.data.toString())).toEqual([
      'own x',
      'own y',
    ]);
    expect(seen).toEqual([
      { otherQueued: 0, otherWrites: 1, ownQueued: 7 },
      { otherQueued: 0, otherWrites: 1, ownQueued: 14 },
    ]);
  });

  it("hold a publish reaching the batch's connection in order; other subscribers hold it to the pass's end", async () => {
    const otherQueued: number[] = [];
    const started = await startServer((ws) => {
      ws.subscribe('room');
      ws.on('message', (data: Buffer) => {
        ws.send(`before ${data.toString()}`);
        started.server.publish('room', `pub ${data.toString()}`);
        otherQueued.push(started.sockets.find((socket) => socket !== ws)!.bufferedAmount);
        ws.send(`after ${data.toString()}`);
      });
    });
    const sender = await openClient(started.port);
    const other = await openClient(started.port);
    await waitFor(() => started.sockets.length === 2, WAIT_MS, 'both connections');
    await sender.send(batchOf(['x', 'y']));
    expect((await sender.readMessages(6)).map((message) => message.data.toString())).toEqual([
      'before x',
      'pub x',
      'after x',
      'before y',
      'pub y',
      'after y',
    ]);
    expect((await other.readMessages(2)).map((message) => message.data.toString())).toEqual([
      'pub x',
      'pub y',
    ]);
    // Both publishes of the batch wait for the end of the pass (7 bytes each on the wire).
    expect(otherQueued).toEqual([7, 14]);
  });

  it('keep a reply larger than any cork whole and in order between small ones', async () => {
    const large = Buffer.alloc(1024 * 1024, 'L');
    const { port } = await startServer((ws) => {
      ws.on('message', (data: Buffer) => {
        ws.send(`before ${data.toString()}`);
        if (data.toString() === 'm1') ws.send(large);
        ws.send(`after ${data.toString()}`);
      });
    });
    const client = await openClient(port);
    await client.send(batchOf(texts('m', 3)));
    const received = await client.readMessages(7);
    expect(
      received.map((message) => (message.data.length > 100 ? 'large' : message.data.toString())),
    ).toEqual(['before m0', 'after m0', 'before m1', 'large', 'after m1', 'before m2', 'after m2']);
    expect(received[3]!.data.equals(large)).toBe(true);
  });
});

describe('closing inside a batch', () => {
  it('close(): the replies sent first, then the close frame, and nothing after it', async () => {
    const { port } = await startServer((ws) => {
      ws.on('message', (data: Buffer) => {
        ws.send(`reply ${data.toString()}`);
        if (data.toString() === 'm2') ws.close(1000, 'done');
      });
    });
    const client = await openClient(port);
    await client.send(batchOf(texts('m', 6)));
    const close = await client.waitForCloseFrame();
    expect(close.before.map((message) => message.data.toString())).toEqual([
      'reply m0',
      'reply m1',
      'reply m2',
    ]);
    expect(closeCodeOf(close)).toBe(1000);
    await client.send(frames.close(1000));
    const { bytes } = await client.readUntilTcpClose();
    expect(parseServerFrames(bytes)).toEqual([]);
  });

  it("the peer's close frame: the replies, our close frame, then our FIN once they left", async () => {
    const { port } = await startServer((ws) => {
      ws.on('message', (data: Buffer) => ws.send(`reply ${data.toString()}`));
    });
    const client = await openClient(port);
    await client.send(Buffer.concat([batchOf(texts('m', 2)), frames.close(1000)]));
    const { bytes, end } = await client.readUntilTcpClose();
    const received = parseServerFrames(bytes);
    expect(received.map((frame) => [frame.opcode, frame.payload.toString('hex')])).toEqual([
      [OPCODE.TEXT, Buffer.from('reply m0').toString('hex')],
      [OPCODE.TEXT, Buffer.from('reply m1').toString('hex')],
      [OPCODE.CLOSE, '03e8'],
    ]);
    expect(end).toBe('fin');
  });

  it('terminate(): the replies sent before it still leave, then the connection ends', async () => {
    const { port } = await startServer((ws) => {
      ws.on('message', (data: Buffer) => {
        ws.send(`reply ${data.toString()}`);
        if (data.toString() === 'm1') ws.terminate();
      });
    });
    const client = await openClient(port);
    await client.send(batchOf(texts('m', 6)));
    expect((await client.readMessages(2)).map((message) => message.data.toString())).toEqual([
      'reply m0',
      'reply m1',
    ]);
    const { bytes } = await client.readUntilTcpClose();
    expect(bytes.length).toBe(0);
  });
});
