// EvBuffer: libevent's evbuffer. Owned (new EvBuffer()) or a bufferevent's input/output, which
// becomes unusable (ERR_FREED) when its bufferevent is freed.
import { native, type NativeEvBuffer } from './native.ts';
import { EOL, type EolStyle } from './constants.ts';
import { requireFd, requireInteger, toBuffer, type BinaryLike } from './validate.ts';
import { BuffereventError } from './errors.ts';
import { evbufferHandles } from './native-handles.ts';

const MAX_COUNT = Number.MAX_SAFE_INTEGER;

function optionalCount(count: number | undefined): number | undefined {
  return count === undefined ? undefined : requireInteger(count, 'count', 0, MAX_COUNT);
}

// Set only while evbufferView() runs the constructor, so a view needs no constructor parameter.
let viewBeingWrapped: NativeEvBuffer | null = null;

/** The EvBuffer for a bufferevent's input, output or filter buffer (package-internal). */
export function evbufferView(view: NativeEvBuffer): EvBuffer {
  viewBeingWrapped = view;
  try {
    return new EvBuffer();
  } finally {
    viewBeingWrapped = null;
  }
}

export class EvBuffer {
  readonly #native: NativeEvBuffer;

  /** A new, empty, owned evbuffer (evbuffer_new). */
  constructor();
  constructor(...unexpected: unknown[]) {
    if (unexpected.length > 0) {
      throw new BuffereventError(
        'new EvBuffer() takes no arguments; to copy one, use target.add(source.copyOut())',
        'ERR_INVALID_ARG',
      );
    }
    this.#native = viewBeingWrapped ?? new native.EvBuffer();
    viewBeingWrapped = null;
    evbufferHandles.register(this, this.#native);
  }

  get length(): number {
    return this.#native.length;
  }

  /** Appends data. Buffers of 16 KiB or more are added by reference: do not modify them afterwards. */
  add(data: BinaryLike): this {
    this.#native.add(toBuffer(data));
    return this;
  }

  /** Moves all data from `source` to the end of this buffer (evbuffer_add_buffer); `source` ends empty. */
  addBuffer(source: EvBuffer): this {
    this.#native.addBuffer(evbufferHandles.of(source, 'source'));
    return this;
  }

  prepend(data: BinaryLike): this {
    this.#native.prepend(toBuffer(data));
    return this;
  }

  /** Removes and returns up to `count` bytes (all when omitted). */
  remove(count?: number): Buffer {
    return this.#native.remove(optionalCount(count));
  }

  /** Discards up to `count` bytes (all when omitted); returns how many were discarded. */
  drain(count?: number): number {
    return this.#native.drain(optionalCount(count));
  }

  /** Copies up to `count` bytes from the front without removing them. */
  copyOut(count?: number): Buffer {
    return this.#native.copyOut(optionalCount(count));
  }

  /** Makes the first `count` bytes contiguous inside libevent and returns a copy of them. */
  pullup(count?: number): Buffer {
    return this.#native.pullup(optionalCount(count));
  }

  /** Position of the first occurrence of `needle` at or after `start`, or -1. */
  search(needle: BinaryLike, start = 0): number {
    const bytes = toBuffer(needle, 'needle');
    if (bytes.length === 0) throw new BuffereventError('needle must not be empty', 'ERR_INVALID_ARG');
    return this.#native.search(bytes, requireInteger(start, 'start', 0, MAX_COUNT));
  }

  /** Removes one line (without its terminator) and returns it as UTF-8, or null if no full line is buffered. */
  readLine(eol: EolStyle = EOL.CRLF): string | null {
    requireInteger(eol, 'eol', EOL.ANY, EOL.NUL);
    return this.#native.readLine(eol)?.toString('utf8') ?? null;
  }

  /** Like readLine, but returns the raw bytes. */
  readLineBytes(eol: EolStyle = EOL.CRLF): Buffer | null {
    requireInteger(eol, 'eol', EOL.ANY, EOL.NUL);
    return this.#native.readLine(eol);
  }

  /** Appends `length` bytes of the file at `offset` (evbuffer_add_file). Takes ownership of `fd` and closes it. */
  addFile(fd: number, offset: number, length: number): this {
    this.#native.addFile(
      requireFd(fd),
      requireInteger(offset, 'offset', 0, MAX_COUNT),
      requireInteger(length, 'length', 0, MAX_COUNT),
    );
    return this;
  }

  /** Writes up to `most` bytes to a non-blocking fd; returns bytes written (0 if it would block). */
  writeTo(fd: number, most?: number): number {
    return this.#native.writeTo(requireFd(fd), optionalCount(most));
  }

  /** Reads up to `most` bytes from a non-blocking fd; returns bytes read, 0 at end of file, -1 if it would block. */
  readFrom(fd: number, most?: number): number {
    return this.#native.readFrom(
      requireFd(fd),
      most === undefined ? undefined : requireInteger(most, 'most', 1, 0x7fffffff),
    );
  }

  toString(encoding: BufferEncoding = 'utf8'): string {
    return this.#native.copyOut().toString(encoding);
  }

  /** Frees an owned buffer (a bufferevent's buffers are freed with it). Idempotent. */
  free(): void {
    this.#native.free();
  }

  [Symbol.dispose](): void {
    this.free();
  }
}
