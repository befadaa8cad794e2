// The channel layer contract: what every layer (in-memory, Redis) must do the same way. A test file
// runs it with describe.each over layer factories. Each factory makes a fresh layer and says how to
// move its clock forward (a fake clock for the in-memory layer; real waiting for a server's clock).
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelFull, ChannelLayerError } from '../../src/channels/index.ts';
import type { ChannelLayer, ChannelLayerOptions, ChannelMessage } from '../../src/channels/index.ts';

export interface LayerUnderTest {
  layer: ChannelLayer;
  /** Moves the layer's notion of time forward by `ms`. */
  advance(ms: number): Promise<void>;
}

export interface LayerFactory {
  name: string;
  create(options?: ChannelLayerOptions): Promise<LayerUnderTest>;
  /** How long "nothing arrives" is watched for; 0 = a few loop turns (enough for a local layer). */
  quietMs: number;
}

/** The code of what `promise` rejects with (fails if it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<{ error: unknown; code: unknown }> {
  try {
    await promise;
  } catch (error) {
    return { error, code: (error as { code?: unknown }).code };
  }
  throw new Error('expected a rejection, but the promise resolved');
}

async function settle(ms: number): Promise<void> {
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

const invalidChannelNames: unknown[] = [
  '',
  'has space',
  'ünïcode',
  'a/b',
  'a!b!c',
  '!local-only',
  'x'.repeat(100),
  'tab\tname',
  42,
  null,
  undefined,
];
const invalidGroupNames: unknown[] = ['', 'has space', 'a!b', 'x'.repeat(100), 'é', 7, null];

export function channelLayerContract(factory: LayerFactory): void {
  let subject: LayerUnderTest;
  let layer: ChannelLayer;
  const open: ChannelLayer[] = [];

  async function make(options?: ChannelLayerOptions): Promise<void> {
    subject = await factory.create(options);
    layer = subject.layer;
    open.push(layer);
  }

  afterEach(async () => {
    for (const each of open.splice(0)) await each.close();
  });

  /** Asserts `channel` has nothing to receive: a receive started now is still waiting after a while. */
  async function expectNothingOn(channel: string): Promise<void> {
    const controller = new AbortController();
    let received: ChannelMessage | undefined;
    const receiving = layer.receive(channel, { signal: controller.signal }).then(
      (message) => void (received = message),
      (error: unknown) => error,
    );
    await settle(factory.quietMs);
    controller.abort(new Error('watched long enough'));
    const outcome = await receiving;
    expect(received).toBeUndefined();
    expect((outcome as Error).message).toBe('watched long enough');
  }

  describe('point-to-point channels', () => {
    it('delivers the messages of one channel in the order they were sent', async () => {
      await make();
      for (let i = 0; i < 50; i++) await layer.send('orders', { type: 'n', i });
      const seen: number[] = [];
      for (let i = 0; i < 50; i++) seen.push((await layer.receive('orders')).i as number);
      expect(seen).toEqual([...Array(50).keys()]);
      await expectNothingOn('orders');
    });

    it('keeps channels apart', async () => {
      await make();
      await layer.send('left', { type: 'side', to: 'left' });
      await layer.send('right', { type: 'side', to: 'right' });
      expect(await layer.receive('right')).toEqual({ type: 'side', to: 'right' });
      expect(await layer.receive('left')).toEqual({ type: 'side', to: 'left' });
    });

    it('makes a receiver wait until a message is sent', async () => {
      await make();
      let received: ChannelMessage | undefined;
      const receiving = layer.receive('later').then((message) => (received = message));
      await settle(factory.quietMs);
      expect(received).toBeUndefined();
      await layer.send('later', { type: 'now' });
      await receiving;
      expect(received).toEqual({ type: 'now' });
    });

    it('gives concurrent receivers one message each, in the order they started waiting', async () => {
      await make();
      const got: string[] = [];
      const receivers = ['r0', 'r1', 'r2'].map((who) =>
        layer.receive('shared').then((message) => got.push(`${who}:${String(message.n)}`)),
      );
      await settle(factory.quietMs);
      for (let n = 0; n < 3; n++) await layer.send('shared', { type: 'job', n });
      await Promise.all(receivers);
      expect(got.sort()).toEqual(['r0:0', 'r1:1', 'r2:2']);
      await expectNothingOn('shared');
    });

    it('consumes nothing for a receiver that stopped waiting (abort)', async () => {
      await make();
      const controller = new AbortController();
      const abandoned = layer.receive('one', { signal: controller.signal });
      const kept = layer.receive('one');
      controller.abort(new Error('gone'));
      await expect(abandoned).rejects.toThrow('gone');
      await layer.send('one', { type: 'only' });
      expect(await kept).toEqual({ type: 'only' });
    });

    it('names new channels uniquely, with the prefix and one process-local "!" part', async () => {
      await make();
      const names = new Set<string>();
      for (let i = 0; i < 500; i++) names.add(await layer.newChannel());
      expect(names.size).toBe(500);
      for (const name of names) {
        expect(name.startsWith('specific.')).toBe(true);
        expect(name.split('!')).toHaveLength(2);
        expect(name.length).toBeLessThan(100);
      }
      const mine = await layer.newChannel('chat.');
      expect(mine.startsWith('chat.')).toBe(true);
      await layer.send(mine, { type: 'hello' });
      expect(await layer.receive(mine)).toEqual({ type: 'hello' });
      expect((await rejectionOf(layer.newChannel('bad prefix'))).code).toBe('ERR_CHANNEL_INVALID_NAME');
      expect((await rejectionOf(layer.newChannel('a!b'))).code).toBe('ERR_CHANNEL_INVALID_NAME');
    });
  });

  describe('capacity', () => {
    it('refuses a send to a full channel with ChannelFull, queuing nothing, until a message is received', async () => {
      await make({ capacity: 3 });
      for (let n = 0; n < 3; n++) await layer.send('small', { type: 'fill', n });
      const { error, code } = await rejectionOf(layer.send('small', { type: 'fill', n: 3 }));
      expect(code).toBe('ERR_CHANNEL_FULL');
      expect(error).toBeInstanceOf(ChannelFull);
      expect(error).toBeInstanceOf(Error);
      expect((error as ChannelFull).channel).toBe('small');
      await layer.send('other', { type: 'unaffected' });
      expect((await layer.receive('small')).n).toBe(0);
      await layer.send('small', { type: 'fill', n: 4 });
      const rest: unknown[] = [];
      for (let i = 0; i < 3; i++) rest.push((await layer.receive('small')).n);
      expect(rest).toEqual([1, 2, 4]);
      await expectNothingOn('small');
    });
  });

  describe('expiry', () => {
    it('drops a message not received within expiry, and keeps one that is younger', async () => {
      await make({ expiry: 2 });
      await layer.send('aging', { type: 'old' });
      await subject.advance(1_200);
      await layer.send('aging', { type: 'young' });
      await subject.advance(1_200);
      expect(await layer.receive('aging')).toEqual({ type: 'young' });
      await expectNothingOn('aging');
    });

    it('frees the capacity taken by expired messages', async () => {
      await make({ capacity: 2, expiry: 1 });
      await layer.send('full', { type: 'a' });
      await layer.send('full', { type: 'b' });
      expect((await rejectionOf(layer.send('full', { type: 'c' }))).code).toBe('ERR_CHANNEL_FULL');
      await subject.advance(1_500);
      await layer.send('full', { type: 'd' });
      expect(await layer.receive('full')).toEqual({ type: 'd' });
    });
  });

  describe('groups', () => {
    it('groupSend reaches every member exactly once, and nobody else', async () => {
      await make();
      const members = ['m0', 'm1', 'm2', 'm3', 'm4'];
      for (const member of members) await layer.groupAdd('room', member);
      await layer.groupAdd('room', 'm2'); // joining twice is still one membership
      await layer.groupAdd('other-room', 'outsider');
      expect(await layer.groupSend('room', { type: 'chat.message', text: 'hi' })).toEqual({
        delivered: 5,
        dropped: 0,
      });
      for (const member of members) {
        expect(await layer.receive(member)).toEqual({ type: 'chat.message', text: 'hi' });
        await expectNothingOn(member);
      }
      await expectNothingOn('outsider');
    });

    it('keeps the order of a group’s messages on each member', async () => {
      await make();
      await layer.groupAdd('g', 'a');
      await layer.groupAdd('g', 'b');
      for (let n = 0; n < 10; n++) await layer.groupSend('g', { type: 'seq', n });
      for (const member of ['a', 'b']) {
        const seen: unknown[] = [];
        for (let n = 0; n < 10; n++) seen.push((await layer.receive(member)).n);
        expect(seen).toEqual([...Array(10).keys()]);
      }
    });

    it('groupSend never throws for a full member: it skips and counts it', async () => {
      await make({ capacity: 1 });
      await layer.groupAdd('g', 'full');
      await layer.groupAdd('g', 'free');
      await layer.send('full', { type: 'first' });
      expect(await layer.groupSend('g', { type: 'second' })).toEqual({ delivered: 1, dropped: 1 });
      expect(await layer.receive('full')).toEqual({ type: 'first' });
      expect(await layer.receive('free')).toEqual({ type: 'second' });
      await expectNothingOn('full');
    });

    it('groupSend to a group with no members delivers nothing', async () => {
      await make();
      expect(await layer.groupSend('empty', { type: 'x' })).toEqual({ delivered: 0, dropped: 0 });
    });

    it('groupDiscard removes one member; discarding a non-member is harmless', async () => {
      await make();
      await layer.groupAdd('g', 'stays');
      await layer.groupAdd('g', 'leaves');
      await layer.groupDiscard('g', 'leaves');
      await layer.groupDiscard('g', 'never-joined');
      await layer.groupDiscard('no-such-group', 'stays');
      expect(await layer.groupSend('g', { type: 'after' })).toEqual({ delivered: 1, dropped: 0 });
      expect(await layer.receive('stays')).toEqual({ type: 'after' });
      await expectNothingOn('leaves');
    });

    it('lets a membership lapse after groupExpiry unless groupAdd renews it', async () => {
      await make({ groupExpiry: 3 });
      await layer.groupAdd('g', 'early');
      await layer.groupAdd('g', 'renewed');
      await subject.advance(2_000);
      await layer.groupAdd('g', 'late');
      await layer.groupAdd('g', 'renewed');
      await subject.advance(1_500);
      expect(await layer.groupSend('g', { type: 'roll-call' })).toEqual({ delivered: 2, dropped: 0 });
      expect(await layer.receive('late')).toEqual({ type: 'roll-call' });
      expect(await layer.receive('renewed')).toEqual({ type: 'roll-call' });
      await expectNothingOn('early');
    });
  });

  describe('flush', () => {
    it('drops queued messages and groups; a waiting receiver keeps waiting; the layer stays usable', async () => {
      await make();
      await layer.send('queued', { type: 'lost' });
      await layer.groupAdd('g', 'member');
      let received: ChannelMessage | undefined;
      const waiting = layer.receive('waiting').then((message) => (received = message));
      await settle(factory.quietMs);
      await layer.flush();
      expect(await layer.groupSend('g', { type: 'nobody' })).toEqual({ delivered: 0, dropped: 0 });
      await expectNothingOn('queued');
      await expectNothingOn('member');
      expect(received).toBeUndefined();
      await layer.send('waiting', { type: 'after-flush' });
      await waiting;
      expect(received).toEqual({ type: 'after-flush' });
    });
  });

  describe('close', () => {
    it('rejects waiting receivers with ERR_CHANNEL_LAYER_CLOSED and every later call', async () => {
      await make();
      const waiting = [layer.receive('a'), layer.receive('a'), layer.receive('b')].map(rejectionOf);
      await settle(factory.quietMs);
      expect(layer.closed).toBe(false);
      await layer.close();
      expect(layer.closed).toBe(true);
      for (const outcome of await Promise.all(waiting)) {
        expect(outcome.code).toBe('ERR_CHANNEL_LAYER_CLOSED');
        expect(outcome.error).toBeInstanceOf(ChannelLayerError);
      }
      const later = [
        layer.send('a', { type: 'x' }),
        layer.receive('a'),
        layer.newChannel(),
        layer.groupAdd('g', 'a'),
        layer.groupDiscard('g', 'a'),
        layer.groupSend('g', { type: 'x' }),
        layer.flush(),
      ];
      for (const call of later) expect((await rejectionOf(call)).code).toBe('ERR_CHANNEL_LAYER_CLOSED');
      await layer.close(); // closing again is a no-op
    });
  });

  describe('validation', () => {
    it('accepts the names Channels accepts', async () => {
      await make();
      const valid = ['a', 'A-b_c.9', 'specific.x!', 'specific.x!local-part_1.2', 'x'.repeat(99)];
      for (const name of valid) {
        await layer.send(name, { type: 'ok' });
        expect(await layer.receive(name)).toEqual({ type: 'ok' });
      }
      await layer.groupAdd('G-1_x.y', 'a!b');
      await layer.groupAdd('x'.repeat(99), 'a');
      expect(await layer.groupSend('G-1_x.y', { type: 'ok' })).toEqual({ delivered: 1, dropped: 0 });
    });

    it('refuses invalid channel names on every method with a TypeError coded ERR_CHANNEL_INVALID_NAME', async () => {
      await make();
      for (const name of invalidChannelNames) {
        const calls = [
          layer.send(name as string, { type: 'x' }),
          layer.receive(name as string),
          layer.groupAdd('g', name as string),
          layer.groupDiscard('g', name as string),
        ];
        for (const call of calls) {
          const { error, code } = await rejectionOf(call);
          expect(code, String(name)).toBe('ERR_CHANNEL_INVALID_NAME');
          expect(error).toBeInstanceOf(TypeError);
        }
      }
      // Nothing was joined by the refused calls.
      expect(await layer.groupSend('g', { type: 'x' })).toEqual({ delivered: 0, dropped: 0 });
    });

    it('refuses invalid group names with ERR_CHANNEL_INVALID_NAME', async () => {
      await make();
      for (const name of invalidGroupNames) {
        const calls = [
          layer.groupAdd(name as string, 'a'),
          layer.groupDiscard(name as string, 'a'),
          layer.groupSend(name as string, { type: 'x' }),
        ];
        for (const call of calls)
          expect((await rejectionOf(call)).code, String(name)).toBe('ERR_CHANNEL_INVALID_NAME');
      }
    });

    it('refuses messages that are not JSON objects with a string type, queuing nothing', async () => {
      await make();
      const cyclic: Record<string, unknown> = { type: 'loop' };
      cyclic.self = cyclic;
      let deep: Record<string, unknown> = { type: 'deep' };
      for (let i = 0; i < 200; i++) deep = { type: 'deep', inner: deep };
      const invalid: unknown[] = [
        null,
        'text',
        42,
        ['type'],
        {},
        { type: 7 },
        { type: '' },
        { type: 'f', f: () => 1 },
        { type: 'b', n: 10n },
        { type: 'u', u: undefined },
        { type: 's', s: Symbol('x') },
        { type: 'nan', n: Number.NaN },
        { type: 'inf', n: Number.POSITIVE_INFINITY },
        { type: 'date', d: new Date(0) },
        { type: 'map', m: new Map() },
        { type: 'nested', list: [1, { bad: () => 0 }] },
        cyclic,
        deep,
      ];
      await layer.groupAdd('g', 'target');
      for (const message of invalid) {
        for (const call of [
          layer.send('target', message as ChannelMessage),
          layer.groupSend('g', message as ChannelMessage),
        ]) {
          const { error, code } = await rejectionOf(call);
          expect(code).toBe('ERR_CHANNEL_INVALID_MESSAGE');
          expect(error).toBeInstanceOf(TypeError);
        }
      }
      // A cycle is named as such (not reported as mere depth).
      expect(String((await rejectionOf(layer.send('target', cyclic as ChannelMessage))).error)).toMatch(
        /message\.self refers back to itself/,
      );
      await expectNothingOn('target');
    });

    it('accepts JSON values, including an object with a null prototype and a shared (non-cyclic) reference', async () => {
      await make();
      const shared = { k: [1, 2] };
      const bare = Object.assign(Object.create(null) as Record<string, unknown>, {
        type: 'bare',
        a: shared,
        b: shared,
      });
      await layer.send('json', bare as ChannelMessage);
      const message = {
        type: 'all',
        s: 'x',
        n: -1.5,
        t: true,
        f: false,
        z: null,
        a: [[], {}],
        o: { p: { q: 'r' } },
      };
      await layer.send('json', message);
      expect(await layer.receive('json')).toEqual({ type: 'bare', a: { k: [1, 2] }, b: { k: [1, 2] } });
      expect(await layer.receive('json')).toEqual(message);
    });
  });

  describe('message copying', () => {
    it('delivers the message as it was when sent, whatever the sender does to its object later', async () => {
      await make();
      const message = { type: 'snapshot', list: [1, 2], inner: { v: 'before' } };
      await layer.send('copy', message);
      message.list.push(3);
      message.inner.v = 'after';
      message.type = 'changed';
      const received = await layer.receive('copy');
      expect(received).toEqual({ type: 'snapshot', list: [1, 2], inner: { v: 'before' } });
      expect(received).not.toBe(message);
    });

    it('gives each group member its own copy', async () => {
      await make();
      await layer.groupAdd('g', 'one');
      await layer.groupAdd('g', 'two');
      const message = { type: 'shared', inner: { v: 1 } };
      await layer.groupSend('g', message);
      message.inner.v = 2;
      const first = await layer.receive('one');
      (first.inner as { v: number }).v = 3;
      const second = await layer.receive('two');
      expect(second).toEqual({ type: 'shared', inner: { v: 1 } });
      expect(second.inner).not.toBe(first.inner);
    });
  });
}
