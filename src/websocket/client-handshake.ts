// The client's opening handshake: connect, send the upgrade request, read and check the answer,
// then hand the socket to the WebSocket. Every failure ends in exactly one `failed` call.
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { BEV, EV } from '../constants.ts';
import { Bufferevent } from '../bufferevent.ts';
import { BuffereventError } from '../errors.ts';
import { WebSocketError } from './errors.ts';
import { checkUpgradeResponse, parseHead } from './handshake.ts';
import { SOCKET_FAST_PATHS, type ConnectionLimits, type ResolvedLimits } from './options.ts';

export interface ClientOptions extends ConnectionLimits {
  /** Extra request headers: token names, values without control characters (CR, LF, NUL…). */
  headers?: Record<string, string>;
  /** The Origin header. */
  origin?: string;
  /** Accepted for ws compatibility; must be false or absent. */
  perMessageDeflate?: boolean;
}

/** The server's answer, as 'upgrade' and 'unexpected-response' listeners receive it. */
export interface UpgradeResponse {
  statusCode: number;
  statusMessage: string;
  httpVersion: string;
  headers: Record<string, string>;
  rawHeaders: string[];
  /** The body bytes that arrived with the head (non-101 answers). */
  body: Buffer;
}

interface ClientCallbacks {
  upgraded(bufferevent: Bufferevent, protocol: string, response: UpgradeResponse): void;
  failed(error: WebSocketError, response: UpgradeResponse | null): void;
}

const HEAD_END = '\r\n\r\n';
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// What Node's http client refuses in a header value: controls other than tab (CR, LF and NUL among
// them, which would end the line or the head early and let a value forge headers or a request).
const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

export function connectClient(
  address: string | URL,
  protocols: string[],
  options: ClientOptions,
  limits: ResolvedLimits,
  callbacks: ClientCallbacks,
): { url: string; abort: () => void } {
  const url = parseUrl(address);
  if (options.perMessageDeflate) {
    throw new WebSocketError(
      'perMessageDeflate is not supported yet; pass false',
      'WS_ERR_UNSUPPORTED_OPTION',
    );
  }
  const extraHeaderLines = headerLines(options);
  for (const protocol of protocols) {
    if (
      !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(protocol) ||
      protocols.indexOf(protocol) !== protocols.lastIndexOf(protocol)
    ) {
      throw new WebSocketError(
        `invalid or repeated subprotocol ${JSON.stringify(protocol)}`,
        'WS_ERR_INVALID_PROTOCOL',
      );
    }
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port === '' ? 80 : Number(url.port);
  const key = randomBytes(16).toString('base64');
  const bufferevent = Bufferevent.socket(SOCKET_FAST_PATHS);
  let done = false;
  const finish = (error: WebSocketError | null, response: UpgradeResponse | null, protocol = '') => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (error === null) {
      bufferevent.setCallbacks({});
      callbacks.upgraded(bufferevent, protocol, response!);
    } else {
      bufferevent.free();
      callbacks.failed(error, response);
    }
  };
  const timer = setTimeout(
    () =>
      finish(
        new WebSocketError(
          `the opening handshake took longer than ${limits.handshakeTimeout} ms`,
          'WS_ERR_HANDSHAKE_TIMEOUT',
        ),
        null,
      ),
    limits.handshakeTimeout,
  );

  const sendRequest = () => {
    const lines = [
      `GET ${url.pathname}${url.search} HTTP/1.1`,
      `Host: ${url.host}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${key}`,
      'Sec-WebSocket-Version: 13',
    ];
    if (protocols.length > 0) lines.push(`Sec-WebSocket-Protocol: ${protocols.join(', ')}`);
    lines.push(...extraHeaderLines);
    bufferevent.write(`${lines.join('\r\n')}${HEAD_END}`);
  };

  const readResponse = () => {
    const input = bufferevent.input;
    const end = input.search(HEAD_END);
    if (end < 0) {
      if (input.length > limits.maxHeaderSize) {
        finish(
          new WebSocketError(
            `the server's answer head exceeds ${limits.maxHeaderSize} bytes`,
            'WS_ERR_HEADER_TOO_LARGE',
          ),
          null,
        );
      }
      return;
    }
    let response: UpgradeResponse;
    try {
      const head = parseHead(
        input
          .remove(end + HEAD_END.length)
          .toString('latin1')
          .slice(0, end),
        'response',
      );
      response = {
        statusCode: Number(head.startLine[1]),
        statusMessage: head.startLine[2],
        httpVersion: head.httpVersion,
        headers: head.headers,
        rawHeaders: head.rawHeaders,
        body: Buffer.alloc(0),
      };
      if (response.statusCode !== 101) {
        response.body = input.remove();
        finish(
          new WebSocketError(
            `unexpected server response: ${response.statusCode}`,
            'WS_ERR_UNEXPECTED_RESPONSE',
          ),
          response,
        );
        return;
      }
      finish(null, response, checkUpgradeResponse(head, key, protocols));
    } catch (error) {
      finish(error as WebSocketError, null);
    }
  };

  bufferevent.setCallbacks({
    read: readResponse,
    event: (_bev, events, error) => {
      if (events & BEV.CONNECTED) {
        sendRequest();
        return;
      }
      const cause =
        error instanceof BuffereventError ? ` (${error.systemCode ?? error.code}: ${error.message})` : '';
      const failure = new WebSocketError(
        events & BEV.EOF
          ? 'the server closed the connection during the opening handshake'
          : `cannot connect to ${url.host}${cause}`,
        events & BEV.EOF ? 'WS_ERR_INVALID_HANDSHAKE' : 'WS_ERR_CONNECT',
      );
      if (error instanceof BuffereventError && error.errno !== undefined) failure.errno = error.errno;
      finish(failure, null);
    },
  });
  bufferevent.enable(EV.READ | EV.WRITE);
  const literal = host === 'localhost' ? '127.0.0.1' : host;
  if (isIP(literal) !== 0) bufferevent.connect({ host: literal, port });
  else bufferevent.connectHostname(host, port);
  return {
    url: url.href,
    // The WebSocket reports the abort itself, once: end quietly.
    abort: () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      bufferevent.free();
    },
  };
}

