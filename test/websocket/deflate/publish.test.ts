// Publishing with permessage-deflate: subscribers that agreed compression with and without
// context takeover (either side's), with smaller windows, and ones that did not agree, all get
// every published message correctly, interleaved in order with what the server sends each of them
// itself. Compressed on the wire exactly for the subscribers that agreed and messages at or above
// the threshold. The subscribers are ws clients (an independent inflater) and ours.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from '../../../src/websocket/index.ts';
import type { PerMessageDeflateOptions } from '../../../src/websocket/deflate/options.ts';
import { liveTopicCount } from '../../../src/websocket/topics.ts';
import { checkNothingLeaksAfterEach, waitFor } from '../../helpers.ts';
import {
  compressibleBinary,
  compressibleText,
  randomText,
  startServer,
  WAIT_MS,
  type Implementation,
  type Recorded,
  type Server,
} from './deflate-fixtures.ts';
import { dataFrames, startWireTap, type WireTap } from './wire-tap.ts';

checkNothingLeaksAfterEach({ fds: true });

const THRESHOLD = 256;
const TOPIC = 'news';

const subscribers: Array<{
  impl: Implementation;
  deflate: PerMessageDeflateOptions | boolean;
  agrees: boolean;
}> = [
  { impl: 'ws', deflate: false, agrees: false },
  { impl: 'ws', deflate: {}, agrees: true },
  { impl: 'ws', deflate: { serverNoContextTakeover: true, clientNoContextTakeover: true }, agrees: true },
  { impl: 'ws', deflate: { serverNoContextTakeover: true, clientNoContextTakeover: true }, agrees: true },
  { impl: 'ws', deflate: { serverNoContextTakeover: true }, agrees: true },
  { impl: 'ws', deflate: { clientNoContextTakeover: true }, agrees: true },
  { impl: 'ws', deflate: { serverMaxWindowBits: 10 }, agrees: true },
  { impl: 'ws', deflate: { serverNoContextTakeover: true, serverMaxWindowBits: 11 }, agrees: true },
  { impl: 'bufferevent', deflate: true, agrees: true },
  { impl: 'bufferevent', deflate: { serverNoContextTakeover: true }, agrees: true },
  { impl: 'bufferevent', deflate: false, agrees: false },
];

let server: Server | undefined;
let tap: WireTap | undefined;
afterEach(async () => {
  await server?.close();
  await tap?.close();
  server = tap = undefined;
  expect(liveTopicCount()).toBe(0);
});

/** Our server (publish is ours only), every subscriber connected through one tap, in order. */
async function subscribed(serverDeflate: PerMessageDeflateOptions) {
  server = await startServer({ perMessageDeflate: serverDeflate, echo: false }, 'bufferevent');
  tap = await startWireTap(server.port);
  const clients: Recorded[] = [];
  for (const [index, { impl, deflate }] of subscribers.entries()) {
    clients.push(await server.connect(deflate, { impl, port: tap.port, path: `/${index}` }));
  }
  await waitFor(() => server!.accepted.length === subscribers.length, WAIT_MS, 'every server side');
  const sides = subscribers.map((_, index) => server!.accepted.find((side) => side.url === `/${index}`)!);
  for (const side of sides)
    expect((side.ws as unknown as { subscribe(topic: string): boolean }).subscribe(TOPIC)).toBe(true);
  return { wss: server.wss as unknown as WebSocketServer, clients, sides };
}

function published(round: number): Buffer | string {
  switch (round % 4) {
    case 0:
      return `small ${round}`;
    case 1:
      return compressibleText(3000 + round, round);
    case 2:
      return compressibleBinary(THRESHOLD + round);
    default:
      return randomText(THRESHOLD - 1); // one byte under the threshold
  }
}

function own(round: number, subscriber: number): string {
  const text = `own ${round} for ${subscriber} `;
  return round % 3 === 0 ? text.repeat(40) : text;
}

