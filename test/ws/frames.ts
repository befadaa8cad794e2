// Builds WebSocket frames byte by byte in plain TypeScript (no native code), so the parser is not
// tested against our own writer, and the fuzz seed writer can use the fixtures without the addon.

export const OP = { CONTINUATION: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;
export const KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** The masking key; `false` for an unmasked (server-to-client) frame. Default: KEY. */
  mask?: Buffer | false;
  /** Announce this length instead of the payload's (for lying and huge headers). */
  length?: bigint;
  /** Force a length encoding: 7-bit, 16-bit or 64-bit (non-minimal ones are legal). */
  encoding?: 7 | 16 | 64;
}

/** Builds a frame's bytes in plain TypeScript, so the parser is not tested against our own writer. */
export function frame(spec: FrameSpec): Buffer {
  const payload =
    typeof spec.payload === 'string' ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  const length = spec.length ?? BigInt(payload.length);
  const encoding = spec.encoding ?? (length <= 125n ? 7 : length <= 0xffffn ? 16 : 64);
  const mask = spec.mask === undefined ? KEY : spec.mask;
  const first =
    (spec.fin === false ? 0 : 0x80) |
    (spec.rsv1 ? 0x40 : 0) |
    (spec.rsv2 ? 0x20 : 0) |
    (spec.rsv3 ? 0x10 : 0) |
    spec.opcode;
  const maskBit = mask ? 0x80 : 0;
  const parts: Buffer[] = [];
  if (encoding === 7) {
    parts.push(Buffer.from([first, maskBit | Number(length)]));
  } else if (encoding === 16) {
    const header = Buffer.alloc(4);
    header[0] = first;
    header[1] = maskBit | 126;
    header.writeUInt16BE(Number(length), 2);
    parts.push(header);
  } else {
    const header = Buffer.alloc(10);
    header[0] = first;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(length, 2);
    parts.push(header);
  }
  if (mask) {
    parts.push(mask);
    parts.push(Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!)));
  } else {
    parts.push(payload);
  }
  return Buffer.concat(parts);
}
