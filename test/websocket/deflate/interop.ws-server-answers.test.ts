// Our client's offers answered by the npm ws server: by ws's negotiation logic for every
// combination of its perMessageDeflate options, and by real ws servers over TCP. Every answer ws
// gives is one our client accepts (except a client window of 8, which zlib cannot compress with),
// and both ends then agree on the same parameters.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocketServer as WsServer } from 'ws';
import { WebSocketError } from '../../../src/websocket/errors.ts';
import { acceptServerResponse, formatOffer } from '../../../src/websocket/deflate/negotiation.ts';
import {
  resolveDeflateOptions,
  type PerMessageDeflateOptions,
} from '../../../src/websocket/deflate/options.ts';
import {
  asWsOptions,
  inWsShape,
  wsOptionCombinations,
  wsServerAnswers,
  type WsAgreement,
} from './ws-reference.ts';

const clientOptionSets: PerMessageDeflateOptions[] = [
  {},
  { serverNoContextTakeover: true },
  { clientNoContextTakeover: true },
  { serverNoContextTakeover: true, clientNoContextTakeover: true },
  { serverMaxWindowBits: 8 },
  { serverMaxWindowBits: 12 },
  { serverMaxWindowBits: 15 },
  { clientMaxWindowBits: 9 },
  { clientMaxWindowBits: 12 },
  { clientMaxWindowBits: false },
  { serverMaxWindowBits: 10, clientMaxWindowBits: 10, serverNoContextTakeover: true },
  { serverMaxWindowBits: false, clientMaxWindowBits: true },
];

function parseWsAnswer(answer: string): WsAgreement {
  const agreement: WsAgreement = {};
  for (const part of answer.split('; ').slice(1)) {
    const [name, value] = part.split('=');
    agreement[name!] = value === undefined ? true : Number(value);
  }
  return agreement;
}

describe('our client offers against ws’s server negotiation', () => {
  it.each(clientOptionSets.map((options) => [JSON.stringify(options), options] as const))(
    'client options %s: every ws server answer is accepted with the same parameters',
    (_name, ours) => {
      const resolved = resolveDeflateOptions(ours, 'client')!;
      const offer = formatOffer(resolved);
      let answered = 0;
      let eightBitRefusals = 0;
      for (const theirs of wsOptionCombinations()) {
        let answer: string;
        try {
          answer = wsServerAnswers(theirs, offer);
        } catch {
          continue; // ws declined the offer (e.g. serverMaxWindowBits larger than we asked for)
        }
        answered++;
        const context = `${offer} → ${answer} (ws server ${JSON.stringify(theirs)})`;
        const wsAgreement = parseWsAnswer(answer);
        if (wsAgreement.client_max_window_bits === 8) {
          expect(() => acceptServerResponse(answer, resolved), context).toThrow(
            'client_max_window_bits=8: zlib cannot compress with an 8-bit window',
          );
          eightBitRefusals++;
          continue;
        }
        const agreement = acceptServerResponse(answer, resolved);
        expect(agreement, context).not.toBeNull();
        const { client_max_window_bits: ourClientBits, ...ourRest } = inWsShape(agreement!);
        const { client_max_window_bits: wsClientBits, ...wsRest } = wsAgreement;
        expect(
          Object.fromEntries(Object.entries(wsRest).filter(([, value]) => value !== 15)),
          context,
        ).toEqual(ourRest);
        // We keep to the window we offered even when the answer does not repeat it.
        expect(ourClientBits ?? 15, context).toBeLessThanOrEqual((wsClientBits as number | undefined) ?? 15);
      }
      expect(answered).toBeGreaterThan(100);
      // ws's clientMaxWindowBits: 8 answers 8 whenever our offer names client_max_window_bits.
      expect(eightBitRefusals > 0).toBe(ours.clientMaxWindowBits !== false);
    },
  );
});

/** Sends an upgrade request with `offer` to a real ws server; resolves with its answer's head. */
function upgradeHead(port: number, offer: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let head = '';
    socket.setEncoding('latin1');
    socket.on('connect', () =>
      socket.write(
        [
          'GET / HTTP/1.1',
          `Host: 127.0.0.1:${port}`,
          'Upgrade: websocket',
          'Connection: Upgrade',
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
          'Sec-WebSocket-Version: 13',
          `Sec-WebSocket-Extensions: ${offer}`,
          '',
          '',
        ].join('\r\n'),
      ),
    );
    socket.on('data', (chunk: string) => {
      head += chunk;
      if (head.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(head.slice(0, head.indexOf('\r\n\r\n')));
      }
    });
    socket.on('error', reject);
  });
}

function wsDeclines(theirs: PerMessageDeflateOptions, offer: string): boolean {
  try {
    wsServerAnswers(theirs, offer);
    return false;
  } catch {
    return true;
  }
}

describe('our client offers against real ws servers', () => {
  const serverOptionSets: PerMessageDeflateOptions[] = [
    {},
    { serverNoContextTakeover: true, clientNoContextTakeover: true },
    { serverMaxWindowBits: 10, clientMaxWindowBits: 11 },
    { clientMaxWindowBits: false, serverMaxWindowBits: false },
  ];

  it.each(serverOptionSets.map((options) => [JSON.stringify(options), options] as const))(
    'ws server %s: its 101 answers pass our checks',
    async (_name, theirs) => {
      const server = new WsServer({ port: 0, host: '127.0.0.1', perMessageDeflate: asWsOptions(theirs) });
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as net.AddressInfo;
      try {
        let compressed = 0;
        for (const ours of clientOptionSets) {
          const resolved = resolveDeflateOptions(ours, 'client');
          const offer = formatOffer(resolved!);
          const head = await upgradeHead(port, offer);
          if (wsDeclines(theirs, offer)) {
            // ws fails the handshake where RFC 7692 would decline the offer and go on uncompressed.
            expect(head).toMatch(/^HTTP\/1\.1 400 /);
            continue;
          }
          expect(head).toMatch(/^HTTP\/1\.1 101 /);
          const answer = /\r\nsec-websocket-extensions: ([^\r]*)/i.exec(head)?.[1];
          let agreement;
          try {
            agreement = acceptServerResponse(answer, resolved);
          } catch (error) {
            expect(error).toBeInstanceOf(WebSocketError);
            throw new Error(`${formatOffer(resolved!)} → ${answer}: ${(error as Error).message}`);
          }
          if (agreement !== null) compressed++;
          if (answer === undefined) expect(agreement).toBeNull();
        }
        expect(compressed).toBeGreaterThan(0);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );
});
