// Reads the structure of a raw DEFLATE stream (RFC 1951) without producing its output: where each
// back-reference points. zlib cannot check that a peer kept to an agreed window (within one inflate
// call any distance back into the output is accepted), so the conformance cases measure it here.

/** What the references of one message reach. */
export interface ReferenceReach {
  /** The longest distance of any back-reference (0 when there is none). */
  maxDistance: number;
  /** How far before the message's own first byte a reference reaches (0: only into the message). */
  beforeStart: number;
  /** The message's length once inflated. */
  length: number;
}

const LENGTH_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
  227, 258,
];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DISTANCE_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
  6145, 8193, 12289, 16385, 24577,
];
const DISTANCE_EXTRA = [
  0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
];
/** The order code-length code lengths are sent in (RFC 1951 §3.2.7). */
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** A canonical Huffman code as counts per length and symbols in code order. */
interface Huffman {
  counts: number[];
  symbols: number[];
}

function huffman(lengths: number[]): Huffman {
  const counts = Array<number>(16).fill(0);
  for (const length of lengths) counts[length]!++;
  counts[0] = 0;
  const offsets = [0, 0];
  for (let bits = 1; bits < 15; bits++) offsets.push(offsets[bits]! + counts[bits]!);
  const symbols = Array<number>(lengths.length).fill(0);
  lengths.forEach((length, symbol) => {
    if (length !== 0) symbols[offsets[length]!++] = symbol;
  });
  return { counts, symbols };
}

const FIXED_LITERALS = huffman([
  ...Array<number>(144).fill(8),
  ...Array<number>(112).fill(9),
  ...Array<number>(24).fill(7),
  ...Array<number>(8).fill(8),
]);
const FIXED_DISTANCES = huffman(Array<number>(30).fill(5));

class BitReader {
  #bytes: Buffer;
  #at = 0;
  #bit = 0;

  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** Whole bytes not started yet. */
  get bytesLeft(): number {
    return this.#bytes.length - this.#at - (this.#bit > 0 ? 1 : 0);
  }

  bits(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++) {
      if (this.#at >= this.#bytes.length) throw new Error('the DEFLATE data ends inside a block');
      value |= ((this.#bytes[this.#at]! >> this.#bit) & 1) << i;
      if (++this.#bit === 8) {
        this.#bit = 0;
        this.#at++;
      }
    }
    return value;
  }

  /** Skips to the next byte boundary, then `count` whole bytes. */
  skipBytes(count: number): void {
    if (this.#bit > 0) {
      this.#bit = 0;
      this.#at++;
    }
    if (this.#at + count > this.#bytes.length) throw new Error('a stored block runs past the data');
    this.#at += count;
  }

  alignedUint16(): number {
    if (this.#bit > 0) {
      this.#bit = 0;
      this.#at++;
    }
    return this.bits(16);
  }

  decode(code: Huffman): number {
    let value = 0;
    let first = 0;
    let index = 0;
    for (let length = 1; length < 16; length++) {
      value |= this.bits(1);
      const count = code.counts[length]!;
      if (value - first < count) return code.symbols[index + value - first]!;
      index += count;
      first = (first + count) << 1;
      value <<= 1;
    }
    throw new Error('an invalid Huffman code in the DEFLATE data');
  }
}

function dynamicCodes(reader: BitReader): { literals: Huffman; distances: Huffman } {
  const literalCount = reader.bits(5) + 257;
  const distanceCount = reader.bits(5) + 1;
  const codeLengthCount = reader.bits(4) + 4;
  const codeLengthLengths = Array<number>(19).fill(0);
  for (let i = 0; i < codeLengthCount; i++) codeLengthLengths[CODE_LENGTH_ORDER[i]!] = reader.bits(3);
  const codeLengths = huffman(codeLengthLengths);
  const lengths: number[] = [];
  while (lengths.length < literalCount + distanceCount) {
    const symbol = reader.decode(codeLengths);
    if (symbol < 16) lengths.push(symbol);
    else if (symbol === 16) {
      if (lengths.length === 0) throw new Error('a repeat with no previous code length');
      lengths.push(...Array<number>(3 + reader.bits(2)).fill(lengths[lengths.length - 1]!));
    } else lengths.push(...Array<number>(symbol === 17 ? 3 + reader.bits(3) : 11 + reader.bits(7)).fill(0));
  }
  return {
    literals: huffman(lengths.slice(0, literalCount)),
    distances: huffman(lengths.slice(literalCount)),
  };
}

/**
 * The reach of the back-references in one message's DEFLATE data (with its 00 00 ff ff tail
 * restored, or ending in a final block). Throws on data that is not DEFLATE.
 */
export function referenceReach(data: Buffer): ReferenceReach {
  const reader = new BitReader(data);
  const reach: ReferenceReach = { maxDistance: 0, beforeStart: 0, length: 0 };
  let last = false;
  while (!last && reader.bytesLeft > 0) {
    last = reader.bits(1) === 1;
    const type = reader.bits(2);
    if (type === 0) {
      const length = reader.alignedUint16();
      if ((reader.bits(16) ^ 0xffff) !== length) throw new Error('a stored block with a bad NLEN');
      reader.skipBytes(length);
      reach.length += length;
      continue;
    }
    if (type === 3) throw new Error('a DEFLATE block of the reserved type 3');
    const { literals, distances } =
      type === 1 ? { literals: FIXED_LITERALS, distances: FIXED_DISTANCES } : dynamicCodes(reader);
    for (;;) {
      const symbol = reader.decode(literals);
      if (symbol < 256) reach.length++;
      else if (symbol === 256) break;
      else {
        const index = symbol - 257;
        if (index >= 29) throw new Error(`the invalid length symbol ${symbol}`);
        const length = LENGTH_BASE[index]! + reader.bits(LENGTH_EXTRA[index]!);
        const code = reader.decode(distances);
        if (code >= 30) throw new Error(`the invalid distance symbol ${code}`);
        const distance = DISTANCE_BASE[code]! + reader.bits(DISTANCE_EXTRA[code]!);
        reach.maxDistance = Math.max(reach.maxDistance, distance);
        reach.beforeStart = Math.max(reach.beforeStart, distance - reach.length);
        reach.length += length;
      }
    }
  }
  return reach;
}
