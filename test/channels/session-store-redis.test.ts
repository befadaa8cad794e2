// RedisSessionStore against a real redis-server: the SessionStore contract (get/set/delete/touch
// with TTLs kept by Redis), copies rather than shared objects, prefixes, and SessionMiddleware on it.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  RedisSessionStore,
  Session,
  SessionMiddlewareStack,
  prepareScope,
  resolveWebSocket,
} from '../../src/channels/index.ts';
import { recordingLogger, startRedisServer, type RedisServer } from './redis-server.ts';

let server: RedisServer;
let raw: Redis;
beforeAll(async () => {
  server = await startRedisServer();
  raw = new Redis(server.url);
});
afterAll(async () => {
  raw.disconnect();
  await server.stop();
});

const stores: RedisSessionStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

function make(prefix = `s${randomBytes(4).toString('hex')}:`): RedisSessionStore {
  const store = new RedisSessionStore({ url: server.url, prefix, logger: recordingLogger() });
  stores.push(store);
  return store;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('RedisSessionStore', () => {
  it('stores JSON data under the prefix with a TTL of maxAge, and hands out copies', async () => {
    const store = make('app1:session:');
    const data = { user: 7, list: [1, 2], nested: { a: 'b' } };
    await store.set('id1', data, 60);
    data.list.push(3);
    const got = await store.get('id1');
    expect(got).toEqual({ user: 7, list: [1, 2], nested: { a: 'b' } });
    (got!.nested as { a: string }).a = 'changed';
    expect(await store.get('id1')).toEqual({ user: 7, list: [1, 2], nested: { a: 'b' } });
    expect(await raw.get('app1:session:id1')).toBe(
      JSON.stringify({ user: 7, list: [1, 2], nested: { a: 'b' } }),
    );
    const ttl = await raw.pttl('app1:session:id1');
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await store.get('unknown')).toBeUndefined();
    // Another prefix is another store.
    expect(await make('app2:session:').get('id1')).toBeUndefined();
  });

  it('expires sessions after maxAge unless touched; touch ignores unknown ids; delete removes', async () => {
    const prefix = `e${randomBytes(4).toString('hex')}:`;
    const store = make(prefix);
    await store.set('short', { n: 1 }, 1);
    await store.set('touched', { n: 2 }, 1);
    await store.set('deleted', { n: 3 }, 60);
    await store.touch('never-set', 60);
    await sleep(600);
    await store.touch('touched', 3);
    await store.delete('deleted');
    await store.delete('never-set');
    await sleep(700);
    expect(await store.get('short')).toBeUndefined();
    expect(await store.get('touched')).toEqual({ n: 2 });
    expect(await store.get('deleted')).toBeUndefined();
    expect(await store.get('never-set')).toBeUndefined();
    expect(await raw.exists(`${prefix}never-set`, `${prefix}short`, `${prefix}deleted`)).toBe(0);
    expect(await raw.exists(`${prefix}touched`)).toBe(1);
  });

  it('refuses bad arguments with coded errors and rejects calls after close()', async () => {
    const store = make();
    await expect(store.set('x', {}, 0)).rejects.toMatchObject({ code: 'ERR_CHANNEL_INVALID_OPTION' });
    await expect(store.touch('x', Number.NaN)).rejects.toMatchObject({ code: 'ERR_CHANNEL_INVALID_OPTION' });
    await expect(store.get('')).rejects.toMatchObject({ code: 'ERR_CHANNEL_INVALID_NAME' });
    expect(() => new RedisSessionStore({ url: 'http://x' })).toThrow(
      expect.objectContaining({ code: 'ERR_CHANNEL_INVALID_OPTION' }),
    );
    await store.close();
    await expect(store.get('x')).rejects.toMatchObject({ code: 'ERR_CHANNEL_LAYER_CLOSED' });
  });

  it('backs SessionMiddleware: a saved session is found again through its cookie, from another store instance', async () => {
    const prefix = `m${randomBytes(4).toString('hex')}:`;
    const secret = 'a-test-secret-of-32-characters!!';
    const appA = SessionMiddlewareStack(class {}, { secret, maxAge: 60, store: make(prefix) });
    const appB = SessionMiddlewareStack(class {}, { secret, maxAge: 60, store: make(prefix) });
    const sessionOf = async (app: typeof appA, cookie?: string): Promise<Session> => {
      const resolved = resolveWebSocket(app, {
        path: '/',
        headers: cookie === undefined ? [] : [['cookie', cookie]],
      });
      return (await prepareScope(resolved!)).session as Session;
    };
    const first = await sessionOf(appA);
    first.set('user', 42);
    first.set('__proto__', { polluted: true });
    await first.save();
    const cookie = first.setCookieHeader().split(';')[0]!;
    const again = await sessionOf(appB, cookie);
    expect(again.isNew).toBe(false);
    expect(again.get('user')).toBe(42);
    expect(again.get('__proto__')).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await again.flush();
    expect((await sessionOf(appA, cookie)).isNew).toBe(true);
  });
});
