// The opening handshake (RFC 6455 §4): parsing a request or response head, the server's checks of
// an upgrade request, and the client's checks of the 101 answer. No I/O here.
import { STATUS_CODES } from 'node:http';
import { native } from '../native.ts';
import { WebSocketError } from './errors.ts';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// What a field value may not hold (RFC 7230 §3.2): control characters but HTAB. Node's HTTP parser,
// which ws relies on, refuses them (a NUL in a header would otherwise reach verifyClient).
const CONTROL_IN_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
// host [":" port] (RFC 7230 §5.4, RFC 3986 §3.2.2); a repeated Host arrives joined by ", " and fails.
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+;=]+)(:\d{1,5})?$/;
const KEY = /^[+/0-9A-Za-z]{21}[AQgw]==$/;
const NO_WHITESPACE = /^\S+$/;

/** A parsed HTTP/1.x head: the fields user code reads from Node's IncomingMessage. */
export interface HttpHead {
  /** Request: method, url. Response: statusCode, statusMessage. */
  startLine: [string, string, string];
  httpVersion: string;
  /** Lower-case names; repeated headers joined with ', ' (set-cookie kept apart is not needed here). */
  headers: Record<string, string>;
  rawHeaders: string[];
}

/** A handshake the server refuses: the HTTP status to answer with and why. */
export class HandshakeRejection extends WebSocketError {
  readonly status: number;
  readonly responseHeaders: Record<string, string>;
  constructor(status: number, message: string, code: string, responseHeaders: Record<string, string> = {}) {
    super(message, code);
    this.status = status;
    this.responseHeaders = responseHeaders;
  }
}

/** base64(SHA-1(key + the RFC 6455 GUID)), computed natively: a Hash object per handshake cost more. */
export function acceptKeyFor(key: string): string {
  return native.wsAcceptKey(key);
}

/**
 * Parses a head (everything before the blank line), or throws a 400 rejection. It walks the text
 * with indexOf and slices only the strings it keeps: a handshake's garbage is what grows V8's young
 * generation during a burst of connections, and splitting into lines, trimming and regular
 * expression matches were a third of it.
 */
export function parseHead(text: string, kind: 'request' | 'response'): HttpHead {
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = text.length;
  const startLine = text.slice(0, lineEnd);
  let parts: [string, string, string];
  let httpVersion: string;
  if (kind === 'request') {
    parts = requestLine(startLine);
    httpVersion = parts[2];
  } else {
    const match = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(startLine);
    if (match === null) {
      throw new WebSocketError(
        `the server's answer is not HTTP: ${JSON.stringify(startLine.slice(0, 80))}`,
        'WS_ERR_INVALID_HANDSHAKE',
      );
    }
    parts = [match[1]!, match[2]!, match[3] ?? ''];
    httpVersion = match[1]!;
  }
  const headers: Record<string, string> = Object.create(HEADERS_PROTOTYPE);
  const rawHeaders: string[] = [];
  for (let start = lineEnd + 2; start < text.length + 2; start = lineEnd + 2) {
    lineEnd = text.indexOf('\r\n', start);
    if (lineEnd < 0) lineEnd = text.length;
    const colon = text.indexOf(':', start);
    const name = colon > start && colon < lineEnd ? text.slice(start, colon) : '';
    const commonKey = COMMON_NAMES.get(name); // a name found there is a token already
    if (commonKey === undefined && !TOKEN.test(name)) {
      throw badRequest(
        `malformed header line ${JSON.stringify(text.slice(start, Math.min(lineEnd, start + 80)))}`,
      );
    }
    // Optional whitespace around the value is spaces and tabs only (RFC 7230 §3.2.3).
    let valueStart = colon + 1;
    let valueEnd = lineEnd;
    while (valueStart < valueEnd && isBlank(text.charCodeAt(valueStart))) valueStart++;
    while (valueEnd > valueStart && isBlank(text.charCodeAt(valueEnd - 1))) valueEnd--;
    const value = text.slice(valueStart, valueEnd);
    if (CONTROL_IN_VALUE.test(value)) {
      throw badRequest(`a control character in the value of header ${JSON.stringify(name)}`);
    }
    rawHeaders.push(name, value);
    const key = commonKey ?? name.toLowerCase();
    const earlier = headers[key];
    headers[key] = earlier === undefined ? value : `${earlier}, ${value}`;
  }
  return { startLine: parts, httpVersion, headers, rawHeaders };
}

