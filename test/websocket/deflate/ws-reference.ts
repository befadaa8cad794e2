// ws's own permessage-deflate negotiation (its internal lib/permessage-deflate.js and
// lib/extension.js), used as the reference our negotiation must interoperate with, and the option
// combinations of its perMessageDeflate that change what is offered or answered.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { PerMessageDeflateOptions as WsTypedOptions } from 'ws';
import type { PerMessageDeflateOptions } from '../../../src/websocket/deflate/options.ts';

type WsParams = Record<string, Array<string | true>>;

interface WsPerMessageDeflate {
  offer(): Record<string, string | number | true>;
  accept(configurations: WsParams[]): Record<string, number | true>;
}

const require = createRequire(import.meta.url);
// ws exports only its entry point; its lib/ sits next to it.
const wsLib = path.join(path.dirname(require.resolve('ws')), 'lib');
const PerMessageDeflate = require(path.join(wsLib, 'permessage-deflate.js')) as new (
  options: object,
) => WsPerMessageDeflate;
const extension = require(path.join(wsLib, 'extension.js')) as {
  parse(header: string): Record<string, WsParams[]>;
  format(extensions: Record<string, object>): string;
};

/** What ws ends up agreeing to, in its own shape (`{ server_no_context_takeover: true, ... }`). */
export type WsAgreement = Record<string, number | true>;

/** ws as a client checking a server's answer (throws where ws would fail the connection). */
export function wsClientAccepts(options: PerMessageDeflateOptions, response: string): WsAgreement {
  const deflate = new PerMessageDeflate({ ...options, isServer: false });
  const offers = extension.parse(response)['permessage-deflate'];
  if (offers === undefined) throw new Error(`ws found no permessage-deflate in ${response}`);
  return deflate.accept(offers);
}

/** ws as a server answering an offer: its Sec-WebSocket-Extensions answer (throws where ws declines). */
export function wsServerAnswers(options: PerMessageDeflateOptions, offer: string): string {
  const deflate = new PerMessageDeflate({ ...options, isServer: true });
  const offers = extension.parse(offer)['permessage-deflate'];
  if (offers === undefined) throw new Error(`ws found no permessage-deflate in ${offer}`);
  return extension.format({ 'permessage-deflate': deflate.accept(offers) });
}

/** Our agreement in ws's shape, for comparing with what ws agreed. */
export function inWsShape(agreement: {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}): WsAgreement {
  const shape: WsAgreement = {};
  if (agreement.serverNoContextTakeover) shape.server_no_context_takeover = true;
  if (agreement.clientNoContextTakeover) shape.client_no_context_takeover = true;
  if (agreement.serverMaxWindowBits !== 15) shape.server_max_window_bits = agreement.serverMaxWindowBits;
  if (agreement.clientMaxWindowBits !== 15) shape.client_max_window_bits = agreement.clientMaxWindowBits;
  return shape;
}

function product<T>(axes: Array<Array<[string, unknown]>>): T[] {
  return axes.reduce<Array<Record<string, unknown>>>(
    (combos, axis) =>
      combos.flatMap((combo) =>
        axis.map(([key, value]) => (value === undefined ? { ...combo } : { ...combo, [key]: value })),
      ),
    [{}],
  ) as T[];
}

/**
 * Our options as ws's typings want them: ws takes `true` for the window options at run time (it
 * then offers the parameter bare), which its typings leave out.
 */
export function asWsOptions(options: PerMessageDeflateOptions): WsTypedOptions {
  return options as WsTypedOptions;
}

/** Every combination of the takeover options and of window bits ws's perMessageDeflate takes. */
export function wsOptionCombinations(): PerMessageDeflateOptions[] {
  return product<PerMessageDeflateOptions>([
    [undefined, true, false].map((value) => ['serverNoContextTakeover', value]),
    [undefined, true, false].map((value) => ['clientNoContextTakeover', value]),
    [undefined, true, false, 8, 9, 12, 15].map((value) => ['serverMaxWindowBits', value]),
    [undefined, true, false, 8, 9, 12, 15].map((value) => ['clientMaxWindowBits', value]),
  ]);
}
