// The channel layer contract run against RedisChannelLayer with a real redis-server (started by the
// test on a free loopback port), with real waiting for expiry.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe } from 'vitest';
import { RedisChannelLayer } from '../../src/channels/index.ts';
import type { ChannelLayerOptions } from '../../src/channels/index.ts';
import { channelLayerContract, type LayerFactory } from './layer-contract.ts';
import { startRedisServer, type RedisServer } from './redis-server.ts';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
});

const quietLogger = { info: () => {}, warn: () => {} };

const redis: LayerFactory = {
  name: 'RedisChannelLayer',
  quietMs: 300,
  async create(options: ChannelLayerOptions = {}) {
    // A prefix per layer keeps tests apart without flushing the server.
    const prefix = `t${randomBytes(6).toString('hex')}`;
    const layer = new RedisChannelLayer({ ...options, url: server.url, prefix, logger: quietLogger });
    return { layer, advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
  },
};

describe.each([redis])('channel layer contract: $name', (factory) => {
  channelLayerContract(factory);
});
