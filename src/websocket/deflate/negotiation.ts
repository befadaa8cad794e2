// permessage-deflate negotiation (RFC 7692 §5, §7.1). Server: the first offer it can accept wins;
// an offer with an unknown, repeated or invalid parameter, or one our options refuse, is declined
// and the next one tried; a header that breaks the RFC 6455 §9.1 grammar declines them all (the
// connection goes on uncompressed). Client: the server's answer is a commitment, so anything in it
// that we did not offer, or cannot honour, fails the connection.
import { WebSocketError } from '../errors.ts';
import { DEFAULT_WINDOW_BITS, EXTENSION_NAME, formatAgreement, type DeflateAgreement } from './agreement.ts';
import {
  ExtensionHeaderSyntaxError,
  formatExtension,
  parseExtensions,
  type Extension,
  type ExtensionParameter,
} from './extension-header.ts';
import type { DeflateOptions } from './options.ts';

/** RFC 7692 §7.1.2: a decimal 8..15 without leading zeros. */
const WINDOW_BITS = /^(?:[89]|1[0-5])$/;

/** The parameters of one offer or response, each at most once and with a valid value. */
interface DeflateParameters {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits?: number;
  /** `true`: named without a value (only in an offer: "you may limit my window"). */
  clientMaxWindowBits?: number | true;
}

/** Reads the parameters, or returns why they are not acceptable. */
function readParameters(
  params: ExtensionParameter[],
  kind: 'offer' | 'response',
): DeflateParameters | string {
  const result: DeflateParameters = { serverNoContextTakeover: false, clientNoContextTakeover: false };
  const seen = new Set<string>();
  for (const { name, value } of params) {
    if (seen.has(name)) return `${name} appears twice`;
    seen.add(name);
    if (name === 'server_no_context_takeover' || name === 'client_no_context_takeover') {
      if (value !== true) return `${name} takes no value, got ${JSON.stringify(value)}`;
      result[name === 'server_no_context_takeover' ? 'serverNoContextTakeover' : 'clientNoContextTakeover'] =
        true;
    } else if (name === 'server_max_window_bits' || name === 'client_max_window_bits') {
      const bareAllowed = kind === 'offer' && name === 'client_max_window_bits';
      if (value === true && !bareAllowed) return `${name} needs a value from 8 to 15`;
      if (value !== true && !WINDOW_BITS.test(value)) {
        return `${name} must be from 8 to 15, got ${JSON.stringify(value)}`;
      }
      const bits = value === true ? true : Number(value);
      if (name === 'client_max_window_bits') result.clientMaxWindowBits = bits;
      else result.serverMaxWindowBits = bits as number;
    } else {
      return `unknown parameter ${name}`;
    }
  }
  return result;
}

export interface ServerNegotiation {
  /** null: compression declined (nothing offered, or no offer acceptable). */
  agreement: DeflateAgreement | null;
  /** The Sec-WebSocket-Extensions value of the 101 answer, when there is an agreement. */
  response?: string;
  /** Why each offer before the accepted one (or the whole header) was declined, in order. */
  declined: string[];
}

function serverAccepts(offer: DeflateParameters, options: DeflateOptions): ServerNegotiation | string {
  if (offer.serverNoContextTakeover && options.serverNoContextTakeover === false) {
    return 'it asks for server_no_context_takeover, which serverNoContextTakeover: false refuses';
  }
  let serverBits =
    typeof options.serverMaxWindowBits === 'number' ? options.serverMaxWindowBits : DEFAULT_WINDOW_BITS;
  if (offer.serverMaxWindowBits !== undefined) {
    if (options.serverMaxWindowBits === false) {
      return 'it asks for server_max_window_bits, which serverMaxWindowBits: false refuses';
    }
    // §7.1.2.1: accepted by naming the same or a smaller window.
    serverBits = Math.min(serverBits, offer.serverMaxWindowBits);
    if (serverBits === 8)
      return 'it asks for server_max_window_bits=8, and zlib cannot compress with an 8-bit window';
  }
  let clientBits = DEFAULT_WINDOW_BITS;
  let clientNamed = false;
  if (typeof options.clientMaxWindowBits === 'number') {
    // §7.1.2.2: a client that did not name client_max_window_bits may not be told a window.
    if (offer.clientMaxWindowBits === undefined) {
      return 'clientMaxWindowBits needs client_max_window_bits in the offer, and it is missing';
    }
    const offered = offer.clientMaxWindowBits === true ? DEFAULT_WINDOW_BITS : offer.clientMaxWindowBits;
    clientBits = Math.min(options.clientMaxWindowBits, offered);
    clientNamed = true;
  } else if (options.clientMaxWindowBits !== false && typeof offer.clientMaxWindowBits === 'number') {
    // The client limits itself anyway; naming it lets us inflate with the smaller window.
    clientBits = offer.clientMaxWindowBits;
    clientNamed = true;
  }
  const agreement: DeflateAgreement = {
    serverNoContextTakeover: offer.serverNoContextTakeover || options.serverNoContextTakeover === true,
    clientNoContextTakeover: offer.clientNoContextTakeover || options.clientNoContextTakeover === true,
    serverMaxWindowBits: serverBits,
    clientMaxWindowBits: clientBits,
  };
  const named = {
    server: offer.serverMaxWindowBits !== undefined || serverBits !== DEFAULT_WINDOW_BITS,
    client: clientNamed,
  };
  return { agreement, response: formatAgreement(agreement, named), declined: [] };
}

