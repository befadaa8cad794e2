// What the conformance cases expect of the server's side of a connection, and the payloads they send.
import { expect } from 'vitest';
import {
  closeCodeOf,
  frames,
  OPCODE,
  type RawClient,
  type ServerFrame,
  type ServerMessage,
  type TcpEnd,
} from './raw-client.ts';

/** `length` bytes of printable ASCII that do not repeat with a short period. */
export function asciiText(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += String.fromCharCode(0x21 + ((i * 7 + (i >> 8)) % 94));
  return out;
}

/** `length` bytes covering every byte value, not repeating with a short period. */
export function binaryBytes(length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + (i >> 8) * 17) & 0xff;
  return out;
}

/** A frame the server sent must be unmasked and have no RSV bit (no extension was negotiated). */
export function expectWellFormed(frame: ServerFrame): void {
  expect({ masked: frame.masked, rsv1: frame.rsv1, rsv2: frame.rsv2, rsv3: frame.rsv3 }).toEqual({
    masked: false,
    rsv1: false,
    rsv2: false,
    rsv3: false,
  });
}

/** Reads the next message and checks it is `opcode` with exactly `data`. */
export async function expectMessage(
  client: RawClient,
  opcode: number,
  data: Buffer | string,
): Promise<ServerMessage> {
  const message = await client.readMessage();
  const expected = typeof data === 'string' ? Buffer.from(data) : data;
  expect(message.opcode, 'opcode').toBe(opcode);
  expect(message.data.length, 'payload length').toBe(expected.length);
  expect(message.data.equals(expected), 'payload bytes').toBe(true);
  for (const frame of client.frames.slice(-message.frames)) expectWellFormed(frame);
  return message;
}

export const expectEcho = {
  text: (client: RawClient, data: Buffer | string) => expectMessage(client, OPCODE.TEXT, data),
  binary: (client: RawClient, data: Buffer | string) => expectMessage(client, OPCODE.BINARY, data),
  pong: (client: RawClient, data: Buffer | string) => expectMessage(client, OPCODE.PONG, data),
};

/**
 * The server's next frame is a close frame with `code` (nothing came before it unless `before` lists
 * those messages' opcodes), and then it closes TCP by itself: after a client-initiated close because
 * the close handshake is complete, after a protocol error because failing the connection means
 * closing it (RFC 6455 §7.1.7) without waiting for our answer.
 */
export async function expectClose(
  client: RawClient,
  code: number | undefined,
  { before = [] as number[] } = {},
): Promise<ServerFrame & { before: ServerMessage[] }> {
  const close = await client.waitForCloseFrame();
  expect(
    close.before.map((message) => message.opcode),
    'messages before the close frame',
  ).toEqual(before);
  expectWellFormed(close);
  expect(closeCodeOf(close), 'close code').toBe(code);
  await expectNothingMoreBeforeTcpClose(client);
  return close;
}

/** The normal end: we send close 1000, the server answers with close 1000 and closes TCP with a FIN. */
export async function expectCleanClose(client: RawClient): Promise<void> {
  await client.send(frames.close(1000));
  const close = await client.waitForCloseFrame();
  expect(close.before, 'messages before the close frame').toEqual([]);
  expect(closeCodeOf(close)).toBe(1000);
  expect(await expectNothingMoreBeforeTcpClose(client)).toBe('fin');
}

/** After its close frame the server sends nothing more (RFC 6455 §5.5.1) and closes TCP. */
export async function expectNothingMoreBeforeTcpClose(client: RawClient): Promise<TcpEnd> {
  const { bytes, end } = await client.readUntilTcpClose();
  expect(bytes.length, 'bytes the server sent after its close frame').toBe(0);
  return end;
}
