// The scope's HTTP headers, as ASGI: `scope.headers` is an array of [name, value] pairs, names in
// lower case, both latin1 (byte) strings, in the order received, repeated headers kept as separate
// pairs. serve() builds it from the handshake request; middleware only reads it.

export type HeaderPair = readonly [name: string, value: string];

/** Every value of header `name` (lower case) in `scope.headers`; [] when the shape is wrong. */
export function headerValues(headers: unknown, name: string): string[] {
  if (!Array.isArray(headers)) return [];
  const values: string[] = [];
  for (const pair of headers as unknown[]) {
    if (!Array.isArray(pair) || pair.length < 2) continue;
    const [key, value] = pair as unknown[];
    if (typeof key === 'string' && typeof value === 'string' && key.toLowerCase() === name)
      values.push(value);
  }
  return values;
}
