// Autobahn 13.x (permessage-deflate with different offers): for each offer the server's answer must
// state what RFC 7692 §7 lets it agree to, and messages must then echo under that agreement — the
// server's back-references within the window it agreed, none reaching before the message when it
// agreed server_no_context_takeover (the client inflates each message with a fresh context), and
// the client compressing with the window and takeover it was given. 13.1-13.7 are Autobahn's
// offers (its client always offers client_no_context_takeover and client_max_window_bits, and asks
// for server_no_context_takeover and server_max_window_bits 8 or 15); the ones after go further:
// client windows 8, 9 and 15, several offers, and a server with its own settings.
//
// npm ws (CONFORMANCE_IMPL=ws) differs where noted: it accepts server_max_window_bits=8 (it then
// deflates with zlib's 9-bit window, whose matches reach 250 bytes back at most), where this server
// declines an offer it cannot honour to the letter and takes the next; and it answers 400 when no
// offer suits its settings, where this server goes on without compression (RFC 7692 §5: decline).
import { describe, expect, it } from 'vitest';
import { expectCleanClose, expectEcho } from './assertions.ts';
import { CorpusCursor } from './deflate-corpus.ts';
import { offerHeaders, useDeflateEchoServer, type AnswerParams } from './deflate-session.ts';
import { IMPLEMENTATION } from './echo-server.ts';
import { frames, OPCODE, type RawClient } from './raw-client.ts';

/** What Autobahn's client always puts in an offer: it would reset its context and may be limited. */
const AB = 'permessage-deflate; client_no_context_takeover; client_max_window_bits';

interface OfferCase {
  name: string;
  offer: string | string[];
  /** The answer's parameters; null: declined (101 without the extension); 400: refused. */
  answer: AnswerParams | null | 400;
  /** What npm ws answers where it differs (see the file's comment). */
  ws?: AnswerParams | null | 400;
}

const SNCT = { server_no_context_takeover: true } as const;
const CNCT = { client_no_context_takeover: true } as const;

const DEFAULT_SERVER_CASES: OfferCase[] = [
  { name: '13.1 the default offer', offer: AB, answer: { ...CNCT } },
  {
    name: '13.2 server_no_context_takeover',
    offer: `${AB}; server_no_context_takeover`,
    answer: { ...CNCT, ...SNCT },
  },
  {
    name: '13.3 server_max_window_bits=8 (declined: zlib cannot deflate with an 8-bit window)',
    offer: `${AB}; server_max_window_bits=8`,
    answer: null,
    ws: { ...CNCT, server_max_window_bits: '8' },
  },
  {
    name: '13.4 server_max_window_bits=15',
    offer: `${AB}; server_max_window_bits=15`,
    answer: { ...CNCT, server_max_window_bits: '15' },
  },
  {
    name: '13.5 server_no_context_takeover and server_max_window_bits=8 (declined)',
    offer: `${AB}; server_no_context_takeover; server_max_window_bits=8`,
    answer: null,
    ws: { ...CNCT, ...SNCT, server_max_window_bits: '8' },
  },
  {
    name: '13.6 server_no_context_takeover and server_max_window_bits=15',
    offer: `${AB}; server_no_context_takeover; server_max_window_bits=15`,
    answer: { ...CNCT, ...SNCT, server_max_window_bits: '15' },
  },
  {
    name: '13.7 three offers: the first (window 8) declined, the second accepted',
    offer: `${AB}; server_no_context_takeover; server_max_window_bits=8, ${AB}; server_no_context_takeover, ${AB}`,
    answer: { ...CNCT, ...SNCT },
    ws: { ...CNCT, ...SNCT, server_max_window_bits: '8' },
  },
  { name: 'a bare offer: both sides keep their context', offer: 'permessage-deflate', answer: {} },
  {
    name: 'client_max_window_bits=9',
    offer: 'permessage-deflate; client_max_window_bits=9',
    answer: { client_max_window_bits: '9' },
  },
  {
    name: 'client_max_window_bits=15',
    offer: 'permessage-deflate; client_max_window_bits=15',
    answer: { client_max_window_bits: '15' },
  },
  {
    name: 'client_max_window_bits=8 (the server only inflates with it)',
    offer: 'permessage-deflate; client_max_window_bits=8',
    answer: { client_max_window_bits: '8' },
  },
  {
    name: 'server_no_context_takeover alone (the client keeps its context)',
    offer: 'permessage-deflate; server_no_context_takeover',
    answer: { ...SNCT },
  },
  {
    name: 'server_max_window_bits=9, the smallest window zlib deflates with',
    offer: 'permessage-deflate; server_max_window_bits=9',
    answer: { server_max_window_bits: '9' },
  },
  {
    name: 'every parameter at once',
    offer:
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11',
    answer: { ...SNCT, ...CNCT, server_max_window_bits: '10', client_max_window_bits: '11' },
  },
  {
    name: 'an unknown extension before the offer',
    offer: 'x-webkit-deflate-frame, permessage-deflate; client_max_window_bits',
    answer: {},
  },
  {
    name: 'a quoted window value (a quoted-string is allowed, RFC 7692 §5.1)',
    offer: 'permessage-deflate; server_max_window_bits="10"',
    answer: { server_max_window_bits: '10' },
  },
  {
    name: 'a window value with a leading zero (declined: §7.1.2.1 allows none)',
    offer: 'permessage-deflate; server_max_window_bits=09, permessage-deflate',
    answer: {},
    ws: 400,
  },
  {
    name: 'two offers on two header lines, the first declined',
    offer: ['permessage-deflate; server_max_window_bits=8', 'permessage-deflate; server_max_window_bits=12'],
    answer: { server_max_window_bits: '12' },
    ws: { server_max_window_bits: '8' },
  },
];

