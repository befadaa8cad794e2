// EvBuffer basics on an owned buffer: add, prepend, remove, drain, copyOut, pullup, search, addBuffer,
// large Buffers by reference, and free.
import { randomBytes } from 'node:crypto';
import { setImmediate as nextImmediate } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { EvBuffer } from '../../src/index.ts';
import { liveCounts, errorCodeOf as codeOf } from '../helpers.ts';

afterEach(() => expect(liveCounts().evbuffers).toBe(0));

describe('EvBuffer data operations', () => {
  it('appends strings, Buffers and Uint8Arrays in order, and prepends before them', () => {
    const buffer = new EvBuffer()
      .add('bc')
      .add(Buffer.from('de'))
      .add(new Uint8Array([0x66]));
    buffer.prepend('a');
    expect(buffer.length).toBe(6);
    expect(buffer.toString()).toBe('abcdef');
    buffer.free();
  });

  it('removes from the front, clamping to what is buffered', () => {
    const buffer = new EvBuffer().add('hello world');
    expect(buffer.remove(5).toString()).toBe('hello');
    expect(buffer.remove(0)).toEqual(Buffer.alloc(0));
    expect(buffer.remove(100).toString()).toBe(' world');
    expect(buffer.remove().length).toBe(0);
    expect(buffer.length).toBe(0);
    buffer.free();
  });

  it('drains and reports how many bytes it discarded', () => {
    const buffer = new EvBuffer().add('0123456789');
    expect(buffer.drain(3)).toBe(3);
    expect(buffer.toString()).toBe('3456789');
    expect(buffer.drain(100)).toBe(7);
    expect(buffer.drain()).toBe(0);
    buffer.free();
  });

  it('copies out and pulls up without removing anything', () => {
    const buffer = new EvBuffer().add('ab').add('cd').add('ef');
    expect(buffer.copyOut(3).toString()).toBe('abc');
    expect(buffer.pullup(5).toString()).toBe('abcde');
    expect(buffer.pullup().toString()).toBe('abcdef');
    expect(buffer.copyOut(100).toString()).toBe('abcdef');
    expect(buffer.length).toBe(6);
    buffer.free();
  });

  it('searches from a start position, across chunk boundaries, and returns -1 when absent', () => {
    const buffer = new EvBuffer().add('abc').add('abc').add('xyz');
    expect(buffer.search('b')).toBe(1);
    expect(buffer.search('b', 2)).toBe(4);
    expect(buffer.search('cx')).toBe(5); // spans the second and third chunk
    expect(buffer.search('nope')).toBe(-1);
    expect(buffer.search('a', 9)).toBe(-1);
    expect(buffer.search('a', 1000)).toBe(-1);
    expect(codeOf(() => buffer.search(''))).toBe('ERR_INVALID_ARG');
    expect(buffer.length).toBe(9);
    buffer.free();
  });

  it('moves all bytes with addBuffer, leaving the source empty but usable', () => {
    const target = new EvBuffer().add('head:');
    const source = new EvBuffer().add('one').add('two');
    target.addBuffer(source);
    expect(target.toString()).toBe('head:onetwo');
    expect(source.length).toBe(0);
    source.add('again');
    expect(source.toString()).toBe('again');
    expect(codeOf(() => target.addBuffer(target))).toBe('ERR_INVALID_ARG');
    expect(codeOf(() => target.addBuffer('text' as unknown as EvBuffer))).toBe('ERR_INVALID_ARG');
    expect(target.toString()).toBe('head:onetwo');
    target.free();
    source.free();
  });

  it('refuses a non-integer or negative count with ERR_INVALID_ARG and changes nothing', () => {
    const buffer = new EvBuffer().add('data');
    expect(codeOf(() => buffer.remove(-1))).toBe('ERR_INVALID_ARG');
    expect(codeOf(() => buffer.drain(1.5))).toBe('ERR_INVALID_ARG');
    expect(codeOf(() => buffer.copyOut(NaN))).toBe('ERR_INVALID_ARG');
    expect(codeOf(() => buffer.add(42 as unknown as string))).toBe('ERR_INVALID_ARG');
    expect(buffer.toString()).toBe('data');
    buffer.free();
  });
});

