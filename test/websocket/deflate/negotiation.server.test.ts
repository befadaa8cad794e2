// The server's side of RFC 7692 negotiation: every parameter with and without a value, repeats,
// unknown parameters, malformed headers, several offers (the first acceptable wins), and how each
// perMessageDeflate option narrows or declines.
import { describe, expect, it } from 'vitest';
import { negotiateAsServer } from '../../../src/websocket/deflate/negotiation.ts';
import {
  resolveDeflateOptions,
  type PerMessageDeflateOptions,
} from '../../../src/websocket/deflate/options.ts';

function negotiate(
  header: string | string[] | undefined,
  options: PerMessageDeflateOptions | boolean = true,
) {
  return negotiateAsServer(header, resolveDeflateOptions(options, 'server'));
}

/** The response header, or null when every offer was declined. */
function answer(
  header: string | string[],
  options: PerMessageDeflateOptions | boolean = true,
): string | null {
  return negotiate(header, options).response ?? null;
}

const full = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

describe('negotiateAsServer: one offer, default options', () => {
  it('accepts a bare offer with a bare answer and full windows with context takeover', () => {
    expect(negotiate('permessage-deflate')).toEqual({
      agreement: full,
      response: 'permessage-deflate',
      declined: [],
    });
  });

  it.each([
    [
      'permessage-deflate; server_no_context_takeover',
      'permessage-deflate; server_no_context_takeover',
      { serverNoContextTakeover: true },
    ],
    [
      'permessage-deflate; client_no_context_takeover',
      'permessage-deflate; client_no_context_takeover',
      { clientNoContextTakeover: true },
    ],
    [
      'permessage-deflate; server_max_window_bits=10',
      'permessage-deflate; server_max_window_bits=10',
      { serverMaxWindowBits: 10 },
    ],
    ['permessage-deflate; server_max_window_bits=15', 'permessage-deflate; server_max_window_bits=15', {}],
    [
      'permessage-deflate; server_max_window_bits=9',
      'permessage-deflate; server_max_window_bits=9',
      { serverMaxWindowBits: 9 },
    ],
    ['permessage-deflate; client_max_window_bits', 'permessage-deflate', {}],
    [
      'permessage-deflate; client_max_window_bits=12',
      'permessage-deflate; client_max_window_bits=12',
      { clientMaxWindowBits: 12 },
    ],
    [
      'permessage-deflate; client_max_window_bits=8',
      'permessage-deflate; client_max_window_bits=8',
      { clientMaxWindowBits: 8 },
    ],
    [
      'permessage-deflate; server_max_window_bits="11"',
      'permessage-deflate; server_max_window_bits=11',
      { serverMaxWindowBits: 11 },
    ],
    [
      'permessage-deflate; client_max_window_bits="9"',
      'permessage-deflate; client_max_window_bits=9',
      { clientMaxWindowBits: 9 },
    ],
    [
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=13',
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=13',
      {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 12,
        clientMaxWindowBits: 13,
      },
    ],
    [
      'PERMESSAGE-DEFLATE; Server_No_Context_Takeover',
      'permessage-deflate; server_no_context_takeover',
      { serverNoContextTakeover: true },
    ],
  ])('%s → %s', (offer, response, changes) => {
    expect(negotiate(offer)).toEqual({ agreement: { ...full, ...changes }, response, declined: [] });
  });

  it.each([
    [
      'permessage-deflate; server_no_context_takeover=1',
      'server_no_context_takeover takes no value, got "1"',
    ],
    [
      'permessage-deflate; client_no_context_takeover=x',
      'client_no_context_takeover takes no value, got "x"',
    ],
    ['permessage-deflate; server_max_window_bits', 'server_max_window_bits needs a value from 8 to 15'],
    ['permessage-deflate; server_max_window_bits=7', 'server_max_window_bits must be from 8 to 15, got "7"'],
    [
      'permessage-deflate; server_max_window_bits=16',
      'server_max_window_bits must be from 8 to 15, got "16"',
    ],
    [
      'permessage-deflate; server_max_window_bits=010',
      'server_max_window_bits must be from 8 to 15, got "010"',
    ],
    [
      'permessage-deflate; client_max_window_bits=0x0f',
      'client_max_window_bits must be from 8 to 15, got "0x0f"',
    ],
    [
      'permessage-deflate; client_max_window_bits=-9',
      'client_max_window_bits must be from 8 to 15, got "-9"',
    ],
    [
      'permessage-deflate; server_max_window_bits=8',
      'it asks for server_max_window_bits=8, and zlib cannot compress with an 8-bit window',
    ],
    [
      'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
      'server_no_context_takeover appears twice',
    ],
    [
      'permessage-deflate; client_max_window_bits; client_max_window_bits=10',
      'client_max_window_bits appears twice',
    ],
    [
      'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10',
      'server_max_window_bits appears twice',
    ],
    ['permessage-deflate; mux', 'unknown parameter mux'],
    ['permessage-deflate; client_max_window_bits; x=1', 'unknown parameter x'],
  ])('declines %s: %s', (offer, reason) => {
    expect(negotiate(offer)).toEqual({ agreement: null, declined: [`${offer.toLowerCase()}: ${reason}`] });
  });
});

