// The threshold (not in Autobahn, whose cases assume every message is compressed): with the default
// of 1024 bytes a server sends smaller messages plain (RSV1 clear) on a compressed connection, and
// the client's messages are inflated whatever their size.
import { describe, expect, it } from 'vitest';
import { expectCleanClose } from './assertions.ts';
import { CorpusCursor } from './deflate-corpus.ts';
import { useDeflateEchoServer } from './deflate-session.ts';
import { IMPLEMENTATION } from './echo-server.ts';
import { OPCODE } from './raw-client.ts';

const DEFAULT_OFFER = 'permessage-deflate; client_max_window_bits';

const { openDeflate, errorCodes } = useDeflateEchoServer({ threshold: 1024 });

// ws applies its threshold only to a sender without context takeover (with it, ws compresses every
// message); this server applies it to every message, as its documentation says.
describe('the default threshold (1024 bytes): smaller echoes are sent plain', () => {
  for (const { offer, plainBelowThreshold } of [
    { offer: 'permessage-deflate; server_no_context_takeover', plainBelowThreshold: true },
    { offer: DEFAULT_OFFER, plainBelowThreshold: IMPLEMENTATION !== 'ws' },
  ]) {
    it(`sends 1023 bytes ${plainBelowThreshold ? 'plain' : 'compressed'} and 1024 bytes compressed (offer "${offer}")`, async () => {
      const connection = await openDeflate(
        offer,
        offer === DEFAULT_OFFER ? {} : { server_no_context_takeover: true },
      );
      const cursor = new CorpusCursor('binary');
      const sent = [cursor.next(1023), cursor.next(1024), cursor.next(10), cursor.next(50_000)];
      for (const data of sent) await connection.send(OPCODE.BINARY, data);
      for (const data of sent) {
        await connection.expectEcho(OPCODE.BINARY, data, data.length >= 1024 || !plainBelowThreshold);
      }
      await expectCleanClose(connection.client);
      expect(await errorCodes()).toEqual([]);
    });
  }
});
