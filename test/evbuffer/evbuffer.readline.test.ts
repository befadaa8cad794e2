// EvBuffer.readLine: each of libevent's end-of-line styles, partial lines, and raw bytes.
import { afterEach, describe, expect, it } from 'vitest';
import { EOL, EvBuffer, type EolStyle } from '../../src/index.ts';
import { liveCounts } from '../helpers.ts';

/** Reads lines until readLine returns null; returns them and what is left in the buffer. */
function allLines(text: string, eol: EolStyle): { lines: string[]; rest: string } {
  const buffer = new EvBuffer().add(text);
  const lines: string[] = [];
  for (let line = buffer.readLine(eol); line !== null; line = buffer.readLine(eol)) lines.push(line);
  const rest = buffer.toString();
  buffer.free();
  return { lines, rest };
}

const mixed = 'a\r\nb\nc\rd\0e\n\r\nf';

afterEach(() => expect(liveCounts().evbuffers).toBe(0));

describe('EvBuffer.readLine', () => {
  it('with EOL.ANY ends a line at any run of CR and LF characters', () => {
    expect(allLines(mixed, EOL.ANY)).toEqual({ lines: ['a', 'b', 'c', 'd\0e'], rest: 'f' });
    expect(allLines('x\r\n\r\ny\n', EOL.ANY)).toEqual({ lines: ['x', 'y'], rest: '' }); // no blank lines
  });

  it('with EOL.CRLF ends a line at LF, taking an optional CR before it, but not at a lone CR', () => {
    expect(allLines(mixed, EOL.CRLF)).toEqual({ lines: ['a', 'b', 'c\rd\0e', ''], rest: 'f' });
    expect(allLines('x\r\n\r\ny\n', EOL.CRLF)).toEqual({ lines: ['x', '', 'y'], rest: '' });
  });

  it('with EOL.CRLF_STRICT ends a line only at CR LF', () => {
    expect(allLines(mixed, EOL.CRLF_STRICT)).toEqual({ lines: ['a', 'b\nc\rd\0e\n'], rest: 'f' });
    expect(allLines('x\r\n\r\ny\n', EOL.CRLF_STRICT)).toEqual({ lines: ['x', ''], rest: 'y\n' });
  });

  it('with EOL.LF ends a line at LF and keeps a CR before it in the line', () => {
    expect(allLines(mixed, EOL.LF)).toEqual({ lines: ['a\r', 'b', 'c\rd\0e', '\r'], rest: 'f' });
  });

  it('with EOL.NUL ends a line at a NUL byte only', () => {
    expect(allLines(mixed, EOL.NUL)).toEqual({ lines: ['a\r\nb\nc\rd'], rest: 'e\n\r\nf' });
    expect(allLines('no terminator\r\n', EOL.NUL)).toEqual({ lines: [], rest: 'no terminator\r\n' });
  });

  it('defaults to EOL.CRLF', () => {
    const buffer = new EvBuffer().add('one\r\ntwo\rthree\n');
    expect([buffer.readLine(), buffer.readLine(), buffer.readLine()]).toEqual(['one', 'two\rthree', null]);
    buffer.free();
  });

  it('returns null for a partial line and leaves it buffered until its end arrives', () => {
    const buffer = new EvBuffer().add('par');
    expect(buffer.readLine(EOL.CRLF)).toBeNull();
    buffer.add('tial\r');
    expect(buffer.readLine(EOL.CRLF)).toBeNull(); // CR alone may be the start of CR LF
    expect(buffer.length).toBe(8);
    buffer.add('\nnext');
    expect(buffer.readLine(EOL.CRLF)).toBe('partial');
    expect(buffer.toString()).toBe('next');
    buffer.free();
  });

  it('with EOL.ANY splits a CR LF that arrives in two pieces into a line and an empty line', () => {
    // libevent's documented trap: ANY cannot know that an LF will follow a trailing CR.
    const buffer = new EvBuffer().add('a\r');
    expect(buffer.readLine(EOL.ANY)).toBe('a');
    buffer.add('\nb\n');
    expect([buffer.readLine(EOL.ANY), buffer.readLine(EOL.ANY), buffer.readLine(EOL.ANY)]).toEqual([
      '',
      'b',
      null,
    ]);
    buffer.free();
  });

  it('decodes a line as UTF-8, and readLineBytes returns the raw bytes', () => {
    const buffer = new EvBuffer().add('héllo ✓\n').add(Buffer.from([0xff, 0xfe, 0x0a]));
    expect(buffer.readLine(EOL.LF)).toBe('héllo ✓');
    expect(buffer.readLineBytes(EOL.LF)).toEqual(Buffer.from([0xff, 0xfe]));
    expect(buffer.readLineBytes(EOL.LF)).toBeNull();
    buffer.free();
  });

  it('finds a line end that lies across two separately added chunks', () => {
    const buffer = new EvBuffer().add('first\r').add('\nsecond\r').add('\n');
    expect([buffer.readLine(EOL.CRLF_STRICT), buffer.readLine(EOL.CRLF_STRICT)]).toEqual(['first', 'second']);
    expect(buffer.length).toBe(0);
    buffer.free();
  });

  it('refuses an unknown style with ERR_INVALID_ARG', () => {
    const buffer = new EvBuffer().add('x\n');
    expect(() => buffer.readLine(7 as EolStyle)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG' }),
    );
    expect(buffer.length).toBe(2);
    buffer.free();
  });
});
