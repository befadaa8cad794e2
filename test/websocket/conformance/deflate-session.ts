// A raw client connection with permessage-deflate: the handshake with an offer, the agreement the
// answer states, and messages sent and echoes checked under it (RSV1 on the first frame only, the
// server's back-references within its window and, without context takeover, within the message,
// the exact content after inflating).
import { afterEach, expect } from 'vitest';
import { referenceReach } from './deflate-scan.ts';
import {
  agreementOf,
  compressedMessage,
  FLUSH_TAIL,
  MessageCompressor,
  MessageDecompressor,
  parseExtensionsHeader,
  type Agreement,
  type ExtensionElement,
} from './deflate-peer.ts';
import { useEchoServer, type EchoServerOptions } from './echo-server.ts';
import type { HandshakeOptions, HttpResponse, RawClient } from './raw-client.ts';

/** The answer's parameters compared as a set (their order does not matter, RFC 7692 §5). */
export type AnswerParams = Record<string, string | true>;

export interface DeflateConnection {
  client: RawClient;
  response: HttpResponse;
  /** The permessage-deflate element of the answer, null when compression was declined. */
  answer: ExtensionElement | null;
  agreement: Agreement | null;
  /** `data` compressed as agreed (the compressor's context moves on): a message's payload. */
  compress(data: Buffer): Promise<Buffer>;
  /** The frames of `data` compressed as agreed, cut into frames of `fragmentSize` (0: one frame). */
  encode(opcode: number, data: Buffer, fragmentSize?: number): Promise<Buffer>;
  /** Encodes and sends one message. */
  send(opcode: number, data: Buffer, fragmentSize?: number): Promise<void>;
  /**
   * Reads the next message and checks it is `data` as `opcode`, compressed as agreed (or sent
   * plain, when `compressed` is false); returns its payload's size on the wire.
   */
  expectEcho(opcode: number, data: Buffer, compressed?: boolean): Promise<number>;
  /** Frees the zlib streams (the socket is the caller's). */
  dispose(): void;
}

/** The offer as a Sec-WebSocket-Extensions header (one line, or one line per value). */
export function offerHeaders(offer: string | string[]): HandshakeOptions {
  return { headers: { 'Sec-WebSocket-Extensions': offer } };
}

/** The answer's extensions: none when the header is absent. */
export function answeredExtensions(response: HttpResponse): ExtensionElement[] {
  const value = response.headers['sec-websocket-extensions'];
  return value === undefined ? [] : parseExtensionsHeader(value);
}

/**
 * Checks an answer: exactly one permessage-deflate with `expected` parameters (order free), or
 * no extension at all for `null`. Returns the element.
 */
export function expectAnswer(response: HttpResponse, expected: AnswerParams | null): ExtensionElement | null {
  const extensions = answeredExtensions(response);
  if (expected === null) {
    expect(extensions, 'Sec-WebSocket-Extensions of the answer').toEqual([]);
    return null;
  }
  expect(extensions, 'Sec-WebSocket-Extensions of the answer').toEqual([
    { name: 'permessage-deflate', params: expected },
  ]);
  return extensions[0]!;
}

/** The compressor and decompressor of the client's side of a connection under `agreement`. */
function codecs(agreement: Agreement, clientResets: boolean) {
  return {
    compressor: new MessageCompressor(
      agreement.clientMaxWindowBits,
      agreement.clientNoContextTakeover || clientResets,
    ),
    decompressor: new MessageDecompressor(agreement.serverMaxWindowBits, agreement.serverNoContextTakeover),
  };
}

/**
 * Connects, sends the handshake with `offer`, and checks the answer is 101 with `expected`.
 * `clientResets`: the client resets its compressor even when the answer does not ask it to (it
 * offered client_no_context_takeover as a hint, RFC 7692 §7.1.1.2).
 */
export async function openDeflate(
  connect: () => Promise<RawClient>,
  offer: string | string[] | undefined,
  expected: AnswerParams | null,
  clientResets = false,
): Promise<DeflateConnection> {
  const client = await connect();
  const response = await client.handshake(offer === undefined ? {} : offerHeaders(offer));
  expect(response.statusCode, 'handshake status').toBe(101);
  const answer = expectAnswer(response, expected);
  const agreement = answer === null ? null : agreementOf(answer);
  const { compressor, decompressor } =
    agreement === null ? { compressor: undefined, decompressor: undefined } : codecs(agreement, clientResets);
  const compress = (data: Buffer) => {
    if (compressor === undefined) throw new Error('compression was not agreed');
    return compressor.compress(data);
  };
  const encode = async (opcode: number, data: Buffer, fragmentSize = 0) =>
    compressedMessage(opcode, await compress(data), fragmentSize);
  return {
    client,
    response,
    answer,
    agreement,
    compress,
    encode,
    async send(opcode, data, fragmentSize = 0) {
      await client.send(await encode(opcode, data, fragmentSize));
    },
    async expectEcho(opcode, data, compressed = true) {
      if (agreement === null || decompressor === undefined) throw new Error('compression was not agreed');
      const message = await client.readMessage();
      const frames = client.frames.slice(-message.frames);
      expect(
        frames.map((frame) => [frame.masked, frame.rsv1, frame.rsv2, frame.rsv3]),
        `masked, RSV1, RSV2, RSV3 of each frame (${compressed ? 'RSV1 on the first frame only' : 'sent plain'})`,
      ).toEqual(frames.map((_, i) => [false, compressed && i === 0, false, false]));
      expect(message.opcode, 'opcode').toBe(opcode);
      if (!compressed) {
        expect(message.data.equals(data), 'the plain message equals what was sent').toBe(true);
        return message.data.length;
      }
      const reach = referenceReach(Buffer.concat([message.data, FLUSH_TAIL]));
      expect(reach.maxDistance, 'longest back-reference').toBeLessThanOrEqual(
        2 ** agreement.serverMaxWindowBits,
      );
      if (agreement.serverNoContextTakeover) {
        expect(reach.beforeStart, 'bytes referenced before the message (no context takeover)').toBe(0);
      }
      const inflated = await decompressor.decompress(message.data);
      expect(inflated.length, 'inflated length').toBe(data.length);
      expect(inflated.equals(data), 'inflated bytes equal what was sent').toBe(true);
      return message.data.length;
    },
    dispose() {
      compressor?.close();
      decompressor?.close();
    },
  };
}

/**
 * useEchoServer with compression on (`threshold: 0` unless `deflate` says otherwise: every echo is
 * compressed), and `openDeflate` bound to it; the zlib streams are freed after each test.
 */
export function useDeflateEchoServer(
  deflate: Record<string, unknown> = {},
  options: EchoServerOptions = {},
): ReturnType<typeof useEchoServer> & {
  openDeflate: (
    offer: string | string[] | undefined,
    expected: AnswerParams | null,
    clientResets?: boolean,
  ) => Promise<DeflateConnection>;
} {
  const echo = useEchoServer({ ...options, perMessageDeflate: { threshold: 0, ...deflate } });
  const opened: DeflateConnection[] = [];
  afterEach(() => {
    for (const connection of opened.splice(0)) connection.dispose();
  });
  return {
    ...echo,
    openDeflate: async (offer, expected, clientResets) => {
      const connection = await openDeflate(echo.connect, offer, expected, clientResets);
      opened.push(connection);
      return connection;
    },
  };
}
