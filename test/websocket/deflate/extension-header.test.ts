// Sec-WebSocket-Extensions parsing (RFC 6455 §9.1): order and repeats kept, quoted values
// unescaped, names lower-cased, and every break of the grammar reported with its offset.
import { describe, expect, it } from 'vitest';
import {
  ExtensionHeaderSyntaxError,
  formatExtension,
  parseExtensions,
} from '../../../src/websocket/deflate/extension-header.ts';

function syntaxErrorOf(header: string): ExtensionHeaderSyntaxError {
  try {
    parseExtensions(header);
  } catch (error) {
    expect(error).toBeInstanceOf(ExtensionHeaderSyntaxError);
    return error as ExtensionHeaderSyntaxError;
  }
  throw new Error(`${JSON.stringify(header)} parsed`);
}

describe('parseExtensions', () => {
  it('reads extensions and parameters in order, with and without values', () => {
    expect(
      parseExtensions('permessage-deflate; client_max_window_bits; server_max_window_bits=10, x-foo'),
    ).toEqual([
      {
        name: 'permessage-deflate',
        params: [
          { name: 'client_max_window_bits', value: true },
          { name: 'server_max_window_bits', value: '10' },
        ],
      },
      { name: 'x-foo', params: [] },
    ]);
  });

  it('allows spaces and tabs around separators, and no space at all', () => {
    const expected = [
      {
        name: 'a',
        params: [
          { name: 'b', value: '1' },
          { name: 'c', value: true },
        ],
      },
      { name: 'd', params: [] },
    ];
    expect(parseExtensions('a;b=1;c,d')).toEqual(expected);
    expect(parseExtensions(' \ta \t; b \t= \t1 ;\tc\t , d ')).toEqual(expected);
  });

  it('unescapes quoted values, which must then be tokens', () => {
    expect(parseExtensions('a; b="10"; c="x\\y"')).toEqual([
      {
        name: 'a',
        params: [
          { name: 'b', value: '10' },
          { name: 'c', value: 'xy' },
        ],
      },
    ]);
    expect(syntaxErrorOf('a; b="1 0"').message).toMatch(/quoted value "1 0" is not a token at offset 5/);
    expect(syntaxErrorOf('a; b=""').message).toMatch(/not a token/);
    expect(syntaxErrorOf('a; b="10').message).toMatch(/unterminated quoted-string at offset 5/);
    expect(syntaxErrorOf('a; b="1\x010"').message).toMatch(/invalid character/);
  });

  it('keeps repeated parameters and repeated extensions (their meaning is the extension’s)', () => {
    expect(parseExtensions('a; b; b=2, a')).toEqual([
      {
        name: 'a',
        params: [
          { name: 'b', value: true },
          { name: 'b', value: '2' },
        ],
      },
      { name: 'a', params: [] },
    ]);
  });

  it('lower-cases extension and parameter names, never values', () => {
    expect(parseExtensions('PerMessage-Deflate; Client_Max_Window_Bits=AbC')).toEqual([
      { name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: 'AbC' }] },
    ]);
  });

  it('skips empty list elements; an empty header has no extensions', () => {
    expect(parseExtensions('')).toEqual([]);
    expect(parseExtensions(' , ,')).toEqual([]);
    expect(parseExtensions(', a ,, b,')).toEqual([
      { name: 'a', params: [] },
      { name: 'b', params: [] },
    ]);
  });

  it('joins several header lines given as an array', () => {
    expect(parseExtensions(['a; b', 'c'])).toEqual([
      { name: 'a', params: [{ name: 'b', value: true }] },
      { name: 'c', params: [] },
    ]);
  });

  it.each([
    ['; a', 0, /an extension name expected, found ";"/],
    ['a;', 2, /a parameter name expected, the header ends/],
    ['a; ; b', 3, /a parameter name expected, found ";"/],
    ['a; b=', 5, /a parameter value expected, the header ends/],
    ['a; b==1', 5, /a parameter value expected, found "="/],
    ['a b', 2, /"," or ";" expected, found "b"/],
    ['a; b c', 5, /"," or ";" expected, found "c"/],
    ['a; b=1 2', 7, /"," or ";" expected, found "2"/],
    ['a; b=x"y"', 6, /"," or ";" expected, found "\\""/],
    ['a/b', 1, /"," or ";" expected, found "\/"/],
    ['a; b=1/2', 6, /"," or ";" expected/],
    ['a; (b)', 3, /a parameter name expected, found "\("/],
  ])('refuses %j at offset %i', (header, position, message) => {
    const error = syntaxErrorOf(header);
    expect(error.position).toBe(position);
    expect(error.message).toMatch(message);
  });
});

describe('formatExtension', () => {
  it('writes name and parameters joined by "; "', () => {
    expect(
      formatExtension({
        name: 'permessage-deflate',
        params: [
          { name: 'server_no_context_takeover', value: true },
          { name: 'client_max_window_bits', value: '12' },
        ],
      }),
    ).toBe('permessage-deflate; server_no_context_takeover; client_max_window_bits=12');
    expect(formatExtension({ name: 'x', params: [] })).toBe('x');
  });

  it('gives back what parseExtensions reads', () => {
    const header = 'permessage-deflate; client_no_context_takeover; server_max_window_bits=9';
    expect(parseExtensions(header).map(formatExtension)).toEqual([header]);
  });
});
