// What the workers of `serve --workers N` share through Redis, tested with two instances standing
// for two processes on one real redis-server: the login throttle store (atomic per call, so a burst
// spread over processes lets exactly `limit` attempts through) and the chat rooms (one history with
// unique ids, one presence set; a process that dies without leaving drops out within the TTL and a
// live one reports the room).
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisChatRooms } from '../../src/server/chat/chat-rooms-redis.ts';
import { RedisThrottleStore } from '../../src/server/throttle-store-redis.ts';
import { recordingLogger, startRedisServer, type RedisServer } from '../channels/redis-server.ts';
import { waitFor } from '../helpers.ts';
import { assertBuilt, root } from './cli-runner.ts';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});

/** Polls an asynchronous condition (waitFor takes synchronous ones) for at most 5 s. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the condition did not hold within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const rule = { limit: 10, windowMs: 60_000, cooldownMs: 60_000 };

describe('RedisThrottleStore', () => {
  it('lets exactly `limit` attempts of a burst spread over two processes through, then blocks', async () => {
    const stores = [0, 1].map(
      () => new RedisThrottleStore({ url: redis.url, prefix: 'burst:', logger: recordingLogger() }),
    );
    try {
      const verdicts = await Promise.all(
        Array.from({ length: 50 }, (_, i) => stores[i % 2]!.recordAttempt('user:bob', rule)),
      );
      expect(verdicts.filter((verdict) => verdict.allowed)).toHaveLength(10);
      // Nine counted without a block, the tenth started it, and the forty others were refused by it.
      const allowed = verdicts.filter((verdict) => verdict.allowed);
      expect(allowed.filter((verdict) => verdict.blockedForMs === 0)).toHaveLength(9);
      expect(verdicts.filter((verdict) => verdict.blockedForMs > 59_000)).toHaveLength(41);
      const state = await stores[1]!.state('user:bob');
      expect(state.attempts).toBe(10);
      expect(state.blockedForMs).toBeGreaterThan(59_000);
      expect(state.blockedForMs).toBeLessThanOrEqual(60_000);
      // A refund under the limit lifts the block; reset forgets everything.
      await stores[0]!.refund('user:bob', rule);
      expect(await stores[1]!.state('user:bob')).toEqual({ attempts: 9, blockedForMs: 0 });
      await stores[1]!.reset('user:bob');
      expect(await stores[0]!.state('user:bob')).toEqual({ attempts: 0, blockedForMs: 0 });
      expect(await stores[0]!.state('user:nobody')).toEqual({ attempts: 0, blockedForMs: 0 });
    } finally {
      for (const store of stores) await store.close();
    }
  });

  it('ends a block after the cooldown and starts a new window, and lets Redis expire the key', async () => {
    const store = new RedisThrottleStore({ url: redis.url, prefix: 'short:', logger: recordingLogger() });
    try {
      const short = { limit: 2, windowMs: 300, cooldownMs: 400 };
      expect(await store.recordAttempt('addr:10.0.0.1', short)).toEqual({ allowed: true, blockedForMs: 0 });
      const second = await store.recordAttempt('addr:10.0.0.1', short);
      expect(second.allowed).toBe(true);
      expect(second.blockedForMs).toBeGreaterThan(300);
      expect((await store.recordAttempt('addr:10.0.0.1', short)).allowed).toBe(false);
      await until(async () => (await store.state('addr:10.0.0.1')).blockedForMs === 0);
      expect(await store.recordAttempt('addr:10.0.0.1', short)).toEqual({ allowed: true, blockedForMs: 0 });
      const { Redis } = await import('ioredis');
      const client = new Redis(redis.url);
      try {
        await until(async () => (await client.exists('short:addr:10.0.0.1')) === 0);
      } finally {
        await client.quit();
      }
    } finally {
      await store.close();
    }
  });
});

describe('RedisChatRooms', () => {
  const rooms = (prefix: string, extra: Partial<ConstructorParameters<typeof RedisChatRooms>[0]> = {}) =>
    new RedisChatRooms({ url: redis.url, prefix, historySize: 3, logger: recordingLogger(), ...extra });

  it('keeps one capped history with unique ids, and one presence set, for two processes', async () => {
    const [a, b] = [rooms('chat1:'), rooms('chat1:')];
    try {
      expect(await a.join('r', 'ann')).toEqual([]);
      await b.join('r', 'bob');
      await b.join('r', 'bob'); // a second tab
      expect(await a.members('r')).toEqual(['ann', 'bob']);
      const posted = [];
      for (const [side, text] of [
        [a, 'one'],
        [b, 'two'],
        [a, 'three'],
        [b, 'four'],
      ] as const)
        posted.push(await side.post('r', side === a ? 'ann' : 'bob', text));
      expect(new Set(posted.map((message) => message.id)).size).toBe(4);
      const history = await a.join('r', 'ann');
      expect(history.map((message) => message.text)).toEqual(['two', 'three', 'four']);
      expect(history).toEqual(posted.slice(1));
      expect(await b.activeRooms()).toEqual([{ room: 'r', members: 2 }]);
      await b.leave('r', 'bob');
      expect(await a.members('r')).toEqual(['ann', 'bob']);
      await b.leave('r', 'bob');
      expect(await a.members('r')).toEqual(['ann']);
      await a.close();
      expect(await b.members('r')).toEqual([]);
      expect(await b.activeRooms()).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('rejects a join when Redis cannot be reached, and keeps nothing of it', async () => {
    const { port } = redis;
    const unreachable = new RedisChatRooms({
      url: `redis://127.0.0.1:${port === 1 ? 2 : 1}`,
      historySize: 3,
      timeout: 0.3,
      logger: recordingLogger(),
    });
    try {
      const error = await unreachable.join('r', 'ann').catch((caught: unknown) => caught);
      expect((error as { code?: string }).code).toBe('ERR_CHANNEL_LAYER_UNAVAILABLE');
      expect(unreachable.roomCount).toBe(0);
    } finally {
      await unreachable.close();
    }
  });

  it('drops the users of a process that died within the TTL, and a live process reports the room', async () => {
    assertBuilt();
    const changes: { room: string; users: string[] }[] = [];
    const live = rooms('chat2:', {
      presenceTtlMs: 600,
      onPresenceChange: (room, users) => changes.push({ room, users }),
    });
    const module = `${root}dist/server/chat/chat-rooms-redis.js`;
    const script =
      `const { RedisChatRooms } = require(${JSON.stringify(module)});` +
      `const rooms = new RedisChatRooms({ url: ${JSON.stringify(redis.url)}, prefix: 'chat2:', historySize: 3, presenceTtlMs: 600 });` +
      `rooms.join('r', 'zed').then(() => process.stdout.write('joined\\n'));`;
    const other = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let output = '';
      other.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await waitFor(() => output.includes('joined'), 10_000, 'the other process to join');
      await live.join('r', 'ann');
      // Alive, its heartbeat keeps zed in the room past the TTL.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await live.members('r')).toEqual(['ann', 'zed']);
      const killed = new Promise((resolve) => other.once('exit', resolve));
      other.kill('SIGKILL');
      await killed;
      await waitFor(() => changes.length > 0, 5_000, 'the presence change');
      expect(changes).toEqual([{ room: 'r', users: ['ann'] }]);
      expect(await live.members('r')).toEqual(['ann']);
    } finally {
      if (other.exitCode === null) other.kill('SIGKILL');
      await live.close();
    }
  });
});
