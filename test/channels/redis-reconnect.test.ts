// RedisChannelLayer when redis-server dies (SIGKILL) and comes back on the same port: the layers
// reconnect by themselves, count and log it, re-subscribe their groups, keep their receivers
// waiting, refuse calls during the outage with a coded error after a bounded wait, and deliver
// nothing twice. The measured resume time is printed (see docs/channels.md).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisChannelLayer } from '../../src/channels/index.ts';
import type { ChannelMessage } from '../../src/channels/index.ts';
import { FakeServer } from './fake-sockets.ts';
import { recordingLogger, startRedisServer, type RedisServer } from './redis-server.ts';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
});

async function drainUntil(
  layer: RedisChannelLayer,
  channel: string,
  type: string,
): Promise<ChannelMessage[]> {
  const seen: ChannelMessage[] = [];
  for (;;) {
    const message = await layer.receive(channel);
    seen.push(message);
    if (message.type === type) return seen;
  }
}

it('reconnects by itself after redis-server is killed and restarted, re-subscribes, delivers nothing twice', async () => {
  const prefix = `r${randomBytes(6).toString('hex')}`;
  const logA = recordingLogger();
  const logB = recordingLogger();
  const a = new RedisChannelLayer({ url: server.url, prefix, timeout: 1, logger: logA });
  const b = new RedisChannelLayer({ url: server.url, prefix, timeout: 1, logger: logB });
  try {
    const member = await b.newChannel();
    await b.groupAdd('room', member);
    const sockets = new FakeServer();
    b.localSockets.addTarget(sockets);
    const socket = sockets.socket();
    b.localSockets.bind(member, socket, ['room']);
    for (let n = 0; n < 5; n++) {
      await a.send('work', { type: 'job', n });
      await a.groupSend('room', { type: 'before', n });
    }
    for (let n = 0; n < 5; n++) {
      expect(await b.receive('work')).toEqual({ type: 'job', n });
      expect(await b.receive(member)).toEqual({ type: 'before', n });
    }
    // Receivers waiting across the outage.
    const waitingWork = b.receive('work');
    const waitingMember = b.receive(member);

    await server.kill();
    const killedAt = Date.now();
    await expect.poll(() => a.stats().available || b.stats().available, { timeout: 10_000 }).toBe(false);
    // During the outage: a coded error after the bounded wait (timeout 1 s), not a hang.
    const refusedAt = Date.now();
    await expect(a.send('work', { type: 'lost' })).rejects.toMatchObject({
      code: 'ERR_CHANNEL_LAYER_UNAVAILABLE',
    });
    await expect(a.groupSend('room', { type: 'lost' })).rejects.toMatchObject({
      code: 'ERR_CHANNEL_LAYER_UNAVAILABLE',
    });
    expect(Date.now() - refusedAt).toBeLessThan(5_000);

    await server.restart();
    const restartedAt = Date.now();
    // Probe until a group message from A reaches B's member again (B has re-subscribed by then).
    let probes = 0;
    let resumed = false;
    void waitingMember.then(() => (resumed = true));
    while (!resumed) {
      if (Date.now() - restartedAt > 20_000) throw new Error('the layers did not resume within 20 s');
      await a.groupSend('room', { type: 'probe', k: probes++ }).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const resumeMs = Date.now() - restartedAt;
    console.log(
      `redis restart: first group message delivered ${resumeMs} ms after redis-server answered again ` +
        `(${Date.now() - killedAt} ms after the kill; ${probes} probes sent)`,
    );
    expect(resumeMs).toBeLessThan(20_000);
    expect(a.stats()).toMatchObject({ available: true, reconnects: 1, pubsubReconnects: 1 });
    expect(b.stats()).toMatchObject({ available: true, reconnects: 1, pubsubReconnects: 1 });
    for (const log of [logA, logB]) {
      expect(
        log.lines.filter((line) => /command connection to .* lost; reconnecting/.test(line)),
      ).toHaveLength(1);
      expect(
        log.lines.filter((line) => /command connection to .* is back after \d+ ms/.test(line)),
      ).toHaveLength(1);
      // Refused reconnection attempts are logged once per connection, not once per attempt.
      const refusals = log.lines.filter((line) => /ECONNREFUSED/.test(line)).length;
      expect(refusals).toBeGreaterThanOrEqual(1);
      expect(refusals).toBeLessThanOrEqual(2);
    }

    // After the first probe: later probes then one marker, each probe at most once, in order.
    const first = (await waitingMember) as ChannelMessage;
    expect(first.type).toBe('probe');
    await a.groupSend('room', { type: 'after' });
    const rest = await drainUntil(b, member, 'after');
    const ks = [first, ...rest].filter((m) => m.type === 'probe').map((m) => m.k as number);
    expect(ks).toEqual([...ks].sort((x, y) => x - y));
    expect(new Set(ks).size).toBe(ks.length);
    expect(rest.filter((m) => m.type !== 'probe')).toEqual([{ type: 'after' }]);

    // The receiver that waited on an ordinary channel through the outage gets the next job only.
    await a.send('work', { type: 'job', n: 5 });
    expect(await waitingWork).toEqual({ type: 'job', n: 5 });
    // Broadcasts reach B's socket again (its group topic was re-subscribed).
    expect(await a.groupBroadcast('room', 'back')).toEqual({ delivered: 0, skipped: 0 });
    await expect.poll(() => socket.received.map((m) => m.text), { timeout: 5_000 }).toEqual(['back']);
    // Nothing else arrives: no message from before the outage is delivered again.
    const controller = new AbortController();
    const extra = [
      b.receive('work', { signal: controller.signal }),
      b.receive(member, { signal: controller.signal }),
    ];
    await new Promise((resolve) => setTimeout(resolve, 500));
    controller.abort(new Error('quiet'));
    for (const outcome of await Promise.allSettled(extra)) expect(outcome.status).toBe('rejected');
  } finally {
    await a.close();
    await b.close();
  }
});