/** Offers RFC 7692 §7.1 does not allow: declined, the connection goes on uncompressed. */
const INVALID_OFFER_CASES: OfferCase[] = [
  ['server_max_window_bits=16', 'permessage-deflate; server_max_window_bits=16'],
  ['client_max_window_bits=7', 'permessage-deflate; client_max_window_bits=7'],
  ['server_max_window_bits without a value', 'permessage-deflate; server_max_window_bits'],
  ['a value on server_no_context_takeover', 'permessage-deflate; server_no_context_takeover=1'],
  ['an unknown parameter', 'permessage-deflate; client_max_window_bits; x_future_parameter'],
  ['a parameter named twice', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
  ['a header that breaks the grammar', 'permessage-deflate; =15'],
].map(([what, offer]) => ({ name: `declines an offer with ${what}`, offer: offer!, answer: null, ws: 400 }));

/** A server that resets both contexts and limits both windows. */
const STRICT_SERVER = {
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  serverMaxWindowBits: 10,
  clientMaxWindowBits: 11,
};
const STRICT_ANSWER = { ...SNCT, ...CNCT, server_max_window_bits: '10', client_max_window_bits: '11' };

const STRICT_SERVER_CASES: OfferCase[] = [
  {
    name: 'an offer that lets the server limit the client: all four settings',
    offer: 'permessage-deflate; client_max_window_bits',
    answer: STRICT_ANSWER,
  },
  {
    name: 'larger windows offered: the server names its smaller ones',
    offer: 'permessage-deflate; server_max_window_bits=12; client_max_window_bits=13',
    answer: STRICT_ANSWER,
  },
  {
    name: 'a smaller server window offered: the smaller one is agreed',
    offer: 'permessage-deflate; server_max_window_bits=9; client_max_window_bits',
    answer: { ...STRICT_ANSWER, server_max_window_bits: '9' },
    ws: 400,
  },
  {
    name: 'no client_max_window_bits in the offer: the client cannot be limited, declined',
    offer: 'permessage-deflate',
    answer: null,
    ws: 400,
  },
];

/** A server that refuses to reset its context or limit its window, and never limits the client's. */
const REFUSING_SERVER = {
  serverNoContextTakeover: false,
  serverMaxWindowBits: false,
  clientMaxWindowBits: false,
};

const REFUSING_SERVER_CASES: OfferCase[] = [
  {
    name: 'server_no_context_takeover asked: declined',
    offer: 'permessage-deflate; server_no_context_takeover',
    answer: null,
    ws: 400,
  },
  {
    name: 'server_max_window_bits asked: declined',
    offer: 'permessage-deflate; server_max_window_bits=10',
    answer: null,
    ws: 400,
  },
  {
    name: 'the first offer declined, the second accepted without naming the client window',
    offer: 'permessage-deflate; server_no_context_takeover, permessage-deflate; client_max_window_bits=10',
    answer: {},
  },
  {
    name: 'the default offer: accepted as is',
    offer: 'permessage-deflate; client_max_window_bits',
    answer: {},
  },
];

/** A server on the smallest windows: its own 9 bits, the client's 8 (the client then makes only runs). */
const SMALL_WINDOW_SERVER = { serverMaxWindowBits: 9, clientMaxWindowBits: 8 };
const SMALL_WINDOW_CASES: OfferCase[] = [
  {
    name: 'the default offer: both windows named',
    offer: 'permessage-deflate; client_max_window_bits',
    answer: { server_max_window_bits: '9', client_max_window_bits: '8' },
  },
  {
    name: 'larger windows offered: the smaller ones named',
    offer: 'permessage-deflate; server_max_window_bits=12; client_max_window_bits=12',
    answer: { server_max_window_bits: '9', client_max_window_bits: '8' },
  },
];

/** [message size, count, fragment size]: a few of 12.x's plans, text as Autobahn's 13.x sends. */
const PLANS: Array<[number, number, number]> = [
  [64, 40, 0],
  [4096, 12, 0],
  [131072, 3, 0],
  [131072, 3, 4096],
];

/** Without compression every echo comes back uncompressed and the connection ends cleanly. */
async function expectPlainEchoes(client: RawClient): Promise<void> {
  const cursor = new CorpusCursor('text');
  for (const size of [64, 5000]) {
    const data = cursor.next(size);
    await client.send(frames.text(data));
    await expectEcho.text(client, data);
  }
  await expectCleanClose(client);
}

function runOfferCases(cases: OfferCase[], deflate: Record<string, unknown>): void {
  const { openDeflate, connect, errorCodes } = useDeflateEchoServer(deflate);

  for (const offerCase of cases)
    it(offerCase.name, async () => {
      const expected = IMPLEMENTATION === 'ws' && 'ws' in offerCase ? offerCase.ws! : offerCase.answer;
      if (expected === 400) {
        const client = await connect();
        expect((await client.handshake(offerHeaders(offerCase.offer))).statusCode).toBe(400);
        return;
      }
      // Autobahn's client resets its context when it offered client_no_context_takeover.
      const clientResets = [offerCase.offer].flat().join(',').includes('client_no_context_takeover');
      const connection = await openDeflate(offerCase.offer, expected, clientResets);
      if (expected === null) return expectPlainEchoes(connection.client);
      const cursor = new CorpusCursor('text');
      for (const [size, count, fragmentSize] of PLANS) {
        for (let n = 0; n < count; n++) {
          const data = cursor.next(size);
          await connection.send(OPCODE.TEXT, data, fragmentSize);
          await connection.expectEcho(OPCODE.TEXT, data);
        }
      }
      const binary = new CorpusCursor('binary').next(20000);
      await connection.send(OPCODE.BINARY, binary);
      await connection.expectEcho(OPCODE.BINARY, binary);
      await expectCleanClose(connection.client);
      expect(await errorCodes()).toEqual([]);
    });
}

describe('13.x offers to a server with the default settings', () => {
  runOfferCases(DEFAULT_SERVER_CASES, {});
});

describe('13.x offers a server must decline', () => {
  runOfferCases(INVALID_OFFER_CASES, {});
});

describe('13.x offers to a server that resets both contexts and limits both windows (10 and 11 bits)', () => {
  runOfferCases(STRICT_SERVER_CASES, STRICT_SERVER);
});

describe('13.x offers to a server that refuses to reset or limit its side', () => {
  runOfferCases(REFUSING_SERVER_CASES, REFUSING_SERVER);
});

describe('13.x offers to a server on the smallest windows (9 bits its own, 8 the client)', () => {
  runOfferCases(SMALL_WINDOW_CASES, SMALL_WINDOW_SERVER);
});