describe('EvBuffer with large Buffers', () => {
  it('keeps a 64 KiB Buffer intact through add, search and remove', () => {
    const payload = randomBytes(64 * 1024);
    const buffer = new EvBuffer().add('<').add(payload).add('>');
    expect(buffer.length).toBe(payload.length + 2);
    expect(buffer.search(payload.subarray(30_000, 30_016))).toBe(30_001);
    expect(buffer.remove(1).toString()).toBe('<');
    expect(buffer.remove(payload.length).equals(payload)).toBe(true);
    expect(buffer.remove().toString()).toBe('>');
    buffer.free();
  });

  it('adds a Buffer of 16 KiB or more by reference and a smaller one by copy', () => {
    const large = Buffer.alloc(16 * 1024, 'a');
    const small = Buffer.alloc(16 * 1024 - 1, 'b');
    const buffer = new EvBuffer().add(large).add(small);
    large[0] = 0x41; // visible: libevent points at this memory
    small[0] = 0x42; // invisible: libevent copied it
    expect(buffer.copyOut(1).toString()).toBe('A');
    buffer.drain(large.length);
    expect(buffer.copyOut(1).toString()).toBe('b');
    buffer.free();
  });

  it('keeps a referenced Buffer alive without a JavaScript reference, and releases it once drained', async () => {
    const buffer = new EvBuffer();
    const ref = ((): WeakRef<Buffer> => {
      const large = Buffer.alloc(32 * 1024, 'z');
      buffer.add(large);
      return new WeakRef(large);
    })();
    for (let i = 0; i < 3; i++) {
      await nextImmediate();
      globalThis.gc!();
    }
    expect(buffer.pullup().equals(Buffer.alloc(32 * 1024, 'z'))).toBe(true);
    buffer.drain();
    let released = false;
    for (let i = 0; i < 20 && !released; i++) {
      await nextImmediate();
      globalThis.gc!();
      await nextImmediate();
      released = ref.deref() === undefined;
    }
    expect(released).toBe(true);
    buffer.free();
  });
});

describe('EvBuffer.free on an owned buffer', () => {
  it('is idempotent, and every later call throws ERR_FREED', () => {
    const before = liveCounts().evbuffers;
    const buffer = new EvBuffer().add('x');
    expect(liveCounts().evbuffers).toBe(before + 1);
    buffer.free();
    buffer.free();
    buffer[Symbol.dispose]();
    expect(liveCounts().evbuffers).toBe(before);
    expect(codeOf(() => buffer.length)).toBe('ERR_FREED');
    expect(codeOf(() => buffer.add('y'))).toBe('ERR_FREED');
    expect(codeOf(() => buffer.remove())).toBe('ERR_FREED');
    expect(codeOf(() => buffer.toString())).toBe('ERR_FREED');
  });

  it('refuses to move data out of or into a freed buffer with ERR_FREED', () => {
    const alive = new EvBuffer().add('keep');
    const dead = new EvBuffer();
    dead.free();
    expect(codeOf(() => alive.addBuffer(dead))).toBe('ERR_FREED');
    expect(codeOf(() => dead.addBuffer(alive))).toBe('ERR_FREED');
    expect(alive.toString()).toBe('keep');
    alive.free();
  });

  it('frees with a using block', () => {
    const before = liveCounts().evbuffers;
    {
      using buffer = new EvBuffer().add('scoped');
      expect(buffer.length).toBe(6);
      expect(liveCounts().evbuffers).toBe(before + 1);
    }
    expect(liveCounts().evbuffers).toBe(before);
  });
});
