// The client's request: its URL and its header lines. Every header an option contributes (headers,
// origin, auth, credentials in the URL) is checked here, before connecting, so no option can add a
// line of its own; the handshake's own headers always win over the user's. Across redirects the
// headers follow ws: credentials and cookies are dropped when the host changes, unless a
// 'redirect' listener takes that decision itself.
import { WebSocketError, WebSocketSyntaxError, WebSocketTypeError } from './errors.ts';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// What Node's http client refuses in a header value: controls other than tab (CR, LF and NUL among
// them, which would end the line or the head early and let a value forge headers or a request).
const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;
/** Headers of the handshake itself: a user's value for them is replaced. */
const OWN = new Set([
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
]);

interface HeaderOptions {
  headers?: Record<string, string | number>;
  origin?: string;
  auth?: string;
}

/** The request a 'redirect' listener gets: the headers of the next request, changeable. */
export interface RedirectRequest {
  readonly method: 'GET';
  readonly host: string;
  readonly path: string;
  getHeader(name: string): string | undefined;
  setHeader(name: string, value: string | number): void;
  removeHeader(name: string): void;
  hasHeader(name: string): boolean;
  getHeaders(): Record<string, string>;
}

export function parseClientUrl(address: string | URL): URL {
  let url: URL;
  try {
    url = address instanceof URL ? new URL(address.href) : new URL(address);
  } catch {
    throw new WebSocketSyntaxError(`invalid URL: ${String(address)}`, 'WS_ERR_INVALID_URL');
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'wss:' || url.protocol === 'https:') {
    throw new WebSocketError(
      'wss:// needs TLS, which this release does not have yet',
      'WS_ERR_UNSUPPORTED_SCHEME',
    );
  }
  if (url.protocol !== 'ws:') {
    throw new WebSocketSyntaxError(`the URL scheme must be ws:, not ${url.protocol}`, 'WS_ERR_INVALID_URL');
  }
  if (url.hash !== '')
    throw new WebSocketSyntaxError('a WebSocket URL has no fragment', 'WS_ERR_INVALID_URL');
  return url;
}

function checked(name: string, value: unknown): string {
  if (!TOKEN.test(name)) {
    throw new WebSocketTypeError(
      `invalid header name ${JSON.stringify(name)}: it must be an HTTP token`,
      'WS_ERR_INVALID_HEADER',
    );
  }
  if ((typeof value !== 'string' && typeof value !== 'number') || INVALID_VALUE_CHAR.test(String(value))) {
    throw new WebSocketTypeError(
      `invalid value for header ${name}: a string without control characters (CR, LF, NUL…) is required`,
      'WS_ERR_INVALID_HEADER',
    );
  }
  return String(value);
}

function basic(credentials: string): string {
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

function urlCredentials(url: URL): string | undefined {
  if (url.username === '' && url.password === '') return undefined;
  return `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
}

export class RequestHeaders {
  /** Lower-case name → the name as given and its value. */
  readonly #entries = new Map<string, { name: string; value: string }>();

  static fromOptions(options: HeaderOptions, url: URL): RequestHeaders {
    const headers = new RequestHeaders();
    const given: unknown = options.headers ?? {};
    if (typeof given !== 'object' || given === null) {
      throw new WebSocketTypeError('the headers option must be an object', 'WS_ERR_INVALID_HEADER');
    }
    for (const [name, value] of Object.entries(given)) headers.set(name, value);
    if (options.origin !== undefined) headers.set('Origin', options.origin);
    // As Node's http.request: a user's Authorization header wins over auth; URL credentials over auth.
    const credentials = urlCredentials(url) ?? options.auth;
    if (credentials !== undefined && !headers.#entries.has('authorization')) {
      headers.set('Authorization', basic(String(credentials)));
    }
    return headers;
  }

  set(name: string, value: unknown): void {
    this.#entries.set(name.toLowerCase(), { name, value: checked(name, value) });
  }

  /** Before following a redirect from `from` to `to` (ws's rules, from curl). */
  forRedirect(from: URL, to: URL, listenerDecides: boolean): void {
    if (!listenerDecides && from.host !== to.host) {
      this.#entries.delete('authorization');
      this.#entries.delete('cookie');
      this.#entries.delete('host');
    }
    const credentials = urlCredentials(to);
    if (credentials !== undefined && !this.#entries.has('authorization'))
      this.set('Authorization', basic(credentials));
  }

  redirectRequest(url: URL): RedirectRequest {
    const entries = this.#entries;
    return {
      method: 'GET',
      host: url.host,
      path: `${url.pathname}${url.search}`,
      getHeader: (name) => entries.get(name.toLowerCase())?.value,
      setHeader: (name, value) => this.set(name, value),
      removeHeader: (name) => void entries.delete(name.toLowerCase()),
      hasHeader: (name) => entries.has(name.toLowerCase()),
      getHeaders: () => Object.fromEntries([...entries].map(([key, { value }]) => [key, value])),
    };
  }

  /** The whole request head for `url`. */
  /** `extensions`: the permessage-deflate offer, which replaces a user's Sec-WebSocket-Extensions. */
  requestHead(url: URL, key: string, protocols: string[], extensions?: string): string {
    const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`];
    if (!this.#entries.has('host')) lines.push(`Host: ${url.host}`);
    for (const [lower, { name, value }] of this.#entries) {
      if (OWN.has(lower) || (extensions !== undefined && lower === 'sec-websocket-extensions')) continue;
      lines.push(`${name}: ${value}`);
    }
    lines.push(
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${key}`,
      'Sec-WebSocket-Version: 13',
    );
    if (protocols.length > 0) lines.push(`Sec-WebSocket-Protocol: ${protocols.join(', ')}`);
    if (extensions !== undefined) lines.push(`Sec-WebSocket-Extensions: ${extensions}`);
    return `${lines.join('\r\n')}\r\n\r\n`;
  }
}
