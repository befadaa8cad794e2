// One message to many connections with different agreements (beyond Autobahn): the server here
// publishes every message it receives to all its connections (npm ws, without pub/sub, sends it to
// each). Each connection must get it as its own agreement says — compressed with its window and
// takeover, or plain when it did not offer compression — whoever sent it and whatever the others
// agreed; subscribers that reset their context with the same settings may share one frame, and
// their payloads are then identical anyway (zlib is deterministic from an empty window).
import { describe, expect, it } from 'vitest';
import { expectCleanClose, expectEcho } from './assertions.ts';
import { CorpusCursor } from './deflate-corpus.ts';
import { useDeflateEchoServer, type AnswerParams, type DeflateConnection } from './deflate-session.ts';
import { frames, OPCODE } from './raw-client.ts';

const { openDeflate, errorCodes } = useDeflateEchoServer({}, { broadcast: true });

const SNCT = { server_no_context_takeover: true } as const;

/** The connections of one room: [offer, expected answer] (null offer: compression not offered). */
const ROOM: Array<[string | undefined, AnswerParams | null]> = [
  ['permessage-deflate', {}],
  ['permessage-deflate; server_no_context_takeover', { ...SNCT }],
  ['permessage-deflate; server_no_context_takeover', { ...SNCT }],
  [
    'permessage-deflate; server_no_context_takeover; server_max_window_bits=9',
    { ...SNCT, server_max_window_bits: '9' },
  ],
  [
    'permessage-deflate; server_max_window_bits=10; client_max_window_bits=9',
    {
      server_max_window_bits: '10',
      client_max_window_bits: '9',
    },
  ],
  [undefined, null],
];

async function openRoom(): Promise<DeflateConnection[]> {
  const room: DeflateConnection[] = [];
  for (const [offer, answer] of ROOM) room.push(await openDeflate(offer, answer));
  return room;
}

/** Sends `data` from `sender` (compressed if it agreed compression) and checks everyone got it. */
async function broadcast(room: DeflateConnection[], sender: number, opcode: number, data: Buffer) {
  const from = room[sender]!;
  if (from.agreement === null) {
    await from.client.send(opcode === OPCODE.TEXT ? frames.text(data) : frames.binary(data));
  } else {
    await from.send(opcode, data);
  }
  for (const connection of room) {
    if (connection.agreement !== null) await connection.expectEcho(opcode, data);
    else await (opcode === OPCODE.TEXT ? expectEcho.text : expectEcho.binary)(connection.client, data);
  }
}

describe('one message to connections with different agreements', () => {
  it('reaches each connection compressed as it agreed, whoever sends it', async () => {
    const room = await openRoom();
    const cursor = new CorpusCursor('text');
    for (let round = 0; round < 3; round++) {
      for (const [sender] of room.entries()) {
        for (const size of [40, 2500, 70_000]) await broadcast(room, sender, OPCODE.TEXT, cursor.next(size));
      }
    }
    for (const connection of room) await expectCleanClose(connection.client);
    expect(await errorCodes()).toEqual([]);
  });

  it('gives the subscribers that reset with the same settings the same payload', async () => {
    const room = await openRoom();
    const data = new CorpusCursor('binary').next(9000);
    for (let i = 0; i < 3; i++) await broadcast(room, 0, OPCODE.BINARY, data);
    const lastPayload = (connection: DeflateConnection) => connection.client.frames.at(-1)!.payload;
    expect(lastPayload(room[1]!).equals(lastPayload(room[2]!))).toBe(true);
    // The connection with takeover refers to the earlier copies: its last payload is far smaller.
    expect(lastPayload(room[0]!).length).toBeLessThan(lastPayload(room[1]!).length / 4);
    for (const connection of room) await expectCleanClose(connection.client);
  });

  it('goes on reaching the others when one connection closes in the middle', async () => {
    const room = await openRoom();
    const cursor = new CorpusCursor('binary');
    await broadcast(room, 1, OPCODE.BINARY, cursor.next(5000));
    const [leaving] = room.splice(2, 1);
    await expectCleanClose(leaving!.client);
    for (let sender = 0; sender < room.length; sender++) {
      await broadcast(room, sender, OPCODE.BINARY, cursor.next(5000));
    }
    for (const connection of room) await expectCleanClose(connection.client);
  });
});