/**
 * The server's side: picks the first acceptable permessage-deflate offer of the request's
 * Sec-WebSocket-Extensions header(s) under `options` (null: compression off, nothing accepted).
 */
export function negotiateAsServer(
  header: string | readonly string[] | undefined,
  options: DeflateOptions | null,
): ServerNegotiation {
  if (options === null || header === undefined) return { agreement: null, declined: [] };
  let offers: Extension[];
  try {
    offers = parseExtensions(header);
  } catch (error) {
    if (!(error instanceof ExtensionHeaderSyntaxError)) throw error;
    return { agreement: null, declined: [`the header is malformed: ${error.message}`] };
  }
  const declined: string[] = [];
  for (const offer of offers) {
    const shown = formatExtension(offer);
    if (offer.name !== EXTENSION_NAME) {
      declined.push(`${shown}: not permessage-deflate`);
      continue;
    }
    const params = readParameters(offer.params, 'offer');
    const outcome = typeof params === 'string' ? params : serverAccepts(params, options);
    if (typeof outcome !== 'string') return { ...outcome, declined };
    declined.push(`${shown}: ${outcome}`);
  }
  return { agreement: null, declined };
}

/** The client's offer: its Sec-WebSocket-Extensions value, from the same options `ws` takes. */
export function formatOffer(options: DeflateOptions): string {
  const params: ExtensionParameter[] = [];
  if (options.serverNoContextTakeover === true)
    params.push({ name: 'server_no_context_takeover', value: true });
  if (options.clientNoContextTakeover === true)
    params.push({ name: 'client_no_context_takeover', value: true });
  if (typeof options.serverMaxWindowBits === 'number') {
    params.push({ name: 'server_max_window_bits', value: String(options.serverMaxWindowBits) });
  }
  if (typeof options.clientMaxWindowBits === 'number') {
    params.push({ name: 'client_max_window_bits', value: String(options.clientMaxWindowBits) });
  } else if (options.clientMaxWindowBits !== false) {
    params.push({ name: 'client_max_window_bits', value: true });
  }
  return formatExtension({ name: EXTENSION_NAME, params });
}

function responseError(detail: string): WebSocketError {
  return new WebSocketError(
    `invalid Sec-WebSocket-Extensions in the server's answer: ${detail}`,
    'WS_ERR_INVALID_EXTENSION_RESPONSE',
  );
}

/**
 * The client's side: checks the 101 answer's Sec-WebSocket-Extensions against what `options`
 * offered (null: nothing offered) and returns the agreement (null: the server declined). Throws a
 * WebSocketError WS_ERR_INVALID_EXTENSION_RESPONSE when the connection must fail (RFC 6455 §4.1,
 * RFC 7692 §5 and §7.1).
 */
export function acceptServerResponse(
  header: string | readonly string[] | undefined,
  options: DeflateOptions | null,
): DeflateAgreement | null {
  if (header === undefined) return null;
  let extensions: Extension[];
  try {
    extensions = parseExtensions(header);
  } catch (error) {
    if (!(error instanceof ExtensionHeaderSyntaxError)) throw error;
    throw responseError(`malformed: ${error.message}`);
  }
  if (extensions.length === 0) return null;
  if (options === null)
    throw responseError(`it names ${formatExtension(extensions[0]!)}, and no extension was offered`);
  if (extensions.length > 1)
    throw responseError(`it names ${extensions.length} extensions, and one was offered`);
  const chosen = extensions[0]!;
  if (chosen.name !== EXTENSION_NAME) throw responseError(`it names ${chosen.name}, which was not offered`);
  const params = readParameters(chosen.params, 'response');
  if (typeof params === 'string') throw responseError(params);
  const offeredServerBits =
    typeof options.serverMaxWindowBits === 'number' ? options.serverMaxWindowBits : undefined;
  if (
    params.serverMaxWindowBits !== undefined &&
    params.serverMaxWindowBits > (offeredServerBits ?? DEFAULT_WINDOW_BITS)
  ) {
    throw responseError(
      `server_max_window_bits=${params.serverMaxWindowBits} is larger than the ${offeredServerBits} offered`,
    );
  }
  const offeredClientBits =
    typeof options.clientMaxWindowBits === 'number' ? options.clientMaxWindowBits : DEFAULT_WINDOW_BITS;
  let clientBits = offeredClientBits;
  if (params.clientMaxWindowBits !== undefined) {
    const bits = params.clientMaxWindowBits as number;
    if (options.clientMaxWindowBits === false) throw responseError('client_max_window_bits was not offered');
    if (bits > offeredClientBits) {
      throw responseError(`client_max_window_bits=${bits} is larger than the ${offeredClientBits} offered`);
    }
    if (bits === 8)
      throw responseError('client_max_window_bits=8: zlib cannot compress with an 8-bit window');
    clientBits = bits;
  }
  return {
    serverNoContextTakeover: params.serverNoContextTakeover,
    clientNoContextTakeover: params.clientNoContextTakeover,
    serverMaxWindowBits: params.serverMaxWindowBits ?? DEFAULT_WINDOW_BITS,
    clientMaxWindowBits: clientBits,
  };
}
