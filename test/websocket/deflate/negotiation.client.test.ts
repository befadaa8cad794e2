// The client's side of RFC 7692 negotiation: the offer made from the options, and the checks of
// the server's answer: anything not offered, repeated, invalid or beyond what was offered fails
// the connection with WS_ERR_INVALID_EXTENSION_RESPONSE; a missing answer means no compression.
import { describe, expect, it } from 'vitest';
import { WebSocketError } from '../../../src/websocket/errors.ts';
import { acceptServerResponse, formatOffer } from '../../../src/websocket/deflate/negotiation.ts';
import {
  resolveDeflateOptions,
  type PerMessageDeflateOptions,
} from '../../../src/websocket/deflate/options.ts';

function client(options: PerMessageDeflateOptions | boolean = true) {
  return resolveDeflateOptions(options, 'client');
}

function failure(header: string, options: PerMessageDeflateOptions | boolean = true): string {
  try {
    acceptServerResponse(header, client(options));
  } catch (error) {
    expect(error).toBeInstanceOf(WebSocketError);
    expect((error as WebSocketError).code).toBe('WS_ERR_INVALID_EXTENSION_RESPONSE');
    return (error as WebSocketError).message.replace(
      "invalid Sec-WebSocket-Extensions in the server's answer: ",
      '',
    );
  }
  throw new Error(`${header} was accepted`);
}

const full = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

describe('formatOffer', () => {
  it.each([
    [{}, 'permessage-deflate; client_max_window_bits'],
    [
      { serverNoContextTakeover: true },
      'permessage-deflate; server_no_context_takeover; client_max_window_bits',
    ],
    [
      { clientNoContextTakeover: true },
      'permessage-deflate; client_no_context_takeover; client_max_window_bits',
    ],
    [{ serverMaxWindowBits: 8 }, 'permessage-deflate; server_max_window_bits=8; client_max_window_bits'],
    [{ serverMaxWindowBits: true }, 'permessage-deflate; client_max_window_bits'],
    [{ clientMaxWindowBits: 11 }, 'permessage-deflate; client_max_window_bits=11'],
    [{ clientMaxWindowBits: false }, 'permessage-deflate'],
    [
      { serverNoContextTakeover: false, clientNoContextTakeover: false },
      'permessage-deflate; client_max_window_bits',
    ],
    [
      {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 12,
        clientMaxWindowBits: 9,
      },
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=9',
    ],
  ])('%j → %s', (options, offer) => {
    expect(formatOffer(client(options)!)).toBe(offer);
  });
});

describe('acceptServerResponse: accepted answers', () => {
  it.each([
    ['permessage-deflate', {}, {}],
    ['permessage-deflate; server_no_context_takeover', {}, { serverNoContextTakeover: true }],
    ['permessage-deflate; client_no_context_takeover', {}, { clientNoContextTakeover: true }],
    [
      'permessage-deflate; client_no_context_takeover',
      { clientNoContextTakeover: false },
      { clientNoContextTakeover: true },
    ],
    ['permessage-deflate; server_max_window_bits=8', {}, { serverMaxWindowBits: 8 }],
    [
      'permessage-deflate; server_max_window_bits=10',
      { serverMaxWindowBits: 12 },
      { serverMaxWindowBits: 10 },
    ],
    [
      'permessage-deflate; server_max_window_bits=12',
      { serverMaxWindowBits: 12 },
      { serverMaxWindowBits: 12 },
    ],
    ['permessage-deflate', { serverMaxWindowBits: 12 }, {}],
    ['permessage-deflate; client_max_window_bits=9', {}, { clientMaxWindowBits: 9 }],
    [
      'permessage-deflate; client_max_window_bits="10"',
      { clientMaxWindowBits: 11 },
      { clientMaxWindowBits: 10 },
    ],
    ['permessage-deflate', { clientMaxWindowBits: 11 }, { clientMaxWindowBits: 11 }],
    [
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9',
      {},
      {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 9,
        clientMaxWindowBits: 9,
      },
    ],
  ])('%s with %j', (header, options, changes) => {
    expect(acceptServerResponse(header, client(options))).toEqual({ ...full, ...changes });
  });

  it('means no compression when the server names no extension', () => {
    expect(acceptServerResponse(undefined, client())).toBeNull();
    expect(acceptServerResponse('', client())).toBeNull();
    expect(acceptServerResponse(undefined, null)).toBeNull();
  });
});

describe('acceptServerResponse: answers that fail the connection', () => {
  it.each([
    ['permessage-deflate, permessage-deflate', {}, 'it names 2 extensions, and one was offered'],
    ['x-webkit-deflate-frame', {}, 'it names x-webkit-deflate-frame, which was not offered'],
    ['permessage-deflate; foo', {}, 'unknown parameter foo'],
    [
      'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
      {},
      'server_no_context_takeover appears twice',
    ],
    [
      'permessage-deflate; client_no_context_takeover=1',
      {},
      'client_no_context_takeover takes no value, got "1"',
    ],
    ['permessage-deflate; server_max_window_bits', {}, 'server_max_window_bits needs a value from 8 to 15'],
    ['permessage-deflate; client_max_window_bits', {}, 'client_max_window_bits needs a value from 8 to 15'],
    [
      'permessage-deflate; server_max_window_bits=16',
      {},
      'server_max_window_bits must be from 8 to 15, got "16"',
    ],
    [
      'permessage-deflate; client_max_window_bits=7',
      {},
      'client_max_window_bits must be from 8 to 15, got "7"',
    ],
    [
      'permessage-deflate; server_max_window_bits=11',
      { serverMaxWindowBits: 10 },
      'server_max_window_bits=11 is larger than the 10 offered',
    ],
    [
      'permessage-deflate; client_max_window_bits=12',
      { clientMaxWindowBits: 11 },
      'client_max_window_bits=12 is larger than the 11 offered',
    ],
    [
      'permessage-deflate; client_max_window_bits=10',
      { clientMaxWindowBits: false },
      'client_max_window_bits was not offered',
    ],
    [
      'permessage-deflate; client_max_window_bits=8',
      {},
      'client_max_window_bits=8: zlib cannot compress with an 8-bit window',
    ],
    [
      'permessage-deflate; client_max_window_bits=9; client_max_window_bits=9',
      {},
      'client_max_window_bits appears twice',
    ],
    ['permessage-deflate;', {}, 'malformed: a parameter name expected, the header ends at offset 19'],
    ['permessage-deflate; a="b c"', {}, 'malformed: the quoted value "b c" is not a token at offset 22'],
  ])('%s with %j: %s', (header, options, reason) => {
    expect(failure(header, options)).toBe(reason);
  });

  it('fails on any extension when none was offered', () => {
    const error = (() => {
      try {
        acceptServerResponse('permessage-deflate', null);
      } catch (caught) {
        return caught as WebSocketError;
      }
      return undefined;
    })();
    expect(error?.code).toBe('WS_ERR_INVALID_EXTENSION_RESPONSE');
    expect(error?.message).toMatch(/it names permessage-deflate, and no extension was offered/);
  });
});
