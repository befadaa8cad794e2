// What is specific to RedisChannelLayer on one server: the message size limit, capacity enforced
// atomically under concurrent senders, aborted receivers losing nothing, options, a server that is
// not there (bounded waits, coded errors), and no handle left after close().
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChannelFull, RedisChannelLayer } from '../../src/channels/index.ts';
import type { ChannelMessage, RedisChannelLayerOptions } from '../../src/channels/index.ts';
import { recordingLogger, startRedisServer, type RedisServer } from './redis-server.ts';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
});

const layers: RedisChannelLayer[] = [];
afterEach(async () => {
  for (const layer of layers.splice(0)) await layer.close();
});

function make(options: RedisChannelLayerOptions = {}, prefix = `l${randomBytes(6).toString('hex')}`) {
  const layer = new RedisChannelLayer({ url: server.url, prefix, logger: recordingLogger(), ...options });
  layers.push(layer);
  return layer;
}

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
  return 'resolved';
}

const tcpHandles = (): number =>
  process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap' || kind === 'ConnectWrap')
    .length;

describe('RedisChannelLayer limits', () => {
  it('refuses messages over maxMessageBytes with ERR_CHANNEL_MESSAGE_TOO_LARGE, queuing nothing', async () => {
    const layer = make({ maxMessageBytes: 1024 });
    await layer.groupAdd('g', 'member');
    const big = { type: 'big', text: 'x'.repeat(1100) };
    for (const call of [
      layer.send('member', big),
      layer.groupSend('g', big),
      layer.groupBroadcast('g', 'y'.repeat(1025)),
      layer.groupBroadcast('g', new Uint8Array(2000)),
    ]) {
      const error = await call.then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(RangeError);
      expect((error as { code: string }).code).toBe('ERR_CHANNEL_MESSAGE_TOO_LARGE');
      expect(String(error)).toMatch(/over this Redis channel layer's maxMessageBytes \(1024\)/);
    }
    // Multi-byte characters count as bytes, not characters.
    expect(await codeOf(layer.send('member', { type: 't', text: 'é'.repeat(600) }))).toBe(
      'ERR_CHANNEL_MESSAGE_TOO_LARGE',
    );
    await layer.send('member', { type: 'fits', text: 'x'.repeat(900) });
    expect((await layer.receive('member')).type).toBe('fits');
    // The default limit is 1 MiB.
    const defaults = make();
    expect(await codeOf(defaults.send('c', { type: 'big', text: 'x'.repeat(1024 * 1024) }))).toBe(
      'ERR_CHANNEL_MESSAGE_TOO_LARGE',
    );
  });

  it('enforces capacity atomically under concurrent senders of two layers', async () => {
    const prefix = `c${randomBytes(6).toString('hex')}`;
    const a = make({ capacity: 10 }, prefix);
    const b = make({ capacity: 10 }, prefix);
    const sends = [];
    for (let n = 0; n < 60; n++) sends.push((n % 2 === 0 ? a : b).send('bounded', { type: 'n', n }));
    const outcomes = await Promise.allSettled(sends);
    const queued = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(queued).toHaveLength(10);
    expect(refused).toHaveLength(50);
    for (const outcome of refused)
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(ChannelFull);
    const received = new Set<unknown>();
    for (let i = 0; i < 10; i++) received.add((await a.receive('bounded')).n);
    expect(received.size).toBe(10);
    await b.send('bounded', { type: 'room-again' });
    expect(await a.receive('bounded')).toEqual({ type: 'room-again' });
  });

  it('loses no message to a receiver that aborts, whenever it aborts', async () => {
    const prefix = `a${randomBytes(6).toString('hex')}`;
    const receiver = make({}, prefix);
    const sender = make({}, prefix);
    const got: number[] = [];
    const total = 60;
    for (let n = 0; n < total; n++) {
      const controller = new AbortController();
      const receiving = receiver.receive('abortable', { signal: controller.signal }).then(
        (message) => void got.push(message.n as number),
        (error: unknown) => expect(error).toBe(controller.signal.reason),
      );
      // Abort before, while and after the message travels (and the pop is in flight).
      if (n % 3 === 0) controller.abort();
      const sending = sender.send('abortable', { type: 'n', n });
      if (n % 3 === 1) controller.abort();
      await sending;
      if (n % 3 === 2) {
        await new Promise((resolve) => setTimeout(resolve, n % 2));
        controller.abort();
      }
      await receiving;
    }
    while (got.length < total) got.push((await receiver.receive('abortable')).n as number);
    expect(got.sort((x, y) => x - y)).toEqual([...Array(total).keys()]);
    expect(receiver.stats()).toMatchObject({ waitingReceivers: 0, bufferedMessages: 0 });
  });

  it('hands a message popped for a receiver that aborted meanwhile to the next receiver', async () => {
    const layer = make();
    const raw = new Redis(server.url);
    try {
      // A receiver on another channel of the layer keeps the shared wake topic subscribed.
      const other = await layer.newChannel();
      const otherController = new AbortController();
      const otherReceiving = layer.receive(other, { signal: otherController.signal }).catch(() => {});
      const channel = await layer.newChannel();
      await layer.send(channel, { type: 'precious' });
      await expect.poll(() => layer.stats().subscriptions, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
      // Holds scripts (the pop) on the server while the receiver gives up.
      await raw.call('CLIENT', 'PAUSE', '400', 'WRITE');
      const controller = new AbortController();
      const abandoned = layer.receive(channel, { signal: controller.signal });
      await new Promise((resolve) => setTimeout(resolve, 100));
      controller.abort(new Error('gave up'));
      await expect(abandoned).rejects.toThrow('gave up');
      await expect.poll(() => layer.stats().bufferedMessages, { timeout: 5_000 }).toBe(1);
      expect(await layer.receive(channel)).toEqual({ type: 'precious' });
      expect(layer.stats().bufferedMessages).toBe(0);
      otherController.abort();
      await otherReceiving;
    } finally {
      raw.disconnect();
    }
  });

  it('refuses invalid options with ERR_CHANNEL_INVALID_OPTION, before connecting', () => {
    const before = tcpHandles();
    const bad: unknown[] = [
      { prefix: '' },
      { prefix: 'a:b' },
      { prefix: 'x'.repeat(65) },
      { prefix: 5 },
      { maxMessageBytes: 0 },
      { maxMessageBytes: 1.5 },
      { maxMessageBytes: '1024' },
      { url: 'http://127.0.0.1:6379' },
      { url: 6379 },
      { timeout: 0 },
      { timeout: -1 },
      { maxReconnectDelay: Number.NaN },
      { logger: {} },
      { capacity: 0 },
      { expiry: -1 },
      null,
    ];
    for (const options of bad) {
      let code: unknown;
      try {
        new RedisChannelLayer(options as RedisChannelLayerOptions);
      } catch (error) {
        code = (error as { code?: unknown }).code;
      }
      expect(code, JSON.stringify(options)).toBe('ERR_CHANNEL_INVALID_OPTION');
    }
    expect(tcpHandles()).toBe(before);
  });
});

describe('RedisChannelLayer without a server', () => {
  it('rejects calls with ERR_CHANNEL_LAYER_UNAVAILABLE after `timeout`, keeps receivers waiting, closes cleanly', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    // Sockets of the layers closed by earlier tests may still be finishing.
    await expect.poll(tcpHandles, { timeout: 5_000 }).toBe(0);
    const logger = recordingLogger();
    const layer = new RedisChannelLayer({ url: `redis://127.0.0.1:${port}`, timeout: 0.5, logger });
    let receiverOutcome: unknown = 'waiting';
    const receiving = layer.receive('c').then(
      () => (receiverOutcome = 'resolved'),
      (error: unknown) => (receiverOutcome = (error as { code?: unknown }).code),
    );
    const started = Date.now();
    const calls = [
      layer.send('c', { type: 'x' }),
      layer.groupAdd('g', 'c'),
      layer.groupSend('g', { type: 'x' }),
      layer.groupBroadcast('g', 'x'),
      layer.flush(),
    ];
    for (const call of calls) expect(await codeOf(call)).toBe('ERR_CHANNEL_LAYER_UNAVAILABLE');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(5_000);
    const error = await layer.send('c', { type: 'x' }).catch((reason: unknown) => reason);
    expect(String(error)).toMatch(/not connected to redis:\/\/127\.0\.0\.1:\d+ for 500 ms/);
    expect(layer.stats()).toMatchObject({ available: false, reconnects: 0, waitingReceivers: 1 });
    expect(receiverOutcome).toBe('waiting');
    await layer.close();
    await receiving;
    expect(receiverOutcome).toBe('ERR_CHANNEL_LAYER_CLOSED');
    await expect.poll(tcpHandles, { timeout: 5_000 }).toBe(0);
  });

  it('leaves no connection open after close()', async () => {
    await expect.poll(tcpHandles, { timeout: 5_000 }).toBe(0);
    const layer = new RedisChannelLayer({ url: server.url, prefix: 'leak', logger: recordingLogger() });
    const channel = await layer.newChannel();
    await layer.groupAdd('g', channel);
    await layer.send(channel, { type: 'x' });
    const message: ChannelMessage = await layer.receive(channel);
    expect(message).toEqual({ type: 'x' });
    expect(tcpHandles()).toBe(2); // commands and pub/sub
    await layer.close();
    await expect.poll(tcpHandles, { timeout: 5_000 }).toBe(0);
  });
});