/**
 * method SP request-target SP HTTP-version (RFC 7230 §3.1.1). A "GET " and an "HTTP/1.1" are the
 * strings already in this module rather than new ones.
 */
function requestLine(line: string): [string, string, string] {
  const firstSpace = line.indexOf(' ');
  const secondSpace = firstSpace < 0 ? -1 : line.indexOf(' ', firstSpace + 1);
  const versionAt = secondSpace + 1;
  if (
    secondSpace < 0 ||
    line.length !== versionAt + 8 ||
    !line.startsWith('HTTP/', versionAt) ||
    !isDigit(line.charCodeAt(versionAt + 5)) ||
    line.charCodeAt(versionAt + 6) !== 0x2e ||
    !isDigit(line.charCodeAt(versionAt + 7))
  ) {
    throw badRequest(`malformed request line ${JSON.stringify(line.slice(0, 80))}`);
  }
  const method = firstSpace === 3 && line.startsWith('GET') ? 'GET' : line.slice(0, firstSpace);
  const target = line.slice(firstSpace + 1, secondSpace);
  if (!TOKEN.test(method) || !NO_WHITESPACE.test(target)) {
    throw badRequest(`malformed request line ${JSON.stringify(line.slice(0, 80))}`);
  }
  const version = line.endsWith('1.1') ? '1.1' : line.slice(versionAt + 5);
  return [method, target, version];
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/**
 * The prototype of parsed headers: no Object.prototype behind them (a header named `constructor` or
 * `__proto__` is just a header), yet objects of their own shape with fast properties, where
 * Object.create(null) makes each one a hash table.
 */
const HEADERS_PROTOTYPE: object = Object.freeze(Object.create(null));

/** Optional whitespace in a header value or around a list's items: a space or a tab. */
function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * The lower-case key of header names as clients spell them, so the common ones cost no new string.
 * A name not here is lower-cased as usual.
 */
const COMMON_NAMES = new Map(
  [
    'Host',
    'Connection',
    'Upgrade',
    'Origin',
    'Pragma',
    'Cache-Control',
    'User-Agent',
    'Accept',
    'Accept-Encoding',
    'Accept-Language',
    'Cookie',
    'Authorization',
    'Sec-WebSocket-Version',
    'Sec-WebSocket-Key',
    'Sec-WebSocket-Extensions',
    'Sec-WebSocket-Protocol',
    'Sec-WebSocket-Accept',
  ].flatMap((name) => [
    [name, name.toLowerCase()],
    [name.toLowerCase(), name.toLowerCase()],
  ]) as [string, string][],
);

function badRequest(message: string, code = 'WS_ERR_INVALID_HANDSHAKE'): HandshakeRejection {
  return new HandshakeRejection(400, message, code);
}

/**
 * Whether the comma-separated list in a header holds `token` (given in lower case), compared
 * without case and without the list's whitespace, and without splitting the list into strings.
 */
function listHasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  let start = 0;
  while (start <= value.length) {
    let end = value.indexOf(',', start);
    if (end < 0) end = value.length;
    let first = start;
    let last = end;
    while (first < last && isBlank(value.charCodeAt(first))) first++;
    while (last > first && isBlank(value.charCodeAt(last - 1))) last--;
    if (last - first === token.length && sameIgnoringCase(value, first, token)) return true;
    start = end + 1;
  }
  return false;
}