/** The Origin and `headers` lines, checked so that no option can add a line of its own. */
function headerLines(options: ClientOptions): string[] {
  const lines: string[] = [];
  const add = (name: string, value: unknown) => {
    if (!TOKEN.test(name)) {
      throw new WebSocketError(
        `invalid header name ${JSON.stringify(name)}: it must be an HTTP token`,
        'WS_ERR_INVALID_HEADER',
      );
    }
    if ((typeof value !== 'string' && typeof value !== 'number') || INVALID_VALUE_CHAR.test(String(value))) {
      throw new WebSocketError(
        `invalid value for header ${name}: a string without control characters (CR, LF, NUL…) is required`,
        'WS_ERR_INVALID_HEADER',
      );
    }
    lines.push(`${name}: ${String(value)}`);
  };
  if (options.origin !== undefined) add('Origin', options.origin);
  const headers: unknown = options.headers ?? {};
  if (typeof headers !== 'object' || headers === null) {
    throw new WebSocketError('the headers option must be an object', 'WS_ERR_INVALID_HEADER');
  }
  for (const [name, value] of Object.entries(headers)) add(name, value);
  return lines;
}

function parseUrl(address: string | URL): URL {
  let url: URL;
  try {
    url = address instanceof URL ? new URL(address.href) : new URL(address);
  } catch {
    throw new WebSocketError(`invalid URL: ${String(address)}`, 'WS_ERR_INVALID_URL');
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'wss:' || url.protocol === 'https:') {
    throw new WebSocketError(
      'wss:// needs TLS, which this release does not have yet',
      'WS_ERR_UNSUPPORTED_SCHEME',
    );
  }
  if (url.protocol !== 'ws:') {
    throw new WebSocketError(`the URL scheme must be ws:, not ${url.protocol}`, 'WS_ERR_INVALID_URL');
  }
  if (url.hash !== '') throw new WebSocketError('a WebSocket URL has no fragment', 'WS_ERR_INVALID_URL');
  return url;
}
