// The last lines before a position in a file, read backwards in bounded steps: never more than
// `maxBytes` of the file, whatever its size.
import { readSync } from 'node:fs';
import { LineSplitter } from './line-splitter.ts';

const STEP_BYTES = 64 * 1024;

export interface BacklogOptions {
  lines: number;
  maxBytes: number;
  maxLineBytes: number;
}

/**
 * The last `lines` complete lines of `fd` ending at `end` (which is just after a newline, or 0).
 * When `maxBytes` is reached first, the line cut by that window's start is left out.
 */
export function readBacklog(fd: number, end: number, options: BacklogOptions): string[] {
  const { lines, maxBytes, maxLineBytes } = options;
  if (lines === 0 || end === 0 || maxBytes === 0) return [];
  const floor = Math.max(0, end - maxBytes);
  const chunks: Buffer[] = [];
  let start = end;
  let newlines = 0;
  // One newline more than lines wanted proves the first wanted line starts inside the window.
  while (start > floor && newlines <= lines) {
    const size = Math.min(STEP_BYTES, start - floor);
    const chunk = Buffer.allocUnsafe(size);
    const got = readSync(fd, chunk, 0, size, start - size);
    if (got < size) return []; // the file shrank under us: the follower reports the truncation
    start -= size;
    chunks.unshift(chunk);
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) newlines++;
  }
  let data = Buffer.concat(chunks);
  if (start > 0) {
    const firstNewline = data.indexOf(10);
    data = firstNewline === -1 ? Buffer.alloc(0) : data.subarray(firstNewline + 1);
  }
  const result: string[] = [];
  new LineSplitter(maxLineBytes).push(data, result);
  return result.length > lines ? result.slice(result.length - lines) : result;
}

/**
 * Where the line containing the last byte before `size` starts: just after the last newline within
 * `maxBytes` before `size`, or `size` itself when there is none (a partial line longer than that is
 * skipped, not shown half).
 */
export function lastLineStart(fd: number, size: number, maxBytes: number): number {
  const floor = Math.max(0, size - maxBytes);
  let position = size;
  while (position > floor) {
    const length = Math.min(STEP_BYTES, position - floor);
    const chunk = Buffer.allocUnsafe(length);
    const got = readSync(fd, chunk, 0, length, position - length);
    const newline = chunk.subarray(0, got).lastIndexOf(10);
    if (newline !== -1) return position - length + newline + 1;
    position -= length;
  }
  return floor === 0 ? 0 : size;
}
