// RedisChannelLayer across processes' worth of layers (two instances on one redis-server, each with
// its own connections, as two processes would have): groupSend and groupBroadcast reach the members
// of the other instance, once each and in order; subscriptions follow local membership.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisChannelLayer } from '../../src/channels/index.ts';
import type { ChannelMessage, RedisChannelLayerOptions } from '../../src/channels/index.ts';
import { startDelayingProxy } from './delaying-proxy.ts';
import { FakeServer, type FakeSocket } from './fake-sockets.ts';
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

/** Two layers sharing a prefix, as two processes of one application (B through `urlOfB`). */
function pair(
  options: RedisChannelLayerOptions = {},
  urlOfB = server.url,
): [RedisChannelLayer, RedisChannelLayer] {
  const prefix = `g${randomBytes(6).toString('hex')}`;
  const make = (url: string): RedisChannelLayer => {
    const layer = new RedisChannelLayer({ ...options, url, prefix, logger: recordingLogger() });
    layers.push(layer);
    return layer;
  };
  return [make(server.url), make(urlOfB)];
}

/** A socket of a fake server on `layer`, bound to a new channel of it that joined `group`. */
async function memberSocket(
  layer: RedisChannelLayer,
  group: string,
): Promise<{ socket: FakeSocket; channel: string }> {
  const target = new FakeServer();
  layer.localSockets.addTarget(target);
  const socket = target.socket();
  const channel = await layer.newChannel();
  layer.localSockets.bind(channel, socket);
  await layer.groupAdd(group, channel);
  return { socket, channel };
}

async function expectNothingOn(layer: RedisChannelLayer, channel: string, ms = 300): Promise<void> {
  const controller = new AbortController();
  let received: ChannelMessage | undefined;
  const receiving = layer.receive(channel, { signal: controller.signal }).then(
    (message) => void (received = message),
    () => {},
  );
  await new Promise((resolve) => setTimeout(resolve, ms));
  controller.abort();
  await receiving;
  expect(received).toBeUndefined();
}

