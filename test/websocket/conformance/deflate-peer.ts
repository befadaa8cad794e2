// The raw client's half of permessage-deflate (RFC 7692): the agreement read from the server's
// answer, a compressor and a decompressor that keep or reset their context exactly as agreed, and
// the frames of a compressed message. Built on node:zlib so the server is checked against another
// codec than its own.
import zlib from 'node:zlib';
import { buildFrame, OPCODE } from './raw-client.ts';

/** The bytes a sync flush ends with, removed from each message by the sender (§7.2.1). */
export const FLUSH_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** One extension of a Sec-WebSocket-Extensions value: its name and parameters (`true`: no value). */
export interface ExtensionElement {
  name: string;
  params: Record<string, string | true>;
}

/** A Sec-WebSocket-Extensions value as extensions in order (quoted values unquoted). */
export function parseExtensionsHeader(value: string): ExtensionElement[] {
  return value
    .split(',')
    .filter((element) => element.trim() !== '')
    .map((element) => {
      const [name = '', ...params] = element.split(';').map((part) => part.trim());
      const parsed: Record<string, string | true> = {};
      for (const param of params) {
        const equals = param.indexOf('=');
        if (equals < 0) parsed[param] = true;
        else
          parsed[param.slice(0, equals).trim()] = param
            .slice(equals + 1)
            .trim()
            .replace(/^"(.*)"$/, '$1');
      }
      return { name, params: parsed };
    });
}

/** What both ends must do once permessage-deflate is agreed (§7.1). */
export interface Agreement {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** The window the server compresses with (15 unless the answer names one). */
  serverMaxWindowBits: number;
  /** The window the client compresses with. */
  clientMaxWindowBits: number;
}

/**
 * The agreement an answer states. A window the answer does not name is the full 15 bits: for the
 * client too, whatever value its offer hinted (RFC 7692 §7.1.2.2).
 */
export function agreementOf(answer: ExtensionElement): Agreement {
  const bits = (value: string | true | undefined, otherwise: number) =>
    value === undefined || value === true ? otherwise : Number(value);
  return {
    serverNoContextTakeover: answer.params.server_no_context_takeover === true,
    clientNoContextTakeover: answer.params.client_no_context_takeover === true,
    serverMaxWindowBits: bits(answer.params.server_max_window_bits, 15),
    clientMaxWindowBits: bits(answer.params.client_max_window_bits, 15),
  };
}

/** Runs `data` through a long-lived zlib stream and a sync flush: the stream keeps its context. */
function throughStream(stream: zlib.DeflateRaw | zlib.InflateRaw, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => chunks.push(chunk);
    const onError = (error: Error) => {
      stream.off('data', onData);
      reject(error);
    };
    stream.on('data', onData);
    stream.once('error', onError);
    stream.write(data);
    stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      stream.off('data', onData);
      stream.off('error', onError);
      resolve(Buffer.concat(chunks));
    });
  });
}

/**
 * The client's compressor. A window of 8 bits is agreed by zlib peers but zlib cannot deflate with
 * it: then only run-length matches (distance 1) are made, which keep to any window.
 */
export class MessageCompressor {
  readonly #noContextTakeover: boolean;
  readonly #options: zlib.ZlibOptions;
  #stream: zlib.DeflateRaw | undefined;

  constructor(windowBits: number, noContextTakeover: boolean) {
    this.#noContextTakeover = noContextTakeover;
    this.#options =
      windowBits === 8
        ? { windowBits: 9, strategy: zlib.constants.Z_RLE }
        : { windowBits, strategy: zlib.constants.Z_DEFAULT_STRATEGY };
  }

  /** The message's compressed payload, without the flush tail. */
  async compress(data: Buffer): Promise<Buffer> {
    let out: Buffer;
    if (this.#noContextTakeover) {
      out = zlib.deflateRawSync(data, { ...this.#options, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } else {
      this.#stream ??= zlib.createDeflateRaw(this.#options);
      out = await throughStream(this.#stream, data);
    }
    if (!out.subarray(-4).equals(FLUSH_TAIL))
      throw new Error('zlib did not end the message with a sync flush');
    return out.subarray(0, -4);
  }

  close(): void {
    this.#stream?.close();
  }
}

/** The client's decompressor for the server's messages: a fresh context per message or one for all. */
export class MessageDecompressor {
  readonly #windowBits: number;
  readonly #noContextTakeover: boolean;
  #stream: zlib.InflateRaw | undefined;

  constructor(windowBits: number, noContextTakeover: boolean) {
    this.#windowBits = windowBits;
    this.#noContextTakeover = noContextTakeover;
  }

  async decompress(payload: Buffer): Promise<Buffer> {
    const data = Buffer.concat([payload, FLUSH_TAIL]);
    if (this.#noContextTakeover) {
      return zlib.inflateRawSync(data, {
        windowBits: this.#windowBits,
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
      });
    }
    this.#stream ??= zlib.createInflateRaw({ windowBits: this.#windowBits });
    return throughStream(this.#stream, data);
  }

  close(): void {
    this.#stream?.close();
  }
}

/**
 * The frames of one compressed message: RSV1 on the first frame only (§6), the payload cut into
 * frames of at most `fragmentSize` bytes (0: one frame).
 */
export function compressedMessage(opcode: number, payload: Buffer, fragmentSize = 0): Buffer {
  if (fragmentSize <= 0 || payload.length <= fragmentSize) {
    return buildFrame({ opcode, payload, rsv1: true });
  }
  const out: Buffer[] = [];
  for (let at = 0; at < payload.length; at += fragmentSize) {
    out.push(
      buildFrame({
        opcode: at === 0 ? opcode : OPCODE.CONTINUATION,
        payload: payload.subarray(at, at + fragmentSize),
        rsv1: at === 0,
        fin: at + fragmentSize >= payload.length,
      }),
    );
  }
  return Buffer.concat(out);
}
