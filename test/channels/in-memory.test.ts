// The channel layer contract run against the in-memory layer (redis-layer.test.ts runs it against
// the Redis layer, around a real redis-server), then what is specific to InMemoryChannelLayer.
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryChannelLayer } from '../../src/channels/index.ts';
import type { ChannelLayerOptions } from '../../src/channels/index.ts';
import { channelLayerContract, type LayerFactory } from './layer-contract.ts';

/** A clock the test moves by hand, so expiry is checked without waiting. */
function manualClock(): { now: () => number; advance: (ms: number) => Promise<void> } {
  let time = 1_000_000;
  return { now: () => time, advance: async (ms) => void (time += ms) };
}

const inMemory: LayerFactory = {
  name: 'InMemoryChannelLayer',
  quietMs: 0,
  async create(options: ChannelLayerOptions = {}) {
    const clock = manualClock();
    return { layer: new InMemoryChannelLayer({ ...options, now: clock.now }), advance: clock.advance };
  },
};

describe.each([inMemory])('channel layer contract: $name', (factory) => {
  channelLayerContract(factory);
});

describe('InMemoryChannelLayer', () => {
  const layers: InMemoryChannelLayer[] = [];
  afterEach(async () => {
    for (const layer of layers.splice(0)) await layer.close();
  });
  function make(clock = manualClock(), options: ChannelLayerOptions = {}): InMemoryChannelLayer {
    const layer = new InMemoryChannelLayer({ ...options, now: clock.now });
    layers.push(layer);
    return layer;
  }
  const refTimers = (): number =>
    process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

  it("uses Channels' defaults: capacity 100, expiry 60 s, group expiry one day", async () => {
    const clock = manualClock();
    const layer = make(clock);
    for (let n = 0; n < 100; n++) await layer.send('c', { type: 'n', n });
    await expect(layer.send('c', { type: 'n', n: 100 })).rejects.toMatchObject({ code: 'ERR_CHANNEL_FULL' });
    await layer.groupAdd('g', 'member');
    await clock.advance(59_000);
    expect(layer.stats()).toMatchObject({ queuedMessages: 100, memberships: 1 });
    await clock.advance(2_000);
    expect(layer.stats()).toMatchObject({ queuedMessages: 0, channels: 0, memberships: 1 });
    await clock.advance(86_400_000 - 61_000 - 1_000);
    expect(layer.stats().memberships).toBe(1);
    await clock.advance(2_000);
    expect(layer.stats()).toMatchObject({ memberships: 0, groups: 0 });
  });

  it('keeps no trace of channels that are drained, expired, or whose receiver gave up', async () => {
    const clock = manualClock();
    const layer = make(clock);
    for (let i = 0; i < 200; i++) {
      const channel = await layer.newChannel();
      await layer.send(channel, { type: 'x' });
      await layer.receive(channel);
      const controller = new AbortController();
      const waiting = layer.receive(`${channel}-waiting`, { signal: controller.signal });
      controller.abort();
      await expect(waiting).rejects.toThrow();
      await layer.groupAdd('g', channel);
      await layer.groupDiscard('g', channel);
    }
    await layer.send('expiring', { type: 'x' });
    expect(layer.stats()).toEqual({
      channels: 1,
      queuedMessages: 1,
      waitingReceivers: 0,
      groups: 0,
      memberships: 0,
    });
    await clock.advance(60_001);
    expect(layer.stats()).toEqual({
      channels: 0,
      queuedMessages: 0,
      waitingReceivers: 0,
      groups: 0,
      memberships: 0,
    });
  });

  it('never keeps the process alive with a timer, and close() clears everything', async () => {
    const before = refTimers();
    const layer = make();
    await layer.send('c', { type: 'x' });
    await layer.groupAdd('g', 'c');
    const waiting = layer.receive('other').catch((error: unknown) => error);
    expect(refTimers()).toBe(before);
    await layer.close();
    expect((await waiting) as { code: string }).toMatchObject({ code: 'ERR_CHANNEL_LAYER_CLOSED' });
    expect(layer.stats()).toEqual({
      channels: 0,
      queuedMessages: 0,
      waitingReceivers: 0,
      groups: 0,
      memberships: 0,
    });
  });

  it('refuses invalid options with ERR_CHANNEL_INVALID_OPTION', () => {
    const bad: unknown[] = [
      { capacity: 0 },
      { capacity: 1.5 },
      { capacity: '10' },
      { expiry: 0 },
      { expiry: -1 },
      { expiry: Number.NaN },
      { groupExpiry: Number.POSITIVE_INFINITY },
      { groupExpiry: '60' },
      { now: 5 },
      null,
    ];
    for (const options of bad) {
      let code: unknown;
      try {
        new InMemoryChannelLayer(options as ChannelLayerOptions);
      } catch (error) {
        code = (error as { code?: unknown }).code;
      }
      expect(code, JSON.stringify(options)).toBe('ERR_CHANNEL_INVALID_OPTION');
    }
  });
});
