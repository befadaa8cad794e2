// Compression across a connection's life: messages held behind pause() are inflated and delivered
// in order on resume(), a zip bomb behind paused messages is reported after them, send callbacks
// of compressed and plain messages run in order, and terminate() in the middle of large
// compressed traffic (with contexts held by takeover) leaves nothing behind.
import { describe, expect, it } from 'vitest';
import { checkNothingLeaksAfterEach, turns, waitFor } from '../../helpers.ts';
import { closeCodeOf, frames, RawClient } from '../conformance/raw-client.ts';
import { compressMessage, zeroBomb } from './compressed-frames.ts';
import { compressibleBinary, compressibleText, startServer, WAIT_MS } from './deflate-fixtures.ts';
import { link, unlink } from './tapped-link.ts';

checkNothingLeaksAfterEach({ fds: true });

interface Pausable {
  pause(): void;
  resume(): void;
}

describe('pause() and resume() with compressed messages', () => {
  it('50 compressed messages held behind pause() arrive in order on resume()', async () => {
    const current = await link(true, true, false);
    try {
      const { client, side } = current;
      (side.ws as unknown as Pausable).pause();
      const sent = Array.from({ length: 50 }, (_, i) =>
        i % 5 === 4 ? `plain ${i}` : compressibleText(2000 + i, i),
      );
      for (const message of sent) client.ws.send(message);
      // Every frame went through the proxy to the server, which then had turns to read them.
      await current.tap.waitForFrames(0, 'toServer', 50);
      await turns(10);
      expect(side.messages).toHaveLength(0);
      (side.ws as unknown as Pausable).resume();
      const received = await side.nextMessages(50);
      expect(received.map((message, i) => message.data.toString() === sent[i])).toEqual(sent.map(() => true));
      expect(side.errors).toEqual([]);
    } finally {
      await unlink(current);
    }
  });

  it('a zip bomb behind paused messages is reported after them on resume()', async () => {
    const server = await startServer({ perMessageDeflate: true, maxPayload: 1024 * 1024, echo: false });
    const client = await RawClient.connect(server.port);
    try {
      await client.handshake({ headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } });
      const side = await server.side(0);
      (side.ws as unknown as Pausable).pause();
      const texts = ['first '.repeat(300), 'second '.repeat(300)];
      await client.send(
        Buffer.concat([
          frames.text(compressMessage(texts[0]!), { rsv1: true }),
          frames.text(compressMessage(texts[1]!, texts[0]), { rsv1: true }),
          frames.binary(zeroBomb(2), { rsv1: true }),
        ]),
      );
      await turns(10);
      expect(side.messages).toHaveLength(0);
      (side.ws as unknown as Pausable).resume();
      const close = await client.waitForCloseFrame();
      expect(closeCodeOf(close)).toBe(1009);
      await waitFor(() => side.closes.length === 1, WAIT_MS, 'the server side to close');
      expect(side.messages.map((message) => message.data.toString())).toEqual(texts);
      expect(side.errors.map((error) => error.code)).toEqual(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
    } finally {
      client.destroy();
      await server.close();
    }
  });
});

describe('send callbacks and terminate()', () => {
  it('callbacks of compressed and plain sends run once each, in order, without an error', async () => {
    const current = await link(true, true, false);
    try {
      const { client, side } = current;
      const order: string[] = [];
      const sent = ['a', compressibleText(5000), compressibleBinary(3000), 'b', compressibleText(70_000)];
      sent.forEach((message, i) =>
        client.ws.send(message, {}, (error) =>
          order.push(error ? `error ${i}: ${error.message}` : `ok ${i}`),
        ),
      );
      await side.nextMessages(sent.length);
      await waitFor(() => order.length === sent.length, WAIT_MS, 'every callback');
      expect(order).toEqual(sent.map((_, i) => `ok ${i}`));
    } finally {
      await unlink(current);
    }
  });

  for (const takeover of [true, false]) {
    it(`terminate() in the middle of large compressed traffic both ways (${takeover ? 'takeover' : 'no takeover'})`, async () => {
      const options = takeover ? true : { serverNoContextTakeover: true, clientNoContextTakeover: true };
      const current = await link(options, options, false);
      try {
        const { client, side } = current;
        const big = compressibleBinary(4 * 1024 * 1024);
        for (let i = 0; i < 4; i++) {
          client.ws.send(big);
          side.ws.send(big);
        }
        client.ws.send(compressibleText(3000), { fin: false }); // a compressed message left open
        await side.nextMessages(1);
        side.ws.terminate();
        await waitFor(
          () => client.closes.length === 1 && side.closes.length === 1,
          WAIT_MS,
          'both ends closed',
        );
        expect(side.closes[0]!.code).toBe(1006);
        expect(side.errors).toEqual([]);
      } finally {
        await unlink(current);
      }
    });
  }
});
