// Our client against npm ws servers in every combination of the context takeover and window
// options ws's perMessageDeflate takes, exchanging messages (the ws server echoes them). Each
// outcome is the one ws's own negotiation predicts for our offer: a 400 where ws declines, our
// refusal of a client window of 8 (zlib cannot compress with it), and otherwise compression agreed
// by both ends with every message, repeated ones included, coming back identical and in order.
import { describe, expect, it } from 'vitest';
import { formatOffer } from '../../../src/websocket/deflate/negotiation.ts';
import {
  resolveDeflateOptions,
  type PerMessageDeflateOptions,
} from '../../../src/websocket/deflate/options.ts';
import { checkNothingLeaksAfterEach } from '../../helpers.ts';
import { IMPL, startServer, type Recorded } from './deflate-fixtures.ts';
import { expectEchoes, inBatches, sweepMessages } from './sweep.ts';
import { wsOptionCombinations, wsServerAnswers } from './ws-reference.ts';

checkNothingLeaksAfterEach({ fds: true });

const clientOptionSets: PerMessageDeflateOptions[] = [
  { threshold: 0 },
  { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true },
  { threshold: 0, serverMaxWindowBits: 10, clientMaxWindowBits: 11 },
  { threshold: 0, clientMaxWindowBits: false },
];

type Expected = 'declined by ws' | 'refused: client window 8' | 'compressed';

/** What ws's negotiation answers our client's offer, and so what must happen. */
function expectedOutcome(theirs: PerMessageDeflateOptions, ours: PerMessageDeflateOptions): Expected {
  const offer = formatOffer(resolveDeflateOptions(ours, 'client')!);
  let answer: string;
  try {
    answer = wsServerAnswers(theirs, offer);
  } catch {
    return 'declined by ws';
  }
  // ws's own client (DEFLATE_IMPL=ws) takes a client window of 8.
  if (/client_max_window_bits=8\b/.test(answer) && IMPL !== 'ws') return 'refused: client window 8';
  return 'compressed';
}

describe('our client against ws servers in every option combination', () => {
  it(
    'each outcome is the one ws’s negotiation predicts, and agreed connections echo every message intact',
    { timeout: 300_000 },
    async () => {
      const combinations = wsOptionCombinations();
      const messages = sweepMessages();
      const tally: Record<Expected, number> = {
        'declined by ws': 0,
        'refused: client window 8': 0,
        compressed: 0,
      };
      await inBatches(combinations, 8, async (theirs) => {
        const server = await startServer({ perMessageDeflate: theirs }, 'ws');
        try {
          for (const [index, ours] of clientOptionSets.entries()) {
            const context = `ws server ${JSON.stringify(theirs)}, our client ${JSON.stringify(ours)}`;
            const expected = expectedOutcome(theirs, ours);
            tally[expected]++;
            let client: Recorded | undefined;
            let failure: Error | undefined;
            try {
              client = await server.connect(ours, { path: `/${index}` });
            } catch (error) {
              failure = error as Error;
            }
            if (expected === 'declined by ws') {
              expect(failure?.message, context).toMatch(/400/);
              continue;
            }
            if (expected === 'refused: client window 8') {
              expect(failure?.message, context).toMatch(/client_max_window_bits=8/);
              continue;
            }
            expect(failure, context).toBeUndefined();
            expect(client!.ws.extensions, context).toBe('permessage-deflate');
            const side = server.accepted.find((accepted) => accepted.url === `/${index}`)!;
            expect(side.ws.extensions, context).toMatch(/^permessage-deflate\b/);
            await expectEchoes(client!, messages);
            expect(client!.errors, context).toEqual([]);
            client!.ws.close(1000);
          }
        } finally {
          await server.close();
        }
      });
      // Not vacuous: most pairs compress, and each kind of refusal happens.
      expect(tally.compressed).toBeGreaterThan((combinations.length * clientOptionSets.length) / 2);
      expect(tally['declined by ws']).toBeGreaterThan(0);
      expect(tally['refused: client window 8'] > 0).toBe(IMPL !== 'ws');
    },
  );
});
