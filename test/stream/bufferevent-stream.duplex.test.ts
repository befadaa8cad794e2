// Bufferevent.toStream(): Node's stream expectations (pipeline, backpressure, half-close, errors).
import { createHash } from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Bufferevent, BuffereventError, EV } from '../../src/index.ts';
import { liveCounts, tcpPair, turns, waitFor } from '../helpers.ts';

function pattern(size: number): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + (i >>> 8)) & 0xff;
  return data;
}

const sha1 = (data: Buffer): string => createHash('sha1').update(data).digest('hex');

async function nodeServer(
  onConnection: (socket: net.Socket) => void,
): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer(onConnection);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as net.AddressInfo).port };
}

async function connectedStream(port: number, options: Parameters<typeof Bufferevent.socket>[0] = {}) {
  const bev = Bufferevent.socket(options);
  const stream = bev.toStream();
  bev.connect({ host: '127.0.0.1', port });
  await once(stream, 'connect');
  return { bev, stream };
}

describe.each([
  ['defaults', {}],
  ['larger reads and write-through', { maxReadPerWakeup: 65536, writeThrough: true }],
])('toStream() with %s', (_name, options) => {
  const start = liveCounts();
  afterEach(async () => {
    await turns(3);
    expect(liveCounts()).toEqual(start);
  });

  it('pipes 8 MiB through a node:net echo server and back intact', async () => {
    const { server, port } = await nodeServer((socket) => socket.pipe(socket));
    const { stream } = await connectedStream(port, options);
    const data = pattern(8 * 1024 * 1024);
    const chunks: Buffer[] = [];
    const collect = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    });
    await Promise.all([
      pipeline(stream, collect),
      pipeline(Readable.from([data.subarray(0, 4 << 20), data.subarray(4 << 20)]), stream),
    ]);
    expect(sha1(Buffer.concat(chunks))).toBe(sha1(data));
    server.close();
  });

  it('stops reading while the consumer is slow and loses nothing', async () => {
    const total = 4 * 1024 * 1024;
    const data = pattern(total);
    const { server, port } = await nodeServer((socket) => socket.end(data));
    const { bev, stream } = await connectedStream(port, options);
    const chunks: Buffer[] = [];
    const disable = vi.spyOn(bev, 'disable');
    const slow = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        // The input is always drained into the stream: nothing piles up above a watermark in libevent.
        if (!bev.freed) expect(bev.input.length).toBe(0);
        setTimeout(callback, 1);
      },
    });
    await pipeline(stream, slow);
    expect(disable).toHaveBeenCalledWith(EV.READ);
    expect(sha1(Buffer.concat(chunks))).toBe(sha1(data));
    server.close();
  });

  it('maps end() to a write shutdown and keeps reading (half-close)', async () => {
    const { server, port } = await nodeServer((socket) => {
      const received: Buffer[] = [];
      socket.on('data', (chunk) => received.push(chunk));
      socket.on('end', () => socket.end(`got ${Buffer.concat(received).length} bytes`));
    });
    const bev = Bufferevent.socket(options);
    const stream = bev.toStream({ allowHalfOpen: true });
    bev.connect({ host: '127.0.0.1', port });
    await once(stream, 'connect');
    stream.end(pattern(100_000));
    const reply: Buffer[] = [];
    for await (const chunk of stream) reply.push(chunk as Buffer);
    expect(Buffer.concat(reply).toString()).toBe('got 100000 bytes');
    stream.destroy();
    server.close();
  });

  it('destroys the stream with a coded error when the connection is refused', async () => {
    const { server, port } = await nodeServer(() => {});
    server.close();
    await once(server, 'close');
    const bev = Bufferevent.socket(options);
    const stream = bev.toStream();
    bev.connect({ host: '127.0.0.1', port });
    const [error] = (await once(stream, 'error')) as [BuffereventError];
    expect(error).toBeInstanceOf(BuffereventError);
    expect(error.code).toBe('ECONNREFUSED');
    expect(bev.freed).toBe(true);
  });
});

describe('toStream() on an accepted connection', () => {
  it('reads EOF as the end of the readable side', async () => {
    const { client, server } = await tcpPair();
    const stream = server.toStream();
    client.write('last words');
    await waitFor(() => client.output.length === 0);
    client.free();
    const received: Buffer[] = [];
    for await (const chunk of stream) received.push(chunk as Buffer);
    expect(Buffer.concat(received).toString()).toBe('last words');
    await waitFor(() => server.freed, 10_000, 'the stream to free its bufferevent');
  });
});
