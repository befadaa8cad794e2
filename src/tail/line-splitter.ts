// Bytes read from a file → complete lines. A last line without its newline is held until the
// newline comes; a line longer than the limit keeps only its first maxLineBytes (the rest is counted,
// not stored) and gets a visible marker, so one endless line cannot grow memory.
import { displayText, utf8CutPoint } from './display-text.ts';

export function cutMarker(droppedBytes: number): string {
  return ` [… line cut: ${droppedBytes} more bytes]`;
}

export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #held: Buffer[] = [];
  #heldBytes = 0;
  // Bytes of the current line seen so far, held or not.
  #pendingBytes = 0;

  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes;
  }

  /** Bytes since the last newline: the file offset of the current line's start is position - this. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Appends to `lines` the display text of every line `chunk` completes. */
  push(chunk: Buffer, lines: string[]): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(10, start);
      const end = newline === -1 ? chunk.length : newline;
      if (newline !== -1 && this.#pendingBytes === 0 && end - start <= this.#maxLineBytes) {
        lines.push(this.#text(chunk.subarray(start, end), 0)); // the common case: nothing held
      } else {
        this.#hold(chunk.subarray(start, end));
        if (newline !== -1) lines.push(this.#takeHeld());
      }
      if (newline === -1) return;
      start = newline + 1;
    }
  }

  /** The held partial line as a line (the file is being left), or undefined when nothing is held. */
  flush(): string | undefined {
    return this.#pendingBytes === 0 ? undefined : this.#takeHeld();
  }

  /** Forgets the held partial line. */
  reset(): void {
    this.#held.length = 0;
    this.#heldBytes = 0;
    this.#pendingBytes = 0;
  }

  #hold(part: Buffer): void {
    this.#pendingBytes += part.length;
    const room = this.#maxLineBytes + 4 - this.#heldBytes; // + 4: a character cut at the limit
    if (room <= 0 || part.length === 0) return;
    const kept = part.length <= room ? part : part.subarray(0, room);
    this.#held.push(Buffer.from(kept)); // a copy: the read buffer is reused
    this.#heldBytes += kept.length;
  }

  #takeHeld(): string {
    const bytes = Buffer.concat(this.#held, this.#heldBytes);
    const total = this.#pendingBytes;
    this.reset();
    return this.#text(bytes, total);
  }

  // `total` is the line's full length when only a prefix may be in `bytes` (0: `bytes` is all of it).
  #text(bytes: Buffer, total: number): string {
    const length = Math.max(total, bytes.length);
    let end = length;
    if (end > 0 && bytes[Math.min(end, bytes.length) - 1] === 13 && end <= bytes.length) end--; // CRLF
    if (end <= this.#maxLineBytes) return displayText(bytes.subarray(0, end));
    const cut = utf8CutPoint(bytes, this.#maxLineBytes);
    return displayText(bytes.subarray(0, cut)) + cutMarker(length - cut);
  }
}
