// JSON.parse with a syntax error located as "line L, column C" (Node 20 gives a character offset for
// some errors and none for others), for the config and users files that people edit by hand. The
// reason never quotes the file's content: it could be part of a secret typed into the file.
export interface JsonIssue {
  /** Where: 'line 3, column 7' or a dotted key path. */
  readonly where: string;
  readonly message: string;
}

export type JsonParseResult = { ok: true; value: unknown } | { ok: false; issue: JsonIssue };

export function parseJsonText(text: string): JsonParseResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const offset = errorOffset(text);
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    return {
      ok: false,
      issue: {
        where: `line ${line}, column ${column}`,
        message: `invalid JSON (${reason((error as Error).message)})`,
      },
    };
  }
}

/**
 * Where parsing first goes wrong: the shortest prefix of `text` that fails for a reason other than
 * ending early, less one. Failing that way is monotonic in the prefix length, so a binary search finds it.
 */
function errorOffset(text: string): number {
  let low = 1;
  let high = text.length;
  if (!failsBeforeEnd(text)) return text.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (failsBeforeEnd(text.slice(0, middle))) high = middle;
    else low = middle + 1;
  }
  return low - 1;
}

function failsBeforeEnd(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return false;
  } catch (error) {
    const message = (error as Error).message;
    if (/end of JSON input|Unterminated/.test(message)) return false;
    const position = /at position (\d+)/.exec(message);
    return position === null || Number(position[1]) < prefix.length;
  }
}

function reason(message: string): string {
  if (/^Unexpected token/.test(message)) return 'unexpected character';
  if (/end of JSON input/.test(message)) return 'the file ends too early';
  const stripped = message.replace(/\s*(in JSON )?at position \d+.*$/s, '');
  return /["']/.test(stripped) && !/^Expected/.test(stripped) ? 'syntax error' : stripped;
}
