// The offers the npm ws client really sends, for every combination of its perMessageDeflate
// takeover and window options (captured from real ws clients connecting to a plain TCP server),
// negotiated by our server under several option sets: each is accepted or declined exactly as
// RFC 7692 says, and ws's own client-side logic accepts every answer we give.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WsClient from 'ws';
import { negotiateAsServer } from '../../../src/websocket/deflate/negotiation.ts';
import {
  resolveDeflateOptions,
  type PerMessageDeflateOptions,
} from '../../../src/websocket/deflate/options.ts';
import {
  asWsOptions,
  inWsShape,
  wsClientAccepts,
  wsOptionCombinations,
  type WsAgreement,
} from './ws-reference.ts';

interface CapturedOffer {
  options: PerMessageDeflateOptions;
  header: string | undefined;
}

/** Connects a ws client per option combination and records the Sec-WebSocket-Extensions it sends. */
async function captureOffers(combinations: PerMessageDeflateOptions[]): Promise<CapturedOffer[]> {
  const heads = new Map<string, string>();
  const server = net.createServer((socket) => {
    let head = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      head += chunk;
      if (!head.includes('\r\n\r\n')) return;
      const index = /^GET \/(\d+) /.exec(head)?.[1];
      if (index !== undefined) heads.set(index, head);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  try {
    for (let start = 0; start < combinations.length; start += 50) {
      const batch = combinations.slice(start, start + 50).map(
        (options, offset) =>
          new Promise<void>((resolve) => {
            const client = new WsClient(`ws://127.0.0.1:${port}/${start + offset}`, {
              perMessageDeflate: asWsOptions(options),
            });
            client.on('error', () => resolve());
            client.on('close', () => resolve());
          }),
      );
      await Promise.all(batch);
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  return combinations.map((options, index) => {
    const head = heads.get(String(index));
    if (head === undefined) throw new Error(`no request captured for ${JSON.stringify(options)}`);
    return { options, header: /\r\nsec-websocket-extensions: ([^\r]*)\r\n/i.exec(head)?.[1] };
  });
}

/** Whether RFC 7692 (and our zlib) lets a server with `ours` accept what a ws client with `theirs` offers. */
function shouldAccept(theirs: PerMessageDeflateOptions, ours: PerMessageDeflateOptions): boolean {
  if (theirs.serverMaxWindowBits === true) return false; // ws offers server_max_window_bits with no value
  if (typeof theirs.serverMaxWindowBits === 'number') {
    if (ours.serverMaxWindowBits === false) return false;
    const ourCap = typeof ours.serverMaxWindowBits === 'number' ? ours.serverMaxWindowBits : 15;
    if (Math.min(ourCap, theirs.serverMaxWindowBits) === 8) return false;
  }
  if (theirs.serverNoContextTakeover === true && ours.serverNoContextTakeover === false) return false;
  if (typeof ours.clientMaxWindowBits === 'number' && theirs.clientMaxWindowBits === false) return false;
  return true;
}

/** ws names windows of 15 as it got them; an agreement treats 15 and "not named" alike. */
function withoutFullWindows(agreement: WsAgreement): WsAgreement {
  return Object.fromEntries(Object.entries(agreement).filter(([, value]) => value !== 15));
}

const serverOptionSets: PerMessageDeflateOptions[] = [
  {},
  { serverNoContextTakeover: true, clientNoContextTakeover: true },
  { serverNoContextTakeover: false, clientNoContextTakeover: false },
  { serverMaxWindowBits: 10, clientMaxWindowBits: 10 },
  { serverMaxWindowBits: false, clientMaxWindowBits: false },
  { serverMaxWindowBits: 9, clientMaxWindowBits: 8 },
];

describe('ws client offers against our server negotiation', () => {
  let offers: CapturedOffer[] = [];

  beforeAll(async () => {
    offers = await captureOffers(wsOptionCombinations());
  });
  afterAll(() => {
    offers = [];
  });

  it('captures one offer per option combination, in the shapes ws sends', () => {
    expect(offers).toHaveLength(3 * 3 * 7 * 7);
    const distinct = new Set(offers.map((offer) => offer.header));
    expect(distinct.has('permessage-deflate; client_max_window_bits')).toBe(true);
    expect(distinct.has('permessage-deflate')).toBe(true);
    expect(distinct.has('permessage-deflate; server_max_window_bits; client_max_window_bits')).toBe(true);
    expect(
      distinct.has(
        'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=9',
      ),
    ).toBe(true);
    expect(offers.every((offer) => offer.header?.startsWith('permessage-deflate'))).toBe(true);
  });

  it.each(serverOptionSets.map((options) => [JSON.stringify(options), options] as const))(
    'server options %s: accepts exactly the acceptable offers, and ws accepts every answer',
    (_name, ours) => {
      let accepted = 0;
      let refusedByWsItself = 0;
      for (const { options: theirs, header } of offers) {
        const outcome = negotiateAsServer(header, resolveDeflateOptions(ours, 'server'));
        const context = `${header} (ws ${JSON.stringify(theirs)})`;
        expect(outcome.agreement !== null, context).toBe(shouldAccept(theirs, ours));
        if (outcome.agreement === null) {
          expect(outcome.declined, context).toHaveLength(1);
          continue;
        }
        accepted++;
        if (outcome.agreement.clientNoContextTakeover && theirs.clientNoContextTakeover === false) {
          // ws's client refuses client_no_context_takeover when told false, which RFC 7692 §7.1.1.2
          // does not allow it to; a ws server with clientNoContextTakeover: true fails it the same way.
          expect(() => wsClientAccepts(theirs, outcome.response!), context).toThrow(
            'Unexpected parameter "client_no_context_takeover"',
          );
          refusedByWsItself++;
          continue;
        }
        const { client_max_window_bits: wsClientBits, ...wsRest } = wsClientAccepts(
          theirs,
          outcome.response!,
        );
        const { client_max_window_bits: ourClientBits, ...ourRest } = inWsShape(outcome.agreement);
        expect(withoutFullWindows(wsRest), context).toEqual(ourRest);
        // A ws client may hold itself to a smaller window than we agreed (its own offer's value,
        // when our answer did not name one); never to a larger one, which we could not inflate.
        expect((wsClientBits as number | undefined) ?? 15, context).toBeLessThanOrEqual(
          (ourClientBits as number | undefined) ?? 15,
        );
        if (ourClientBits !== undefined) expect(wsClientBits, context).toBe(ourClientBits);
      }
      // Not a vacuous pass: over a quarter of the offers are acceptable under every option set.
      expect(accepted).toBeGreaterThan(offers.length / 4);
      expect(refusedByWsItself).toBe(ours.clientNoContextTakeover === true ? accepted / 3 : 0);
    },
  );
});
