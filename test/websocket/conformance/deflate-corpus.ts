// The data the compression cases send, as Autobahn's 12.x/13.x send slices of real files: a text
// corpus (JSON records with multi-byte UTF-8 words) and a binary one (image-like rows, runs and
// incompressible stretches), each message the next slice, wrapping around, so consecutive messages
// share content and context takeover matters. Deterministic: the same bytes on every run.

const CORPUS_BYTES = 256 * 1024;

/** mulberry32: a small seeded generator, so a failing case can be replayed byte for byte. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'deflate',
  'window',
  'context',
  'takeover',
  'message',
  'frame',
  'Grüße',
  'Straße',
  'Faust',
  'über',
  'naïve',
  'café',
  'Ωμέγα',
  'данные',
  '日本語',
  'データ',
  '🙂',
  'Zeichen',
  'Nacht',
  'libevent',
  'buffer',
  'socket',
  'server',
  'client',
  'compress',
  'inflate',
  'zlib',
  'octet',
];

function buildText(): Buffer {
  const random = generator(12);
  const records: string[] = [];
  let size = 0;
  for (let id = 0; size < CORPUS_BYTES; id++) {
    const pick = () => WORDS[Math.floor(random() * WORDS.length)]!;
    const record = JSON.stringify({
      id,
      name: `${pick()}-${pick()}`,
      tags: [pick(), pick(), pick()],
      score: Math.round(random() * 1e6) / 1e3,
      active: random() < 0.5,
      text: Array.from({ length: 4 + Math.floor(random() * 20) }, pick).join(' '),
    });
    records.push(record);
    size += Buffer.byteLength(record) + 2;
  }
  return Buffer.from(`[${records.join(',\n')}]`);
}

function buildBinary(): Buffer {
  const random = generator(34);
  const out = Buffer.alloc(CORPUS_BYTES);
  for (let row = 0; row * 512 < CORPUS_BYTES; row++) {
    const kind = row % 7;
    for (let x = 0; x < 512 && row * 512 + x < CORPUS_BYTES; x++) {
      const gradient = (x + row * 3 + Math.floor(8 * Math.sin(x / 40 + row / 9))) & 0xff;
      out[row * 512 + x] =
        kind === 3
          ? Math.floor(random() * 256)
          : kind === 5
            ? row & 0xff
            : gradient ^ (random() < 0.05 ? 1 : 0);
    }
  }
  return out;
}

export const TEXT_CORPUS = buildText();
export const BINARY_CORPUS = buildBinary();

/** True when `at` is inside a UTF-8 sequence (a continuation byte), where a text slice must not end. */
function insideCharacter(bytes: Buffer, at: number): boolean {
  return at < bytes.length && (bytes[at]! & 0xc0) === 0x80;
}

/**
 * Consecutive slices of a corpus, wrapping around like Autobahn's. Text slices end on a character
 * boundary, so they are valid UTF-8 and a few bytes shorter than asked at most.
 */
export class CorpusCursor {
  readonly #corpus: Buffer;
  readonly #text: boolean;
  #at = 0;

  constructor(kind: 'text' | 'binary') {
    this.#text = kind === 'text';
    this.#corpus = this.#text ? TEXT_CORPUS : BINARY_CORPUS;
  }

  next(size: number): Buffer {
    if (this.#text)
      while (insideCharacter(this.#corpus, this.#at)) this.#at = (this.#at + 1) % this.#corpus.length;
    const parts: Buffer[] = [];
    let left = size;
    while (left > 0) {
      const piece = this.#corpus.subarray(this.#at, this.#at + left);
      parts.push(piece);
      left -= piece.length;
      this.#at = (this.#at + piece.length) % this.#corpus.length;
    }
    let slice = Buffer.concat(parts);
    if (this.#text && insideCharacter(this.#corpus, this.#at)) {
      // Cut inside a character: drop its bytes from the end (the next slice skips the rest).
      let end = slice.length;
      while (end > 0 && insideCharacter(slice, end - 1)) end--;
      slice = slice.subarray(0, Math.max(end - 1, 0));
    }
    return slice;
  }
}
