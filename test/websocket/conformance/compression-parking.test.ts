// Context takeover across parking: this server parks the zlib contexts of a connection idle with
// takeover (keeping a copy of each window) and restores them for its next message. Parking every
// context between the messages — and between the fragments of one — must not change a byte on the
// wire that matters: the client's messages referring back into earlier ones still inflate, the
// server's echoes keep to the agreed window (checked by the raw client's scanner) and inflate with
// the client's own continuing context. Under npm ws nothing is parked and the cases simply pass.
import { describe, expect, it } from 'vitest';
import { native } from '../../../src/native.ts';
import { expectCleanClose, expectEcho } from './assertions.ts';
import { CorpusCursor } from './deflate-corpus.ts';
import { useDeflateEchoServer, type AnswerParams } from './deflate-session.ts';
import { IMPLEMENTATION } from './echo-server.ts';
import { frames, OPCODE } from './raw-client.ts';

const { openDeflate, errorCodes } = useDeflateEchoServer();

/** Parks every context idle for 0 ms or more: all that are not in the middle of a call. */
const parkAll = () => native.wsZlibContexts(0);

const AGREEMENTS: Array<[string, AnswerParams]> = [
  ['permessage-deflate', {}],
  ['permessage-deflate; server_max_window_bits=9', { server_max_window_bits: '9' }],
  ['permessage-deflate; client_max_window_bits=9', { client_max_window_bits: '9' }],
  [
    'permessage-deflate; server_max_window_bits=11; client_max_window_bits=10',
    { server_max_window_bits: '11', client_max_window_bits: '10' },
  ],
];

describe('context takeover across parking', () => {
  for (const [offer, answer] of AGREEMENTS) {
    it(`keeps both windows when parked between every message (${offer})`, async () => {
      const connection = await openDeflate(offer, answer);
      const cursor = new CorpusCursor('text');
      const repeated = cursor.next(3000);
      const sent = [repeated, cursor.next(40_000), repeated, cursor.next(200), repeated];
      for (const [n, data] of sent.entries()) {
        // From the second message on, the connection's compressor and decompressor are parked.
        expect(parkAll().parked).toBe(n === 0 || IMPLEMENTATION === 'ws' ? 0 : 2);
        await connection.send(OPCODE.TEXT, data, 8000);
        await connection.expectEcho(OPCODE.TEXT, data);
      }
      await expectCleanClose(connection.client);
      expect(await errorCodes()).toEqual([]);
    });
  }

  it('keeps a message that refers into a parked window, with parking tried between its fragments', async () => {
    const connection = await openDeflate('permessage-deflate', {});
    const cursor = new CorpusCursor('binary');
    const first = cursor.next(20_000);
    await connection.send(OPCODE.BINARY, first);
    await connection.expectEcho(OPCODE.BINARY, first);
    expect(parkAll().parked).toBe(IMPLEMENTATION === 'ws' ? 0 : 2);
    const data = Buffer.concat([first.subarray(0, 10_000), cursor.next(30_000)]);
    const payload = await connection.compress(data);
    const cuts = [0, 301, Math.floor(payload.length / 2), payload.length];
    for (let i = 0; i < 3; i++) {
      const piece = payload.subarray(cuts[i], cuts[i + 1]);
      const last = i === 2;
      await connection.client.send(
        i === 0
          ? frames.binary(piece, { fin: false, rsv1: true })
          : frames.continuation(piece, { fin: last }),
      );
      if (last) break;
      await connection.client.send(frames.ping(`p${i}`));
      await expectEcho.pong(connection.client, `p${i}`);
      // Whatever the server parks now, the message in progress must come through.
      parkAll();
    }
    await connection.expectEcho(OPCODE.BINARY, data);
    await expectCleanClose(connection.client);
    expect(await errorCodes()).toEqual([]);
  });
});