describe('publish to subscribers with different compression agreements', () => {
  it.each([
    ['threshold 256, takeover allowed', { threshold: THRESHOLD }],
    ['threshold 256, windows capped at 12', { threshold: THRESHOLD, serverMaxWindowBits: 12 }],
  ])(
    '%s: every subscriber gets every publish and its own sends, in order',
    { timeout: 60_000 },
    async (_name, options) => {
      const { wss, clients, sides } = await subscribed(options);
      clients.forEach((client, index) =>
        expect(client.ws.extensions === '', `subscriber ${index}`).toBe(!subscribers[index]!.agrees),
      );
      const ROUNDS = 80;
      const expected: Array<Array<Buffer | string>> = subscribers.map(() => []);
      for (let round = 0; round < ROUNDS; round++) {
        const message = published(round);
        expect(wss.publish(TOPIC, message)).toEqual({ delivered: subscribers.length, skipped: 0 });
        sides.forEach((side, index) => {
          side.ws.send(own(round, index));
          expected[index]!.push(message, own(round, index));
        });
      }
      for (const [index, client] of clients.entries()) {
        const context = `subscriber ${index} ${JSON.stringify(subscribers[index])}`;
        const received = await client.nextMessages(2 * ROUNDS);
        const wanted = expected[index]!;
        expect(
          received.map((message) => message.isBinary),
          context,
        ).toEqual(wanted.map((data) => typeof data !== 'string'));
        expect(
          received.map((message, i) => message.data.equals(Buffer.from(wanted[i]!))),
          context,
        ).toEqual(wanted.map(() => true));
        expect(client.errors, context).toEqual([]);
        // On the wire: compressed exactly when agreed and at or above the threshold.
        const frames = dataFrames(tap!.connections[index]!.toClient);
        expect(
          frames.map((frame) => frame.rsv1),
          context,
        ).toEqual(wanted.map((data) => subscribers[index]!.agrees && Buffer.byteLength(data) >= THRESHOLD));
      }
    },
  );

  it(
    'a 1 MiB publish and a burst of 500 small ones reach every subscriber intact and in order',
    { timeout: 60_000 },
    async () => {
      const { wss, clients } = await subscribed({ threshold: THRESHOLD });
      const big = compressibleBinary(1024 * 1024);
      const burst = Array.from({ length: 500 }, (_, i) =>
        i % 10 === 0 ? compressibleText(1000, i) : `tick ${i}`,
      );
      expect(wss.publish(TOPIC, big)).toEqual({ delivered: subscribers.length, skipped: 0 });
      for (const message of burst) wss.publish(TOPIC, message);
      for (const [index, client] of clients.entries()) {
        const received = await client.nextMessages(501);
        expect(received[0]!.data.equals(big), `subscriber ${index}: the 1 MiB message`).toBe(true);
        expect(
          received.slice(1).map((message) => message.data.toString()),
          `subscriber ${index}: the burst`,
        ).toEqual(burst);
      }
    },
  );

  it('subscribers joining after earlier compressed traffic inflate later publishes correctly', async () => {
    const { wss, clients, sides } = await subscribed({ threshold: 64 });
    // Each server side first sends a few compressed messages of its own, filling its context.
    sides.forEach((side, index) => {
      for (let i = 0; i < 5; i++) side.ws.send(compressibleText(500, index * 10 + i));
    });
    const later = [compressibleText(2000, 99), compressibleText(2000, 99), 'tiny', compressibleText(800, 98)];
    for (const message of later) wss.publish(TOPIC, message);
    for (const [index, client] of clients.entries()) {
      const received = await client.nextMessages(9);
      expect(
        received.slice(5).map((message) => message.data.toString()),
        `subscriber ${index}`,
      ).toEqual(later);
      expect(received.slice(0, 5).map((message) => message.data.toString())).toEqual(
        [0, 1, 2, 3, 4].map((i) => compressibleText(500, index * 10 + i)),
      );
    }
  });
  it('a publish while a subscriber is in the middle of a compressed fragmented send lands after that message', async () => {
    const { wss, clients, sides } = await subscribed({ threshold: 64 });
    const parts = [compressibleText(3000, 1), compressibleText(2000, 2), compressibleText(1000, 3)];
    const news = [compressibleText(1500, 4), 'short news'];
    // Every server side starts a fragmented message; publishes come between its fragments.
    for (const side of sides) side.ws.send(parts[0]!, { fin: false });
    wss.publish(TOPIC, news[0]!);
    for (const side of sides) side.ws.send(parts[1]!, { fin: false });
    wss.publish(TOPIC, news[1]!);
    for (const side of sides) side.ws.send(parts[2]!, { fin: true });
    sides.forEach((side, index) => side.ws.send(`after ${index}`));
    for (const [index, client] of clients.entries()) {
      const received = await client.nextMessages(4);
      expect(
        received.map((message) => message.data.toString()),
        `subscriber ${index} ${JSON.stringify(subscribers[index])}`,
      ).toEqual([parts.join(''), ...news, `after ${index}`]);
      expect(client.errors).toEqual([]);
    }
  });
});
