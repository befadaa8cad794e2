// The pieces config.ts validates with: every problem is collected as a ConfigIssue naming the key's
// dotted path (`logs.1.path`), so one run of the server reports all mistakes of a config file at once.
import type { ConfigIssue } from './errors.ts';

export class IssueList {
  readonly issues: ConfigIssue[] = [];

  add(keyPath: string, message: string): void {
    this.issues.push({ keyPath, message });
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function joinPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/** A short, safe rendering of a bad value for a message ("got 70000", "got a list"). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string')
    return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  return String(value);
}

/**
 * Reports every key of `object` not in `known` as unknown, suggesting the closest known key when the
 * difference looks like a typo (a different case, or an edit distance of at most a third of its length).
 */
export function refuseUnknownKeys(
  issues: IssueList,
  object: Record<string, unknown>,
  known: readonly string[],
  parent: string,
): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const suggestion = closestKey(key, known);
    issues.add(
      joinPath(parent, key),
      suggestion === undefined
        ? `unknown key (known: ${known.join(', ')})`
        : `unknown key: did you mean "${suggestion}"?`,
    );
  }
}

export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance =
      candidate.toLowerCase() === key.toLowerCase()
        ? 0
        : editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.floor(Math.max(key.length, 3) / 3));
  return bestDistance <= allowed ? best : undefined;
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const columns = b.length + 1;
  const table: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: columns }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < columns; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(table[i - 1]![j]! + 1, table[i]![j - 1]! + 1, table[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, table[i - 2]![j - 2]! + 1);
      table[i]![j] = value;
    }
  }
  return table[a.length]![b.length]!;
}

/** An integer in [min, max], or undefined after reporting why not. */
export function integerIn(
  issues: IssueList,
  value: unknown,
  keyPath: string,
  min: number,
  max: number,
): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  issues.add(keyPath, `expected an integer from ${min} to ${max}, got ${describeValue(value)}`);
  return undefined;
}

export function nonEmptyString(issues: IssueList, value: unknown, keyPath: string): string | undefined {
  if (typeof value === 'string' && value !== '' && !value.includes('\0')) return value;
  issues.add(keyPath, `expected a non-empty string, got ${describeValue(value)}`);
  return undefined;
}

/** Reads the value as a string without ever quoting it (for secrets). */
export function secretString(
  issues: IssueList,
  value: unknown,
  keyPath: string,
  minLength: number,
): string | undefined {
  if (typeof value !== 'string') {
    issues.add(keyPath, 'expected a string');
    return undefined;
  }
  if (value.length < minLength) {
    issues.add(
      keyPath,
      `expected at least ${minLength} characters, got ${value.length} (e.g. openssl rand -base64 48)`,
    );
    return undefined;
  }
  return value;
}