describe('RedisChannelLayer groups across two layers', () => {
  it("groupSend from A reaches B's process-specific members once each, in order, and A's own", async () => {
    const [a, b] = pair();
    const onB = [await b.newChannel(), await b.newChannel()];
    const onA = await a.newChannel();
    for (const channel of onB) await b.groupAdd('room', channel);
    await a.groupAdd('room', onA);
    await a.groupAdd('room', 'worker'); // an ordinary member, queued in Redis
    for (let n = 0; n < 20; n++) {
      // A counts what it delivered itself: its own member and the ordinary one, not B's.
      expect(await a.groupSend('room', { type: 'seq', n })).toEqual({ delivered: 2, dropped: 0 });
    }
    for (const channel of [...onB, onA]) {
      const owner = channel === onA ? a : b;
      const seen: unknown[] = [];
      for (let n = 0; n < 20; n++) seen.push((await owner.receive(channel)).n);
      expect(seen).toEqual([...Array(20).keys()]);
      await expectNothingOn(owner, channel);
    }
    // The ordinary member can be received by either process.
    expect((await b.receive('worker')).n).toBe(0);
    expect((await a.receive('worker')).n).toBe(1);
  });

  it('a layer joining a group right after it was created gets the very next group message', async () => {
    for (let round = 0; round < 5; round++) {
      const [sender, fresh] = pair();
      // Nothing awaited before the join: the layer's connections are still being made.
      const member = await fresh.newChannel();
      await fresh.groupAdd('early', member);
      expect(await sender.groupSend('early', { type: 'first', round })).toEqual({ delivered: 0, dropped: 0 });
      expect(await fresh.receive(member, { signal: AbortSignal.timeout(5_000) })).toEqual({
        type: 'first',
        round,
      });
    }
  });

  it('subscribes to a group topic only while the layer has a member of its own there', async () => {
    const [a, b] = pair();
    const base = b.stats().subscriptions;
    const one = await b.newChannel();
    const two = await b.newChannel();
    await b.groupAdd('room', one);
    await b.groupAdd('room', two);
    await b.groupAdd('other', one);
    expect(b.stats().subscriptions).toBe(base + 2);
    await a.groupAdd('room', 'ordinary'); // ordinary members are queued in Redis: no subscription
    expect(a.stats().subscriptions).toBe(base);
    await b.groupDiscard('room', one);
    expect(b.stats().subscriptions).toBe(base + 2);
    await b.groupDiscard('room', two);
    await b.groupDiscard('other', one);
    expect(b.stats().subscriptions).toBe(base);
    expect(await a.groupSend('room', { type: 'x' })).toEqual({ delivered: 1, dropped: 0 });
    await expectNothingOn(b, one);
  });

  it("a full member's local buffer drops group messages and counts them, never throws", async () => {
    const [a, b] = pair({ capacity: 2 });
    const member = await b.newChannel();
    await b.groupAdd('room', member);
    for (let n = 0; n < 5; n++) await a.groupSend('room', { type: 'seq', n });
    await expect.poll(() => b.stats().droppedLocally, { timeout: 5_000 }).toBe(3);
    expect((await b.receive(member)).n).toBe(0);
    expect((await b.receive(member)).n).toBe(1);
    await expectNothingOn(b, member);
  });

  it('expiry and groupExpiry hold for process-specific members delivered by their own process', async () => {
    const [a, b] = pair({ expiry: 1, groupExpiry: 2 });
    const member = await b.newChannel();
    await b.groupAdd('room', member);
    const base = b.stats().subscriptions;
    await a.groupSend('room', { type: 'stale' });
    await expect.poll(() => b.stats().bufferedMessages, { timeout: 5_000 }).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await expectNothingOn(b, member); // expired in the local buffer
    await new Promise((resolve) => setTimeout(resolve, 900));
    // The membership has lapsed: the next payload prunes it and B leaves the group topic.
    await a.groupSend('room', { type: 'too-late' });
    await expect.poll(() => b.stats().memberships, { timeout: 5_000 }).toBe(0);
    expect(b.stats().subscriptions).toBe(base - 1);
    await expectNothingOn(b, member);
  });

  it("groupDiscard and flush from A reach B's own memberships", async () => {
    const [a, b] = pair();
    const member = await b.newChannel();
    const kept = await b.newChannel();
    await b.groupAdd('room', member);
    await b.groupAdd('room', kept);
    await a.groupDiscard('room', member);
    await expect.poll(() => b.stats().memberships, { timeout: 5_000 }).toBe(1);
    await a.groupSend('room', { type: 'after-discard' });
    expect(await b.receive(kept)).toEqual({ type: 'after-discard' });
    await expectNothingOn(b, member);
    await a.flush();
    await expect.poll(() => b.stats().memberships, { timeout: 5_000 }).toBe(0);
    await a.groupSend('room', { type: 'after-flush' });
    await expectNothingOn(b, kept);
  });

  it("groupBroadcast from A reaches B's bound sockets once, and A's at once, counting A's", async () => {
    const [a, b] = pair();
    const serverA = new FakeServer();
    const serverB = new FakeServer();
    a.localSockets.addTarget(serverA);
    b.localSockets.addTarget(serverB);
    const socketA = serverA.socket();
    const socketsB = [serverB.socket(), serverB.socket(), serverB.socket()];
    const outsider = serverB.socket();
    const channelA = await a.newChannel();
    a.localSockets.bind(channelA, socketA);
    await a.groupAdd('room', channelA);
    for (const socket of socketsB) {
      const channel = await b.newChannel();
      b.localSockets.bind(channel, socket);
      await b.groupAdd('room', channel);
    }
    const outsiderChannel = await b.newChannel();
    b.localSockets.bind(outsiderChannel, outsider);
    await b.groupAdd('elsewhere', outsiderChannel);

    expect(await a.groupBroadcast('room', 'hello')).toEqual({ delivered: 1, skipped: 0 });
    expect(socketA.received).toEqual([{ text: 'hello', binary: false }]);
    expect(await a.groupBroadcast('room', Buffer.from('bytes'))).toEqual({ delivered: 1, skipped: 0 });
    await expect.poll(() => socketsB.map((s) => s.received.length), { timeout: 5_000 }).toEqual([2, 2, 2]);
    for (const socket of socketsB)
      expect(socket.received).toEqual([
        { text: 'hello', binary: false },
        { text: 'bytes', binary: true },
      ]);
    // A's copy coming back from Redis was skipped; nobody outside the group got anything.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(socketA.received).toHaveLength(2);
    expect(outsider.received).toEqual([]);
    expect(serverA.publishes).toBe(2);
  });

  it('a socket bound on a layer whose pub/sub connection is still being made gets the next broadcast', async () => {
    // B's command connection is ready at once and its pub/sub connection 300 ms later, so groupAdd
    // runs in between: it must not resolve before B subscribed to the group's topic.
    const proxy = await startDelayingProxy(server.port, 300);
    try {
      const [a, b] = pair({}, proxy.url);
      const { socket } = await memberSocket(b, 'room');
      await a.groupBroadcast('room', 'right after');
      await expect.poll(() => socket.received.length, { timeout: 5_000 }).toBe(1);
      expect(socket.received).toEqual([{ text: 'right after', binary: false }]);
    } finally {
      for (const layer of layers.splice(0)) await layer.close();
      await proxy.close();
    }
  });

  it("a socket's group topic follows its channel's membership (discard stops broadcasts)", async () => {
    const [a, b] = pair();
    const { socket, channel } = await memberSocket(b, 'room');
    await a.groupBroadcast('room', 'one');
    await expect.poll(() => socket.received.length, { timeout: 5_000 }).toBe(1);
    await b.groupDiscard('room', channel);
    expect(socket.topics.size).toBe(0);
    await a.groupBroadcast('room', 'two');
    await a.groupAdd('room', 'probe'); // something after 'two' on the same server, to wait on
    await a.groupSend('room', { type: 'probe' });
    expect(await b.receive('probe')).toEqual({ type: 'probe' });
    expect(socket.received.map((m) => m.text)).toEqual(['one']);
  });
});
