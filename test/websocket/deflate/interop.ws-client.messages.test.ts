// The npm ws client, in every combination of the context takeover and window options its
// perMessageDeflate takes, exchanging messages with our server (which echoes them) under several
// server option sets. Wherever both ends agreed compression, every message, repeated ones included
// (context takeover), comes back identical and in order; the only handshakes that fail are the
// ones ws itself refuses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PerMessageDeflateOptions } from '../../../src/websocket/deflate/options.ts';
import { checkNothingLeaksAfterEach } from '../../helpers.ts';
import { IMPL, startServer, type Recorded, type Server } from './deflate-fixtures.ts';
import { expectEchoes, inBatches, sweepMessages } from './sweep.ts';
import { wsOptionCombinations } from './ws-reference.ts';

checkNothingLeaksAfterEach({ fds: true });

const serverOptionSets: PerMessageDeflateOptions[] = [
  { threshold: 64 },
  { threshold: 64, serverNoContextTakeover: true, clientNoContextTakeover: true },
  { threshold: 0, serverMaxWindowBits: 10, clientMaxWindowBits: 10 },
  { threshold: 512, serverMaxWindowBits: 9, clientNoContextTakeover: true },
];

describe.each(serverOptionSets.map((options) => [JSON.stringify(options), options] as const))(
  'our server %s with ws clients',
  (_name, ours) => {
    let server: Server;
    beforeAll(async () => {
      server = await startServer({ perMessageDeflate: ours });
    });
    afterAll(() => server.close());

    it(
      'every ws client option combination: agreed alike by both ends, every message echoed intact',
      { timeout: 180_000 },
      async () => {
        const combinations = wsOptionCombinations();
        const messages = sweepMessages();
        const outcomes: Array<'compressed' | 'plain' | 'refused by ws'> = [];
        await inBatches(combinations, 16, async (theirs, index) => {
          const context = JSON.stringify(theirs);
          let client: Recorded;
          try {
            client = await server.connect({ ...theirs, threshold: 0 } as never, {
              impl: 'ws',
              path: `/${index}`,
            });
          } catch (error) {
            if (IMPL === 'ws' && (error as Error).message === 'Unexpected server response: 400') {
              // A ws server (DEFLATE_IMPL=ws) fails the handshake where RFC 7692 declines the offer.
              outcomes[index] = 'plain';
              return;
            }
            // ws's client refuses client_no_context_takeover when told false (RFC 7692 §7.1.1.2
            // lets a server ask for it whatever the offer said).
            expect((error as Error).message, context).toBe('Invalid Sec-WebSocket-Extensions header');
            expect(
              { ours: ours.clientNoContextTakeover, theirs: theirs.clientNoContextTakeover },
              context,
            ).toEqual({
              ours: true,
              theirs: false,
            });
            outcomes[index] = 'refused by ws';
            return;
          }
          const side = server.accepted.find((accepted) => accepted.url === `/${index}`)!;
          expect(side, context).toBeDefined();
          const agreed = client.ws.extensions !== '';
          expect(side.ws.extensions, context).toBe(agreed ? 'permessage-deflate' : '');
          await expectEchoes(client, messages);
          expect(
            side.errors.map((error) => error.code),
            context,
          ).toEqual([]);
          expect(
            client.errors.map((error) => error.message),
            context,
          ).toEqual([]);
          outcomes[index] = agreed ? 'compressed' : 'plain';
          client.ws.close(1000);
        });
        const count = (outcome: string) => outcomes.filter((each) => each === outcome).length;
        // Not a vacuous pass: over a quarter of the combinations compress under every option set.
        expect(count('compressed')).toBeGreaterThan(combinations.length / 4);
        expect(count('compressed') + count('plain') + count('refused by ws')).toBe(combinations.length);
        // Each refusal was checked above to be that case; it happens wherever our server asks for it
        // of a client that offered to keep its context and whose offer it accepted.
        expect(count('refused by ws') > 0).toBe(ours.clientNoContextTakeover === true);
      },
    );
  },
);
