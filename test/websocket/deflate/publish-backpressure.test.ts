// A compressed publish skipped for a subscriber over its backpressureBytes must leave that
// subscriber's compression context as it was: with context takeover, later messages may refer
// back only to what the subscriber really received. The subscriber (a ws client, an independent
// inflater) stops reading until publishes are skipped, then reads again; copies of the skipped
// messages published afterwards must inflate to themselves, and everything delivered arrives in
// order and intact.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from '../../../src/websocket/index.ts';
import type { PerMessageDeflateOptions } from '../../../src/websocket/deflate/options.ts';
import { checkNothingLeaksAfterEach, nextTurn } from '../../helpers.ts';
import { startServer } from './deflate-fixtures.ts';

checkNothingLeaksAfterEach({ fds: true });

const TOPIC = 'stream';
const MESSAGE_BYTES = 16 * 1024;
const MAX_PUBLISHES = 4000; // 64 MiB: far more than the socket buffers and backpressureBytes hold

interface PausableClient {
  pause(): void;
  resume(): void;
}

describe.each([
  ['takeover', {}],
  ['no takeover', { serverNoContextTakeover: true, clientNoContextTakeover: true }],
] as Array<[string, PerMessageDeflateOptions]>)('a subscriber with %s', (_name, clientOptions) => {
  it('publishes skipped under backpressure leave its context as it was', { timeout: 60_000 }, async () => {
    const server = await startServer({
      perMessageDeflate: { threshold: 0 },
      backpressureBytes: 64 * 1024,
      echo: false,
    });
    try {
      const client = await server.connect(clientOptions, { impl: 'ws' });
      const side = await server.side(0);
      expect(client.ws.extensions).toMatch(/^permessage-deflate\b/);
      expect((side.ws as unknown as { subscribe(topic: string): boolean }).subscribe(TOPIC)).toBe(true);
      const wss = server.wss as unknown as WebSocketServer;
      (client.ws as unknown as PausableClient).pause();

      const delivered: Buffer[] = [];
      const skipped: Buffer[] = [];
      for (let i = 0; i < MAX_PUBLISHES && skipped.length < 20; i++) {
        // Half random, half a phrase every message repeats: compressible against earlier ones.
        const message = Buffer.concat([
          randomBytes(MESSAGE_BYTES / 2),
          Buffer.alloc(MESSAGE_BYTES / 2, i % 7),
        ]);
        const result = wss.publish(TOPIC, message);
        expect(result.delivered + result.skipped).toBe(1);
        (result.delivered === 1 ? delivered : skipped).push(message);
        if (i % 16 === 15) await nextTurn(); // let libevent write what the socket takes
      }
      expect(skipped.length).toBeGreaterThanOrEqual(20);

      (client.ws as unknown as PausableClient).resume();
      await client.nextMessages(delivered.length);
      // Copies of the last skipped messages, still within a 32 KiB window had they entered the
      // context (the subscriber never saw them), and of delivered ones.
      const after = [skipped.at(-1)!, skipped.at(-2)!, ...delivered.slice(-2), skipped.at(-1)!];
      for (const message of after) expect(wss.publish(TOPIC, message)).toEqual({ delivered: 1, skipped: 0 });
      const expected = [...delivered, ...after];
      const received = await client.nextMessages(expected.length);
      expect(received.map((message, i) => message.data.equals(expected[i]!))).toEqual(
        expected.map(() => true),
      );
      expect(client.errors.map((error) => error.message)).toEqual([]);
      expect((side.ws as unknown as { skippedPublishes: number }).skippedPublishes).toBe(skipped.length);
    } finally {
      await server.close();
    }
  });
});
