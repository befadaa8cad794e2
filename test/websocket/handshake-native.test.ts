// The native halves of the server's opening handshake (native/ws/handshake_head.cc): taking the
// request head out of a bufferevent's input, and Sec-WebSocket-Accept by the addon's own SHA-1.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native.ts';
import { buffereventHandles } from '../../src/native-handles.ts';
import { acceptKeyFor } from '../../src/websocket/handshake.ts';
import { checkNothingLeaksAfterEach, errorCodeOf, EV, socketPairBufferevents, waitFor } from '../helpers.ts';

checkNothingLeaksAfterEach();

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const INCOMPLETE = 0;
const TOO_LARGE = 1;

describe('Sec-WebSocket-Accept', () => {
  it("is RFC 6455's sample answer for its sample key", () => {
    expect(acceptKeyFor('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('equals node:crypto for keys of every length across the SHA-1 block boundaries, UTF-8 included', () => {
    const mismatches: string[] = [];
    for (let length = 0; length <= 200; length++) {
      for (const unit of ['k', 'é', '€']) {
        const key = unit.repeat(length);
        const expected = createHash('sha1')
          .update(key + GUID)
          .digest('base64');
        if (acceptKeyFor(key) !== expected) mismatches.push(`${unit} × ${length}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('refuses a key that is not a string with ERR_INVALID_ARG', () => {
    for (const key of [undefined, 42, {}, Buffer.from('key')]) {
      expect(errorCodeOf(() => native.wsAcceptKey(key as string))).toBe('ERR_INVALID_ARG');
    }
  });
});

describe('reading the request head natively', () => {
  async function received(text: string) {
    const [writer, reader] = socketPairBufferevents();
    writer.enable(EV.WRITE);
    reader.enable(EV.READ);
    writer.write(Buffer.from(text, 'latin1'));
    await waitFor(() => reader.input.length === Buffer.byteLength(text, 'latin1'), 10_000, 'the bytes');
    const free = () => {
      writer.free();
      reader.free();
    };
    return { reader, handle: buffereventHandles.of(reader, 'reader'), free };
  }

  it('answers INCOMPLETE before the blank line, and TOO_LARGE once the bytes pass the limit', async () => {
    const { reader, handle, free } = await received('GET / HTTP/1.1\r\nHost: a\r\n');
    expect(native.wsReadRequestHead(handle, 1024, true)).toBe(INCOMPLETE);
    expect(native.wsReadRequestHead(handle, 20, true)).toBe(TOO_LARGE);
    expect(reader.input.length).toBe(25); // nothing was taken
    free();
  });

  it('counts the blank line against the limit of a complete head', async () => {
    const head = 'GET / HTTP/1.1\r\nHost: a';
    const { handle, free } = await received(`${head}\r\n\r\n`);
    expect(native.wsReadRequestHead(handle, head.length + 3, false)).toBe(TOO_LARGE);
    expect(native.wsReadRequestHead(handle, head.length + 4, false)).toBe(head);
    free();
  });

  it('returns the head without the blank line; drains it only when asked, leaving what follows', async () => {
    const head = 'GET /chat HTTP/1.1\r\nHost: example\r\nX-Bytes: \xff\xe9';
    const { reader, handle, free } = await received(`${head}\r\n\r\nfirst frame`);
    expect(native.wsReadRequestHead(handle, 16384, false)).toBe(head);
    expect(reader.input.length).toBe(head.length + 4 + 'first frame'.length);
    expect(native.wsReadRequestHead(handle, 16384, true)).toBe(head);
    expect(reader.input.toString()).toBe('first frame');
    free();
  });

  it('reads a head larger than its stack copy (10 KiB)', async () => {
    const head = `GET / HTTP/1.1\r\nX-Long: ${'v'.repeat(10 * 1024)}`;
    const { reader, handle, free } = await received(`${head}\r\n\r\n`);
    expect(native.wsReadRequestHead(handle, 16384, true)).toBe(head);
    expect(reader.input.length).toBe(0);
    free();
  });

  it('refuses what is not a live bufferevent or a numeric limit, with a coded error', async () => {
    const { reader, handle, free } = await received('GET');
    expect(errorCodeOf(() => native.wsReadRequestHead({} as typeof handle, 100, true))).toBe(
      'ERR_INVALID_ARG',
    );
    expect(errorCodeOf(() => native.wsReadRequestHead(handle, '100' as unknown as number, true))).toBe(
      'ERR_INVALID_ARG',
    );
    expect(reader.input.length).toBe(3);
    free();
    expect(errorCodeOf(() => native.wsReadRequestHead(handle, 100, true))).toBe('ERR_FREED');
  });
});
