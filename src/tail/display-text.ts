// Bytes of a log line → text that is always a valid string and safe to show: invalid UTF-8 becomes
// U+FFFD, control characters become visible symbols, except tab and ANSI colour (SGR) sequences,
// which the page renders. HTML escaping is the page's job.

// ignoreBOM: a U+FEFF at a line's start is kept as text, not silently eaten.
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

// An SGR sequence (ESC [ params m) is kept whole; any other C0 control but tab, DEL and the C1
// controls are replaced. Bounded parameter length, so a long run of digits is not a "colour".
const UNSAFE = /\x1b\[[0-9;]{0,32}m|[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

function visible(match: string): string {
  if (match.length > 1) return match; // an SGR colour sequence
  const code = match.charCodeAt(0);
  if (code < 0x20) return String.fromCharCode(0x2400 + code); // ␀ … ␟ (ESC becomes ␛)
  if (code === 0x7f) return '\u2421'; // ␡
  return '\ufffd'; // C1 controls
}

export function displayText(bytes: Uint8Array): string {
  const text = decoder.decode(bytes);
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(text) ? text.replace(UNSAFE, visible) : text;
}

/**
 * The length of `bytes[0, limit)` without a UTF-8 sequence cut in half at its end, so a long line is
 * cut between characters rather than into a replacement character.
 */
export function utf8CutPoint(bytes: Uint8Array, limit: number): number {
  if (limit >= bytes.length) return bytes.length;
  let start = limit;
  // Step back over continuation bytes (at most 3) to the lead byte of the last character.
  while (start > 0 && limit - start < 4 && (bytes[start - 1]! & 0xc0) === 0x80) start--;
  if (start === 0) return limit;
  const lead = bytes[start - 1]!;
  const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return start - 1 + size > limit ? start - 1 : limit;
}
