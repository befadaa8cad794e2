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

/** Parses a head (everything before the blank line), or throws a 400 rejection. */
export function parseHead(text: string, kind: 'request' | 'response'): HttpHead {
  const lines = text.split('\r\n');
  const startLine = lines[0] ?? '';
  let parts: [string, string, string];
  let httpVersion: string;
  if (kind === 'request') {
    const match = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP\/(\d\.\d)$/.exec(startLine);
    if (match === null) throw badRequest(`malformed request line ${JSON.stringify(startLine.slice(0, 80))}`);
    parts = [match[1]!, match[2]!, match[3]!];
    httpVersion = match[3]!;
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
  const headers: Record<string, string> = Object.create(null);
  const rawHeaders: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) throw badRequest(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
    const value = line.slice(colon + 1).trim();
    if (CONTROL_IN_VALUE.test(value)) {
      throw badRequest(`a control character in the value of header ${JSON.stringify(name)}`);
    }
    rawHeaders.push(name, value);
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  return { startLine: parts, httpVersion, headers, rawHeaders };
}

function badRequest(message: string, code = 'WS_ERR_INVALID_HANDSHAKE'): HandshakeRejection {
  return new HandshakeRejection(400, message, code);
}

/** The comma-separated tokens of a header, lower-cased. */
function tokens(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token !== '');
}

/** True when the request asks for a WebSocket (whatever else is wrong with it). */
export function isWebSocketUpgrade(headers: Record<string, string | string[] | undefined>): boolean {
  const upgrade = headers.upgrade;
  return typeof upgrade === 'string' && tokens(upgrade).includes('websocket');
}

export interface UpgradeRequestFields {
  method: string;
  url: string;
  httpVersion: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface AcceptedUpgrade {
  key: string;
  protocols: Set<string>;
}

/** The server's checks (RFC 6455 §4.2.1); throws a HandshakeRejection naming the first failure. */
export function checkUpgradeRequest(
  request: UpgradeRequestFields,
  path: string | undefined,
): AcceptedUpgrade {
  const header = (name: string): string | undefined => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  if (request.method !== 'GET') throw badRequest(`the method must be GET, not ${request.method}`);
  if (request.httpVersion !== '1.1') {
    throw badRequest(`the request must be HTTP/1.1, not HTTP/${request.httpVersion}`);
  }
  if (path !== undefined) {
    const requestPath = request.url.split('?')[0];
    if (requestPath !== path) throw badRequest(`no WebSocket is served at ${requestPath}`, 'WS_ERR_PATH');
  }
  const host = header('host');
  if (host === undefined || !HOST.test(host)) {
    throw badRequest(
      host === undefined ? 'the Host header is missing' : 'the Host header is malformed or repeated',
    );
  }
  if (!tokens(header('upgrade')).includes('websocket')) {
    throw badRequest('the Upgrade header must name websocket');
  }
  if (!tokens(header('connection')).includes('upgrade')) {
    throw badRequest('the Connection header must include Upgrade');
  }
  const version = header('sec-websocket-version');
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
  const key = header('sec-websocket-key');
  if (key === undefined || !KEY.test(key)) {
    throw badRequest('the Sec-WebSocket-Key header must be 16 bytes in base64');
  }
  const protocols = new Set<string>();
  const offered = header('sec-websocket-protocol');
  if (offered !== undefined) {
    for (const protocol of offered.split(',').map((value) => value.trim())) {
      if (!TOKEN.test(protocol) || protocols.has(protocol)) {
        throw badRequest(`the Sec-WebSocket-Protocol header is invalid at ${JSON.stringify(protocol)}`);
      }
      protocols.add(protocol);
    }
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
  if (!tokens(head.headers.upgrade).includes('websocket')) throw fail('the Upgrade header must be websocket');
  if (!tokens(head.headers.connection).includes('upgrade')) {
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
