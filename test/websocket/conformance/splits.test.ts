// Every fixture stream, written to the server whole, in two writes split at every position, and one
// byte per write, gets byte-for-byte the same reply (up to the server closing TCP), and that reply is
// the expected one. This is where a parser that loses state between reads shows.
import { describe, expect, it } from 'vitest';
import { useEchoServer } from './echo-server.ts';
import { closeCodeOf, OPCODE, parseServerFrames, type Chunking } from './raw-client.ts';
import { SPLIT_FIXTURES, type ExpectedReply } from './split-fixtures.ts';

const { open, server } = useEchoServer();

/** Connections run at once: enough to finish quickly, few enough for a 2-core machine. */
const PARALLEL = 4;

/** Sends `bytes` after a handshake and returns everything the server sent until it closed TCP. */
async function replyTo(bytes: Buffer, chunking: Chunking): Promise<Buffer> {
  const client = await open();
  await client.send(bytes, chunking);
  const { bytes: reply } = await client.readUntilTcpClose();
  client.destroy();
  return reply;
}

/** The reply decoded for comparison with the expectation: close frames by code, others by payload. */
function decode(reply: Buffer): ExpectedReply[] {
  return parseServerFrames(reply).map((frame) => {
    expect({ fin: frame.fin, masked: frame.masked, rsv: frame.rsv1 || frame.rsv2 || frame.rsv3 }).toEqual({
      fin: true,
      masked: false,
      rsv: false,
    });
    return frame.opcode === OPCODE.CLOSE
      ? { opcode: OPCODE.CLOSE, code: closeCodeOf(frame) }
      : ({ opcode: frame.opcode, payload: frame.payload } as ExpectedReply);
  });
}

/** Runs `task` for each item, PARALLEL at a time; returns the results in item order. */
async function inParallel<T, R>(items: T[], task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return results;
}

describe.each(SPLIT_FIXTURES)('split fixture: $name', ({ bytes, replies }) => {
  it(`is at most 300 bytes`, () => {
    expect(bytes.length).toBeLessThanOrEqual(300);
  });

  it('gets the expected reply when written whole', async () => {
    expect(decode(await replyTo(bytes, 'whole'))).toEqual(replies);
  });

  it('gets the same reply bytes when split in two at every position', async () => {
    const whole = await replyTo(bytes, 'whole');
    const positions = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
    const connectionsBefore = server().connections;
    const splitReplies = await inParallel(positions, (at) => replyTo(bytes, { splitAt: [at] }));
    expect(server().connections - connectionsBefore, 'one connection per split').toBe(positions.length);
    const differing = positions.filter((_, i) => !splitReplies[i]!.equals(whole));
    expect(differing, 'split positions whose reply differs').toEqual([]);
  });

  it('gets the same reply bytes when written one byte per write', async () => {
    const whole = await replyTo(bytes, 'whole');
    const bytewise = await replyTo(bytes, 'bytewise');
    expect(bytewise.toString('hex')).toBe(whole.toString('hex'));
  });
});
