// Reading the receive pool's index (src/websocket/message-batch.ts) for a pool whose words are not
// 4-byte aligned, a case the addon's own Buffers never produce: the index of each batch must be
// read from the pool as it is now, not from a copy made for an earlier batch of the same pool.
import { describe, expect, it } from 'vitest';
import { isBinaryEntry, poolIndexOf, poolMessage } from '../../src/websocket/message-batch.ts';

/** Writes entry (offset, length | binary bit) at byte `at` of `pool`, little-endian as the addon. */
function writeEntry(pool: Buffer, at: number, offset: number, length: number, binary: boolean): void {
  pool.writeUInt32LE(offset, at);
  pool.writeUInt32LE((length | (binary ? 0x80000000 : 0)) >>> 0, at + 4);
}

describe('poolIndexOf', () => {
  it('reads a later batch of the same unaligned pool, not a stale copy of the first', () => {
    const pool = Buffer.alloc(129).subarray(1);
    expect(pool.byteOffset % 4).not.toBe(0);
    pool.write('abc', 0);
    writeEntry(pool, 8, 0, 3, false);
    const first = poolIndexOf(pool);
    expect(poolMessage(pool.buffer as ArrayBuffer, pool.byteOffset, first, 2).toString()).toBe('abc');

    // The next batch, further on in the same pool.
    pool.write('defgh', 16);
    writeEntry(pool, 24, 16, 5, true);
    const second = poolIndexOf(pool);
    expect(poolMessage(pool.buffer as ArrayBuffer, pool.byteOffset, second, 6).toString()).toBe('defgh');
    expect(isBinaryEntry(second, 6)).toBe(true);
  });

  it('an aligned pool: one view for all its batches, reading what each wrote', () => {
    const pool = Buffer.alloc(128);
    pool.write('xy', 0);
    writeEntry(pool, 8, 0, 2, false);
    const first = poolIndexOf(pool);
    pool.write('z', 16);
    writeEntry(pool, 24, 16, 1, false);
    expect(poolIndexOf(pool)).toBe(first);
    expect(poolMessage(pool.buffer as ArrayBuffer, pool.byteOffset, first, 6).toString()).toBe('z');
  });
});
