// The HTTP side of the opening handshake for the conformance suite: request heads that can be broken
// in any way, and a parser for the server's response head.
import { createHash, randomBytes } from 'node:crypto';

/** The sample key of RFC 6455 §1.3 and the accept value it must produce. */
export const RFC_SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const RFC_SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

export interface HandshakeOptions {
  method?: string;
  path?: string;
  /** The version in the request line: '1.1' by default. */
  httpVersion?: string;
  /** Sec-WebSocket-Key; a fresh random 16-byte key by default. */
  key?: string;
  /** Sec-WebSocket-Protocol, joined with ', '. */
  protocols?: string[];
  /**
   * Header lines by name as written on the wire. A default header (Host, Upgrade, Connection,
   * Sec-WebSocket-Key, Sec-WebSocket-Version) is replaced when the same name appears here in any
   * case, removed when the value is null, and repeated when the value is an array.
   */
  headers?: Record<string, string | string[] | null>;
}

/** The request head for `options` and the key it carries. */
export function handshakeRequest(options: HandshakeOptions = {}): { text: string; key: string } {
  const key = options.key ?? randomKey();
  const defaults: Record<string, string> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Version': '13',
  };
  if (options.protocols !== undefined) defaults['Sec-WebSocket-Protocol'] = options.protocols.join(', ');
  const overrides = options.headers ?? {};
  const overridden = new Set(Object.keys(overrides).map((name) => name.toLowerCase()));
  const lines = [`${options.method ?? 'GET'} ${options.path ?? '/'} HTTP/${options.httpVersion ?? '1.1'}`];
  for (const [name, value] of Object.entries(defaults)) {
    if (!overridden.has(name.toLowerCase())) lines.push(`${name}: ${value}`);
  }
  for (const [name, value] of Object.entries(overrides)) {
    if (value === null) continue;
    for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`);
  }
  return { text: `${lines.join('\r\n')}\r\n\r\n`, key };
}

export function randomKey(): string {
  return randomBytes(16).toString('base64');
}

export function acceptFor(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

export interface HttpResponse {
  httpVersion: string;
  statusCode: number;
  statusMessage: string;
  /** Lower-case names; a repeated header's values joined with ', '. */
  headers: Record<string, string>;
  /** [name, value] pairs as sent, in order. */
  rawHeaders: Array<[string, string]>;
}

export function parseResponseHead(head: string): HttpResponse {
  const [statusLine = '', ...lines] = head.split('\r\n');
  const match = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(statusLine);
  if (match === null) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`);
  const headers: Record<string, string> = {};
  const rawHeaders: Array<[string, string]> = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line ${JSON.stringify(line)}`);
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    rawHeaders.push([name, value]);
    const lower = name.toLowerCase();
    headers[lower] = lower in headers ? `${headers[lower]}, ${value}` : value;
  }
  return {
    httpVersion: match[1]!,
    statusCode: Number(match[2]),
    statusMessage: match[3] ?? '',
    headers,
    rawHeaders,
  };
}
