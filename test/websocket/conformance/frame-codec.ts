// WebSocket frames for the conformance suite: client frames built byte by byte (any opcode, RSV bits,
// FIN, mask key and length encoding, valid or not) and a parser for the server's unmasked frames.

export const OPCODE = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** The masking key frames use unless a test passes its own. */
export const DEFAULT_MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  /** Default true. */
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** The masking key, or `false` for an unmasked frame. Default DEFAULT_MASK. */
  mask?: Buffer | false;
  /** Announce this length instead of the payload's (for huge or lying headers). */
  length?: bigint | number;
  /** Force a length encoding; non-minimal ones (16 or 64 bits for a short payload) are legal. */
  encoding?: 7 | 16 | 64;
}

/** The bytes of one client frame, built here so the server is not tested against its own writer. */
export function buildFrame(spec: FrameSpec): Buffer {
  const payload =
    typeof spec.payload === 'string' ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  const length = BigInt(spec.length ?? payload.length);
  const encoding = spec.encoding ?? (length <= 125n ? 7 : length <= 0xffffn ? 16 : 64);
  const mask = spec.mask === undefined ? DEFAULT_MASK : spec.mask;
  const first =
    (spec.fin === false ? 0 : 0x80) |
    (spec.rsv1 ? 0x40 : 0) |
    (spec.rsv2 ? 0x20 : 0) |
    (spec.rsv3 ? 0x10 : 0) |
    (spec.opcode & 0x0f);
  const maskBit = mask ? 0x80 : 0;
  let header: Buffer;
  if (encoding === 7) {
    header = Buffer.from([first, maskBit | Number(length)]);
  } else if (encoding === 16) {
    header = Buffer.alloc(4);
    header[0] = first;
    header[1] = maskBit | 126;
    header.writeUInt16BE(Number(length), 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(length, 2);
  }
  if (!mask) return Buffer.concat([header, payload]);
  return Buffer.concat([header, mask, maskPayload(payload, mask)]);
}

/** XORs `payload` with the 4-byte key (masking and unmasking are the same operation). */
export function maskPayload(payload: Buffer, key: Buffer, offset = 0): Buffer {
  const out = Buffer.allocUnsafe(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = payload[i]! ^ key[(offset + i) % 4]!;
  return out;
}

/** Shorthands for the common frames, masked with DEFAULT_MASK. */
export const frames = {
  text: (payload: Buffer | string, extra: Partial<FrameSpec> = {}) =>
    buildFrame({ opcode: OPCODE.TEXT, payload, ...extra }),
  binary: (payload: Buffer | string, extra: Partial<FrameSpec> = {}) =>
    buildFrame({ opcode: OPCODE.BINARY, payload, ...extra }),
  continuation: (payload: Buffer | string, extra: Partial<FrameSpec> = {}) =>
    buildFrame({ opcode: OPCODE.CONTINUATION, payload, ...extra }),
  ping: (payload: Buffer | string = '', extra: Partial<FrameSpec> = {}) =>
    buildFrame({ opcode: OPCODE.PING, payload, ...extra }),
  pong: (payload: Buffer | string = '', extra: Partial<FrameSpec> = {}) =>
    buildFrame({ opcode: OPCODE.PONG, payload, ...extra }),
  /** A close frame: no payload without `code`; with `code`, the 2-byte code then the reason. */
  close: (code?: number, reason: Buffer | string = '', extra: Partial<FrameSpec> = {}) =>
    buildFrame({
      opcode: OPCODE.CLOSE,
      payload: code === undefined ? Buffer.alloc(0) : closePayload(code, reason),
      ...extra,
    }),
};

export function closePayload(code: number, reason: Buffer | string = ''): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code);
  return Buffer.concat([head, typeof reason === 'string' ? Buffer.from(reason) : reason]);
}

/** One frame as the server sent it. */
export interface ServerFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  /** Servers must not mask (RFC 6455 §5.1); recorded so tests can assert it. */
  masked: boolean;
  /** Unmasked payload. */
  payload: Buffer;
}

/** A data message reassembled from its frames, or a single control frame. */
export interface ServerMessage {
  opcode: number;
  data: Buffer;
  /** How many frames carried it. */
  frames: number;
}

/** The close code of a close frame (undefined when its payload is empty). */
export function closeCodeOf(frame: ServerFrame): number | undefined {
  return frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined;
}

export function closeReasonOf(frame: ServerFrame): string {
  return frame.payload.subarray(2).toString();
}

/** Parses one server frame at the start of `bytes`: the frame and its size, or null if incomplete. */
export function parseServerFrame(bytes: Buffer): { frame: ServerFrame; size: number } | null {
  if (bytes.length < 2) return null;
  const first = bytes[0]!;
  const second = bytes[1]!;
  let offset = 2;
  let length = second & 0x7f;
  if (length === 126) {
    if (bytes.length < 4) return null;
    length = bytes.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (bytes.length < 10) return null;
    const long = bytes.readBigUInt64BE(2);
    if (long > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`the server announced a ${long}-byte frame`);
    length = Number(long);
    offset = 10;
  }
  const masked = (second & 0x80) !== 0;
  let key: Buffer | undefined;
  if (masked) {
    if (bytes.length < offset + 4) return null;
    key = bytes.subarray(offset, offset + 4);
    offset += 4;
  }
  if (bytes.length < offset + length) return null;
  const raw = bytes.subarray(offset, offset + length);
  return {
    frame: {
      fin: (first & 0x80) !== 0,
      rsv1: (first & 0x40) !== 0,
      rsv2: (first & 0x20) !== 0,
      rsv3: (first & 0x10) !== 0,
      opcode: first & 0x0f,
      masked,
      payload: key ? maskPayload(raw, key) : Buffer.from(raw),
    },
    size: offset + length,
  };
}

/** Parses a byte stream of server frames completely (throws when it ends inside a frame). */
export function parseServerFrames(bytes: Buffer): ServerFrame[] {
  const out: ServerFrame[] = [];
  let rest = bytes;
  while (rest.length > 0) {
    const parsed = parseServerFrame(rest);
    if (parsed === null) throw new Error(`the stream ends inside a frame (${rest.length} bytes left)`);
    out.push(parsed.frame);
    rest = rest.subarray(parsed.size);
  }
  return out;
}
