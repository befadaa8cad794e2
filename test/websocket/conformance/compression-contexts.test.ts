// Compression contexts across connections (beyond Autobahn, which runs one connection at a time):
// a server may share the zlib contexts of connections without context takeover, so messages of
// several connections interleaved, and connections that fail or vanish in the middle of a
// compressed message, must leave nothing behind in what the next message is compressed or
// inflated with.
import { describe, expect, it } from 'vitest';
import { expectClose, expectCleanClose } from './assertions.ts';
import { CorpusCursor } from './deflate-corpus.ts';
import { useDeflateEchoServer, type AnswerParams, type DeflateConnection } from './deflate-session.ts';
import { IMPLEMENTATION } from './echo-server.ts';
import { frames, OPCODE } from './raw-client.ts';

const NO_TAKEOVER = 'permessage-deflate; server_no_context_takeover; client_no_context_takeover';
const NO_TAKEOVER_ANSWER: AnswerParams = {
  server_no_context_takeover: true,
  client_no_context_takeover: true,
};
const TAKEOVER = 'permessage-deflate';

const { openDeflate, errorCodes } = useDeflateEchoServer({}, { maxPayload: 256 * 1024 });

const open = (takeover: boolean) =>
  takeover ? openDeflate(TAKEOVER, {}) : openDeflate(NO_TAKEOVER, NO_TAKEOVER_ANSWER);

/** Each connection sends and gets back a few messages of its own, then closes cleanly. */
async function expectWorking(connection: DeflateConnection, kind: 'text' | 'binary', skip: number) {
  const cursor = new CorpusCursor(kind);
  cursor.next(skip);
  const opcode = kind === 'text' ? OPCODE.TEXT : OPCODE.BINARY;
  for (const size of [200, 5000, 60_000]) {
    const data = cursor.next(size);
    await connection.send(opcode, data, size > 10_000 ? 7000 : 0);
    await connection.expectEcho(opcode, data);
  }
  await expectCleanClose(connection.client);
}

describe('interleaved connections', () => {
  it('echo correctly when six connections, half without context takeover, send in turn', async () => {
    const connections = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => open(i % 2 === 0)));
    const cursors = connections.map((_, i) => {
      const cursor = new CorpusCursor(i % 3 === 0 ? 'binary' : 'text');
      cursor.next(i * 7919);
      return cursor;
    });
    for (const size of [100, 3000, 40_000, 100, 120_000, 64, 3000]) {
      const sent = cursors.map((cursor) => cursor.next(size));
      const opcodes = connections.map((_, i) => (i % 3 === 0 ? OPCODE.BINARY : OPCODE.TEXT));
      // Every connection's message is written before any echo is read: the server handles them
      // one after the other, in and out of its contexts.
      for (const [i, connection] of connections.entries()) {
        await connection.send(opcodes[i]!, sent[i]!, size > 50_000 ? 16_384 : 0);
      }
      for (const [i, connection] of connections.entries()) await connection.expectEcho(opcodes[i]!, sent[i]!);
    }
    for (const connection of connections) await expectCleanClose(connection.client);
    expect(await errorCodes()).toEqual([]);
  });

  it('echo correctly when the fragments of two compressed messages on two connections alternate', async () => {
    const [a, b] = [await open(false), await open(false)];
    const textA = new CorpusCursor('text').next(30_000);
    const textB = new CorpusCursor('binary').next(30_000);
    const framesA = await a.encode(OPCODE.TEXT, textA, 1000);
    const framesB = await b.encode(OPCODE.BINARY, textB, 1000);
    // Frames of a 1000-byte payload have a 4-byte header and a 4-byte mask: cut between frames.
    for (let at = 0; at < Math.max(framesA.length, framesB.length); at += 1008 * 3) {
      await a.client.send(framesA.subarray(at, at + 1008 * 3));
      await b.client.send(framesB.subarray(at, at + 1008 * 3));
    }
    await a.expectEcho(OPCODE.TEXT, textA);
    await b.expectEcho(OPCODE.BINARY, textB);
    await expectCleanClose(a.client);
    await expectCleanClose(b.client);
  });
});

const INVALID_CLOSE = IMPLEMENTATION === 'ws' ? 1007 : 1002;

describe('a connection that fails in the middle of a compressed message leaves nothing behind', () => {
  for (const takeover of [false, true]) {
    const which = takeover ? 'with' : 'without';

    it(`${which} context takeover: invalid data after valid fragments, then another connection`, async () => {
      const failing = await open(takeover);
      const payload = await failing.compress(new CorpusCursor('binary').next(20_000));
      // A valid message's data, then a stored block whose NLEN is not LEN's complement.
      await failing.client.send(
        Buffer.concat([
          frames.binary(payload, { fin: false, rsv1: true }),
          frames.continuation(Buffer.from([0xff, 0xff, 0xff, 0xff])),
        ]),
      );
      await expectClose(failing.client, INVALID_CLOSE);
      await expectWorking(await open(takeover), 'binary', 0);
    });

    it(`${which} context takeover: a zip bomb stopped at maxPayload, then another connection`, async () => {
      const failing = await open(takeover);
      const bomb = await failing.encode(OPCODE.TEXT, Buffer.alloc(8 * 1024 * 1024, 0x61), 500);
      await failing.client.send(bomb);
      await expectClose(failing.client, 1009);
      expect(await errorCodes()).toEqual(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
      await expectWorking(await open(takeover), 'text', 0);
    });

    it(`${which} context takeover: a socket closed in the middle of a message, then another connection`, async () => {
      const leaving = await open(takeover);
      const cursor = new CorpusCursor('text');
      const first = cursor.next(5000);
      await leaving.send(OPCODE.TEXT, first);
      await leaving.expectEcho(OPCODE.TEXT, first);
      const message = await leaving.encode(OPCODE.TEXT, cursor.next(100_000), 4000);
      await leaving.client.send(message.subarray(0, message.length >> 1));
      leaving.client.destroy();
      await expectWorking(await open(takeover), 'text', 3000);
      expect(await errorCodes()).toEqual([]);
    });
  }

  it('a compressed message sent one byte per write after another connection failed', async () => {
    const failing = await open(false);
    await failing.client.send(frames.text(Buffer.from([0xff, 0xff, 0xff, 0xff]), { rsv1: true }));
    await expectClose(failing.client, 1007);
    const next = await open(false);
    const data = new CorpusCursor('text').next(800);
    await next.client.send(await next.encode(OPCODE.TEXT, data, 100), 'bytewise');
    await next.expectEcho(OPCODE.TEXT, data);
    await expectCleanClose(next.client);
  });
});