/** Whether `value` from `at` starts with `lower` (lower-case ASCII), ignoring ASCII case. */
function sameIgnoringCase(value: string, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let code = value.charCodeAt(at + i);
    if (code >= 0x41 && code <= 0x5a) code += 0x20;
    if (code !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** True when the request asks for a WebSocket (whatever else is wrong with it). */
export function isWebSocketUpgrade(headers: Record<string, string | string[] | undefined>): boolean {
  const upgrade = headers.upgrade;
  return typeof upgrade === 'string' && listHasToken(upgrade, 'websocket');
}

export interface UpgradeRequestFields {
  method: string;
  url: string;
  httpVersion: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface AcceptedUpgrade {
  key: string;
  /** The subprotocols offered, in order; null when none was. */
  protocols: Set<string> | null;
}

/** A header of a request whose headers may come from Node's IncomingMessage (arrays for some). */
function headerOf(request: UpgradeRequestFields, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The server's checks (RFC 6455 §4.2.1); throws a HandshakeRejection naming the first failure. */
export function checkUpgradeRequest(
  request: UpgradeRequestFields,
  path: string | undefined,
): AcceptedUpgrade {
  if (request.method !== 'GET') throw badRequest(`the method must be GET, not ${request.method}`);
  if (request.httpVersion !== '1.1') {
    throw badRequest(`the request must be HTTP/1.1, not HTTP/${request.httpVersion}`);
  }
  if (path !== undefined) {
    const query = request.url.indexOf('?');
    const requestPath = query < 0 ? request.url : request.url.slice(0, query);
    if (requestPath !== path) throw badRequest(`no WebSocket is served at ${requestPath}`, 'WS_ERR_PATH');
  }
  const host = headerOf(request, 'host');
  if (host === undefined || !HOST.test(host)) {
    throw badRequest(
      host === undefined ? 'the Host header is missing' : 'the Host header is malformed or repeated',
    );
  }
  if (!listHasToken(headerOf(request, 'upgrade'), 'websocket')) {
    throw badRequest('the Upgrade header must name websocket');
  }
  if (!listHasToken(headerOf(request, 'connection'), 'upgrade')) {
    throw badRequest('the Connection header must include Upgrade');
  }
  const version = headerOf(request, 'sec-websocket-version');
  if (version === undefined || !/^\d+$/.test(version)) {
    throw badRequest('the Sec-WebSocket-Version header is missing or not a number');
  }
  if (version !== '13') {
    throw new HandshakeRejection(
      426,
      `WebSocket version ${version} is not supported; this server speaks version 13`,
      'WS_ERR_UNSUPPORTED_VERSION',
      { 'Sec-WebSocket-Version': '13' },
    );
  }
  const key = headerOf(request, 'sec-websocket-key');
  if (key === undefined || !KEY.test(key)) {
    throw badRequest('the Sec-WebSocket-Key header must be 16 bytes in base64');
  }
  const offered = headerOf(request, 'sec-websocket-protocol');
  if (offered === undefined) return { key, protocols: null };
  const protocols = new Set<string>();
  for (const protocol of offered.split(',').map((value) => value.trim())) {
    if (!TOKEN.test(protocol) || protocols.has(protocol)) {
      throw badRequest(`the Sec-WebSocket-Protocol header is invalid at ${JSON.stringify(protocol)}`);
    }
    protocols.add(protocol);
  }
  return { key, protocols };
}

/** A complete HTTP response head (and a short text body for errors). */
export function formatResponse(status: number, headerLines: string[], body = ''): string {
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}`, ...headerLines];
  if (status !== 101) {
    lines.push('Connection: close', 'Content-Type: text/plain; charset=utf-8');
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

export function rejectionResponse(rejection: HandshakeRejection): string {
  const extra = Object.entries(rejection.responseHeaders).map(([name, value]) => `${name}: ${value}`);
  return formatResponse(rejection.status, extra, `${rejection.message}\n`);
}

export function acceptHeaders(key: string, protocol: string | undefined): string[] {
  const lines = ['Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptKeyFor(key)}`];
  if (protocol !== undefined) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  return lines;
}

/** The client's checks of a 101 answer (RFC 6455 §4.1); returns the protocol the server chose. */
export function checkUpgradeResponse(head: HttpHead, key: string, offered: string[]): string {
  const fail = (message: string) => new WebSocketError(message, 'WS_ERR_INVALID_HANDSHAKE');
  if (!listHasToken(head.headers.upgrade, 'websocket')) throw fail('the Upgrade header must be websocket');
  if (!listHasToken(head.headers.connection, 'upgrade')) {
    throw fail('the Connection header must include Upgrade');
  }
  if (head.headers['sec-websocket-accept'] !== acceptKeyFor(key)) {
    throw fail('the Sec-WebSocket-Accept header does not match the key sent');
  }
  const protocol = head.headers['sec-websocket-protocol'];
  if (protocol !== undefined && !offered.includes(protocol)) {
    throw fail(`the server chose subprotocol ${JSON.stringify(protocol)}, which was not offered`);
  }
  // Its Sec-WebSocket-Extensions is checked against the offer by deflate/negotiation.ts.
  return protocol ?? '';
}
