// The bundled server with "redis" in its config: sessions in Redis (a login survives a restart of
// the server) and chat rooms whose messages reach clients of another server process on the same
// Redis (groupBroadcast over the Redis layer).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../channels/redis-server.ts';
import { waitFor } from '../helpers.ts';
import { http, logIn, openSocket, startSite, type TestSite } from './bundled-helpers.ts';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});

const parse = (text: string | Buffer) => JSON.parse(text as string) as Record<string, unknown>;

describe('bundled server on Redis', () => {
  it('keeps a login across a restart of the server (sessions in Redis)', async () => {
    const first = await startSite({ redis: redis.url });
    const cookie = await logIn(first, 'ann');
    await first.stop();
    const second = await startSite({ redis: redis.url });
    try {
      const session = await http(second, 'GET', '/api/session', { cookie });
      expect(session.status).toBe(200);
      expect(JSON.parse(session.body)).toMatchObject({ user: 'ann' });
      const metrics = (await http(second, 'GET', '/metrics')).body;
      expect(metrics).toMatch(/^bufferevent_layer_reconnects_total 0$/m);
      expect(metrics).toMatch(/^bufferevent_layer_available 1$/m);
    } finally {
      await second.stop();
    }
  });

  it("delivers a chat message to the room's clients on another server process sharing the Redis", async () => {
    const sites: TestSite[] = [await startSite({ redis: redis.url }), await startSite({ redis: redis.url })];
    try {
      const annCookie = await logIn(sites[0]!, 'ann');
      const bobCookie = await logIn(sites[1]!, 'bob');
      const ann = await openSocket(sites[0]!, '/ws/chat/shared/', annCookie);
      const bob = await openSocket(sites[1]!, '/ws/chat/shared/', bobCookie);
      const other = await openSocket(sites[1]!, '/ws/chat/other/', bobCookie);
      await ann.next();
      await bob.next();
      // The subscription of each process to the room's group is made when its first member joins.
      await waitFor(() => ann.messages.length >= 2 && bob.messages.length >= 2);
      ann.socket.send(JSON.stringify({ type: 'message', text: 'across processes' }));
      await waitFor(() => bob.messages.map(parse).some((message) => message.type === 'message'));
      const received = bob.messages.map(parse).filter((message) => message.type === 'message');
      expect(received).toMatchObject([{ user: 'ann', text: 'across processes' }]);
      bob.socket.send(JSON.stringify({ type: 'message', text: 'and back' }));
      await waitFor(
        () => ann.messages.map(parse).filter((message) => message.type === 'message').length === 2,
      );
      expect(other.messages.map(parse).filter((message) => message.type === 'message')).toEqual([]);
      for (const client of [ann, bob, other]) client.socket.close();
    } finally {
      for (const site of sites) await site.stop();
    }
  });
});
