// write() with strings, Uint8Arrays and Buffers (large ones by reference) and read(n): bytes arrive intact.
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BuffereventError } from '../../src/index.ts';
import { EV, liveCounts, tcpPair, turns, waitFor } from '../helpers.ts';

const BY_REFERENCE = 16 * 1024;

let start: ReturnType<typeof liveCounts>;
beforeEach(() => {
  start = liveCounts();
});
afterEach(() => {
  expect(liveCounts()).toEqual(start);
});

/** One write's argument and the bytes it stands for. */
type Piece = { data: string | Uint8Array | Buffer; bytes: Buffer };

function makePieces(total: number): Piece[] {
  const pieces: Piece[] = [];
  let size = 0;
  for (let i = 0; size < total; i++) {
    let piece: Piece;
    switch (i % 6) {
      case 0: {
        const text = `héllo ✓ ${i} ☃\n`;
        piece = { data: text, bytes: Buffer.from(text, 'utf8') };
        break;
      }
      case 1: {
        // A view with a non-zero offset into a larger ArrayBuffer, small enough to be copied.
        const backing = new Uint8Array(randomBytes(700));
        const view = backing.subarray(123, 623);
        piece = { data: view, bytes: Buffer.from(view) };
        break;
      }
      case 2: {
        const backing = new Uint8Array(randomBytes(BY_REFERENCE + 5_000));
        const view = backing.subarray(1_000, 1_000 + BY_REFERENCE + 1_000);
        piece = { data: view, bytes: Buffer.from(view) };
        break;
      }
      case 3: {
        const small = randomBytes(1_000);
        piece = { data: small, bytes: Buffer.from(small) };
        break;
      }
      case 4: {
        const large = randomBytes(64 * 1024);
        piece = { data: large, bytes: Buffer.from(large) };
        break;
      }
      default: {
        const slice = randomBytes(BY_REFERENCE * 2).subarray(17, 17 + BY_REFERENCE);
        piece = { data: slice, bytes: Buffer.from(slice) };
      }
    }
    pieces.push(piece);
    size += piece.bytes.length;
  }
  return pieces;
}

describe('transfer through write() and read(n)', () => {
  it('delivers 4 MiB of mixed strings, Uint8Arrays and Buffers intact, read in varied sizes', async () => {
    const { client, server } = await tcpPair();
    let pieces: Piece[] | undefined = makePieces(4 * 1024 * 1024);
    const expected = createHash('sha256');
    let total = 0;
    for (const piece of pieces) {
      expected.update(piece.bytes);
      total += piece.bytes.length;
    }
    const expectedHash = expected.digest('hex');

    const sizes = [1, 7, 4096, 100_000, 65_536];
    const actual = createHash('sha256');
    let received = 0;
    let readCalls = 0;
    let shortReads = 0;
    server.setCallbacks({
      read(bev) {
        while (bev.input.length > 0) {
          const wanted = sizes[readCalls++ % sizes.length]!;
          const available = bev.input.length;
          const chunk = bev.read(wanted);
          if (chunk.length !== Math.min(wanted, available)) shortReads++;
          actual.update(chunk);
          received += chunk.length;
        }
      },
    });

    client.disable(EV.WRITE);
    for (const piece of pieces) client.write(piece.data);
    expect(client.output.length).toBe(total);
    // The large pieces are held by reference only: collecting our copies must not free them.
    pieces = undefined;
    expect(typeof globalThis.gc).toBe('function');
    globalThis.gc!();
    client.enable(EV.WRITE);
    server.enable(EV.READ);
    await waitFor(() => received === total, 20_000, 'all bytes');
    await turns(3);
    expect(received).toBe(total);
    expect(shortReads).toBe(0);
    expect(actual.digest('hex')).toBe(expectedHash);
    client.free();
    server.free();
  });

  it('sends Buffers of 16 KiB or more by reference and copies smaller ones', async () => {
    const { client, server } = await tcpPair();
    const large = Buffer.alloc(BY_REFERENCE, 0x61);
    const small = Buffer.alloc(BY_REFERENCE - 1, 0x62);
    client.disable(EV.WRITE);
    client.write(large).write(small);
    large.fill(0x41); // visible: libevent holds this memory
    small.fill(0x42); // invisible: libevent copied it
    let bytes = Buffer.alloc(0);
    server.setCallbacks({ read: (bev) => (bytes = Buffer.concat([bytes, bev.read()])) });
    server.enable(EV.READ);
    client.enable(EV.WRITE);
    await waitFor(() => bytes.length === large.length + small.length, 5_000, 'both buffers');
    expect(bytes.subarray(0, BY_REFERENCE).equals(Buffer.alloc(BY_REFERENCE, 0x41))).toBe(true);
    expect(bytes.subarray(BY_REFERENCE).equals(Buffer.alloc(BY_REFERENCE - 1, 0x62))).toBe(true);
    client.free();
    server.free();
  });

  it('returns at most n bytes from read(n), an empty Buffer when nothing is buffered, and all bytes from read()', async () => {
    const { client, server } = await tcpPair();
    expect(server.read()).toEqual(Buffer.alloc(0));
    expect(server.read(10)).toEqual(Buffer.alloc(0));
    server.enable(EV.READ);
    client.write('0123456789');
    await waitFor(() => server.input.length === 10, 5_000, 'ten bytes');
    expect(server.read(0)).toEqual(Buffer.alloc(0));
    expect(server.read(3).toString()).toBe('012');
    expect(server.read(100).toString()).toBe('3456789');
    expect(server.input.length).toBe(0);
    client.write('abc');
    await waitFor(() => server.input.length === 3, 5_000, 'three bytes');
    const all = server.read();
    expect(Buffer.isBuffer(all)).toBe(true);
    expect(all.toString()).toBe('abc');
    client.free();
    server.free();
  });

  it('throws ERR_INVALID_ARG for data that is not a string, Uint8Array or Buffer, and for a bad count', async () => {
    const { client, server } = await tcpPair();
    for (const bad of [42, null, undefined, {}, [1, 2, 3], new ArrayBuffer(4)]) {
      expect(() => client.write(bad as unknown as string)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG' }),
      );
    }
    for (const bad of [-1, 1.5, Number.NaN]) {
      expect(() => server.read(bad)).toThrow(BuffereventError);
      expect(() => server.read(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    }
    expect(client.output.length).toBe(0);
    client.free();
    server.free();
  });
});