describe('negotiateAsServer: several offers', () => {
  it('takes the first acceptable offer and says why the ones before it were declined', () => {
    const outcome = negotiate(
      'x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=8, permessage-deflate; foo, permessage-deflate; server_max_window_bits=9, permessage-deflate',
    );
    expect(outcome.response).toBe('permessage-deflate; server_max_window_bits=9');
    expect(outcome.declined).toEqual([
      'x-webkit-deflate-frame: not permessage-deflate',
      'permessage-deflate; server_max_window_bits=8: it asks for server_max_window_bits=8, and zlib cannot compress with an 8-bit window',
      'permessage-deflate; foo: unknown parameter foo',
    ]);
  });

  it('reads offers across several header lines', () => {
    expect(answer(['permessage-deflate; bogus', 'permessage-deflate; client_no_context_takeover'])).toBe(
      'permessage-deflate; client_no_context_takeover',
    );
  });

  it('declines all when none is acceptable, and when none is permessage-deflate', () => {
    expect(negotiate('permessage-deflate; a, permessage-deflate; b')).toEqual({
      agreement: null,
      declined: ['permessage-deflate; a: unknown parameter a', 'permessage-deflate; b: unknown parameter b'],
    });
    expect(negotiate('x-foo; y=1')).toEqual({
      agreement: null,
      declined: ['x-foo; y=1: not permessage-deflate'],
    });
  });

  it('declines everything when the header breaks the grammar, even with a good offer first', () => {
    expect(negotiate('permessage-deflate, permessage-deflate; a="b c"')).toEqual({
      agreement: null,
      declined: ['the header is malformed: the quoted value "b c" is not a token at offset 42'],
    });
    expect(negotiate('permessage-deflate;').agreement).toBeNull();
  });

  it('accepts nothing without a header, with an empty one, or with compression off', () => {
    expect(negotiate(undefined)).toEqual({ agreement: null, declined: [] });
    expect(negotiate('')).toEqual({ agreement: null, declined: [] });
    expect(negotiate('permessage-deflate', false)).toEqual({ agreement: null, declined: [] });
  });
});

describe('negotiateAsServer: options', () => {
  it('serverNoContextTakeover: true always answers it; false declines offers asking for it', () => {
    expect(answer('permessage-deflate', { serverNoContextTakeover: true })).toBe(
      'permessage-deflate; server_no_context_takeover',
    );
    expect(
      negotiate('permessage-deflate; server_no_context_takeover, permessage-deflate', {
        serverNoContextTakeover: false,
      }),
    ).toMatchObject({
      response: 'permessage-deflate',
      declined: [
        'permessage-deflate; server_no_context_takeover: it asks for server_no_context_takeover, which serverNoContextTakeover: false refuses',
      ],
    });
  });

  it('clientNoContextTakeover: true always answers it; an offer of it is answered whatever the option', () => {
    expect(answer('permessage-deflate', { clientNoContextTakeover: true })).toBe(
      'permessage-deflate; client_no_context_takeover',
    );
    expect(answer('permessage-deflate; client_no_context_takeover', { clientNoContextTakeover: false })).toBe(
      'permessage-deflate; client_no_context_takeover',
    );
  });

  it('serverMaxWindowBits: a number caps our window, named even when not offered; false declines offers naming it', () => {
    expect(answer('permessage-deflate', { serverMaxWindowBits: 10 })).toBe(
      'permessage-deflate; server_max_window_bits=10',
    );
    expect(answer('permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 10 })).toBe(
      'permessage-deflate; server_max_window_bits=10',
    );
    expect(answer('permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 10 })).toBe(
      'permessage-deflate; server_max_window_bits=9',
    );
    expect(answer('permessage-deflate', { serverMaxWindowBits: 15 })).toBe('permessage-deflate');
    expect(answer('permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: true })).toBe(
      'permessage-deflate; server_max_window_bits=12',
    );
    expect(
      negotiate('permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: false }),
    ).toEqual({
      agreement: null,
      declined: [
        'permessage-deflate; server_max_window_bits=12: it asks for server_max_window_bits, which serverMaxWindowBits: false refuses',
      ],
    });
    expect(answer('permessage-deflate', { serverMaxWindowBits: false })).toBe('permessage-deflate');
  });

  it('clientMaxWindowBits: a number needs the parameter in the offer and answers the smaller window', () => {
    expect(answer('permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 10 })).toBe(
      'permessage-deflate; client_max_window_bits=10',
    );
    expect(answer('permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 10 })).toBe(
      'permessage-deflate; client_max_window_bits=10',
    );
    expect(answer('permessage-deflate; client_max_window_bits=9', { clientMaxWindowBits: 10 })).toBe(
      'permessage-deflate; client_max_window_bits=9',
    );
    expect(answer('permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 8 })).toBe(
      'permessage-deflate; client_max_window_bits=8',
    );
    expect(negotiate('permessage-deflate', { clientMaxWindowBits: 10 })).toEqual({
      agreement: null,
      declined: [
        'permessage-deflate: clientMaxWindowBits needs client_max_window_bits in the offer, and it is missing',
      ],
    });
  });

  it('clientMaxWindowBits: false (or true) never limits the client; an offered value is echoed unless false', () => {
    expect(
      negotiate('permessage-deflate; client_max_window_bits=11', { clientMaxWindowBits: false }),
    ).toMatchObject({
      response: 'permessage-deflate',
      agreement: { clientMaxWindowBits: 15 },
    });
    expect(answer('permessage-deflate; client_max_window_bits=11', { clientMaxWindowBits: true })).toBe(
      'permessage-deflate; client_max_window_bits=11',
    );
    expect(answer('permessage-deflate; client_max_window_bits', { clientMaxWindowBits: true })).toBe(
      'permessage-deflate',
    );
  });
});
