// The client's opening handshake: resolve, connect, send the upgrade request, read and check the
// answer (following redirects when asked), then hand the socket to the WebSocket. Every failure
// ends in exactly one `failed` call; the WebSocket's own listeners never run inside a try here, so
// an exception they throw reaches the process instead of being mistaken for a handshake failure.
import { randomBytes } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { constants } from 'node:os';
import { BEV, EV } from '../constants.ts';
import { Bufferevent } from '../bufferevent.ts';
import { BuffereventError } from '../errors.ts';
import {
  WebSocketError,
  WebSocketRangeError,
  WebSocketSyntaxError,
  WebSocketTypeError,
  systemError,
} from './errors.ts';
import { checkUpgradeResponse, parseHead } from './handshake.ts';
import { codecSettings, type CodecSettings } from './deflate/agreement.ts';
import { acceptServerResponse, formatOffer } from './deflate/negotiation.ts';
import { resolveDeflateOptions, type PerMessageDeflateOptions } from './deflate/options.ts';
import { SOCKET_FAST_PATHS, type ConnectionLimits, type ResolvedLimits } from './options.ts';
import { RequestHeaders, parseClientUrl, type RedirectRequest } from './request-headers.ts';

export type LookupFunction = (
  hostname: string,
  options: { family?: number; all: true },
  callback: (
    error: NodeJS.ErrnoException | null,
    addresses: LookupAddress[] | string,
    family?: number,
  ) => void,
) => void;

export interface ClientOptions extends ConnectionLimits {
  /** Extra request headers: token names, values without control characters (CR, LF, NUL…). */
  headers?: Record<string, string | number>;
  /** The Origin header. */
  origin?: string;
  /** `user:password` for HTTP Basic authentication (credentials in the URL do the same). */
  auth?: string;
  /** Only 13 (the default): ws's 8 is refused with a RangeError. */
  protocolVersion?: number;
  /** Follow 3xx answers with a Location header (default false), at most maxRedirects (10) times. */
  followRedirects?: boolean;
  maxRedirects?: number;
  /** Resolve names with this function instead of dns.lookup (Node's signature). */
  lookup?: LookupFunction;
  /** 4 or 6: only addresses of this family (0: any, the default). */
  family?: number;
  /** A numeric IP address of this machine the connection is made from (bound before connecting). */
  localAddress?: string;
  /** Not supported: connections are made by libevent, not by an http.Agent; a truthy value throws. */
  agent?: unknown;
  /** permessage-deflate (RFC 7692): offered when set (true for the defaults); off by default. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
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
  upgraded(
    bufferevent: Bufferevent,
    protocol: string,
    response: UpgradeResponse,
    deflate: CodecSettings | null,
  ): void;
  failed(error: Error, response: UpgradeResponse | null): void;
  /** A redirect is about to be followed; false when the WebSocket was closed meanwhile. */
  redirect(url: string, request: RedirectRequest): boolean;
  /** A 'redirect' listener decides which headers follow a redirect to another host. */
  listensForRedirect(): boolean;
}

const HEAD_END = '\r\n\r\n';
const SUBPROTOCOL = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

type Outcome =
  | { kind: 'upgraded'; response: UpgradeResponse; protocol: string; deflate: CodecSettings | null }
  | { kind: 'failed'; error: Error; response: UpgradeResponse | null }
  | { kind: 'redirect'; location: string; response: UpgradeResponse };

/** A failed TCP connect as Node reports it: `connect ECONNREFUSED 127.0.0.1:8080`. */
function connectError(error: Error | undefined, address: string, port: number): WebSocketError {
  const errno = error instanceof BuffereventError ? error.errno : undefined;
  const code = error instanceof BuffereventError ? (error.systemCode ?? error.code) : 'ERR_SOCKET';
  return systemError('connect', code, errno, { address, port });
}

export function connectClient(
  address: string | URL,
  protocols: string[],
  options: ClientOptions,
  limits: ResolvedLimits,
  callbacks: ClientCallbacks,
): { url: string; abort: () => void } {
  const protocolVersion = options.protocolVersion ?? 13;
  if (protocolVersion !== 13) {
    throw new WebSocketRangeError(
      `unsupported protocol version ${String(protocolVersion)}: only 13 (RFC 6455) is spoken`,
      'WS_ERR_UNSUPPORTED_VERSION',
    );
  }
  const deflate = resolveDeflateOptions(options.perMessageDeflate, 'client');
  const offer = deflate === null ? undefined : formatOffer(deflate);
  if (options.agent) {
    throw new WebSocketError(
      'the agent option is not supported: connections are made by libevent, not by an http.Agent (a proxy agent would be bypassed)',
      'WS_ERR_UNSUPPORTED_OPTION',
    );
  }
  const { localAddress } = options;
  if (localAddress !== undefined && (typeof localAddress !== 'string' || isIP(localAddress) === 0)) {
    throw new WebSocketTypeError(
      `localAddress must be a numeric IP address, got ${JSON.stringify(localAddress)}`,
      'WS_ERR_INVALID_OPTION',
    );
  }
  const family = options.family ?? 0;
  const lookup = options.lookup ?? (dnsLookup as unknown as LookupFunction);
  const maxRedirects = options.followRedirects ? (options.maxRedirects ?? 10) : 0;
  let url = parseClientUrl(address);
  const headers = RequestHeaders.fromOptions(options, url);
  for (const protocol of protocols) {
    if (
      typeof protocol !== 'string' ||
      !SUBPROTOCOL.test(protocol) ||
      protocols.indexOf(protocol) !== protocols.lastIndexOf(protocol)
    ) {
      throw new WebSocketSyntaxError(
        `invalid or repeated subprotocol ${JSON.stringify(protocol)}`,
        'WS_ERR_INVALID_PROTOCOL',
      );
    }
  }

  let done = false;
  let redirects = 0;
  let bufferevent: Bufferevent | null = null;
  const release = () => {
    bufferevent?.free();
    bufferevent = null;
  };
  const timer = setTimeout(
    () =>
      settle({
        kind: 'failed',
        error: new WebSocketError(
          `the opening handshake took longer than ${limits.handshakeTimeout} ms`,
          'WS_ERR_HANDSHAKE_TIMEOUT',
        ),
        response: null,
      }),
    limits.handshakeTimeout,
  );

  // Runs outside any try: the callbacks emit the user's events.
  const settle = (outcome: Outcome) => {
    if (done) return;
    if (outcome.kind === 'redirect') {
      release();
      if (++redirects > maxRedirects) {
        settle({
          kind: 'failed',
          error: new WebSocketError(`maximum redirects (${maxRedirects}) exceeded`, 'WS_ERR_MAX_REDIRECTS'),
          response: outcome.response,
        });
        return;
      }
      let next: URL;
      try {
        next = parseClientUrl(new URL(outcome.location, url));
      } catch (error) {
        settle({ kind: 'failed', error: error as Error, response: outcome.response });
        return;
      }
      headers.forRedirect(url, next, callbacks.listensForRedirect());
      url = next;
      // The 'redirect' listener may throw: the redirect is still followed, then the error rethrown.
      let proceed = true;
      let thrown: { error: unknown } | null = null;
      try {
        proceed = callbacks.redirect(url.href, headers.redirectRequest(url));
      } catch (error) {
        thrown = { error };
      }
      if (proceed && !done) attempt();
      if (thrown !== null) throw thrown.error;
      return;
    }
    done = true;
    clearTimeout(timer);
    if (outcome.kind === 'upgraded') {
      const upgraded = bufferevent!;
      bufferevent = null;
      upgraded.setCallbacks({});
      callbacks.upgraded(upgraded, outcome.protocol, outcome.response, outcome.deflate);
    } else {
      release();
      callbacks.failed(outcome.error, outcome.response);
    }
  };

  const attempt = () => {
    const key = randomBytes(16).toString('base64');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port === '' ? 80 : Number(url.port);
    const target = url;
    const readResponse = (input: Bufferevent['input']): Outcome | null => {
      const end = input.search(HEAD_END);
      if (end < 0) {
        if (input.length <= limits.maxHeaderSize) return null;
        return {
          kind: 'failed',
          error: new WebSocketError(
            `the server's answer head exceeds ${limits.maxHeaderSize} bytes`,
            'WS_ERR_HEADER_TOO_LARGE',
          ),
          response: null,
        };
      }
      try {
        const text = input
          .remove(end + HEAD_END.length)
          .toString('latin1')
          .slice(0, end);
        const head = parseHead(text, 'response');
        const response: UpgradeResponse = {
          statusCode: Number(head.startLine[1]),
          statusMessage: head.startLine[2],
          httpVersion: head.httpVersion,
          headers: head.headers,
          rawHeaders: head.rawHeaders,
          body: Buffer.alloc(0),
        };
        if (response.statusCode === 101) {
          const protocol = checkUpgradeResponse(head, key, protocols);
          const agreement = acceptServerResponse(head.headers['sec-websocket-extensions'], deflate);
          return {
            kind: 'upgraded',
            response,
            protocol,
            deflate: agreement === null ? null : codecSettings(agreement, 'client', deflate!),
          };
        }
        response.body = input.remove();
        const location = response.headers.location;
        if (
          maxRedirects > 0 &&
          location !== undefined &&
          response.statusCode >= 300 &&
          response.statusCode < 400
        ) {
          return { kind: 'redirect', location, response };
        }
        return {
          kind: 'failed',
          error: new WebSocketError(
            `Unexpected server response: ${response.statusCode}`,
            'WS_ERR_UNEXPECTED_RESPONSE',
          ),
          response,
        };
      } catch (error) {
        return { kind: 'failed', error: error as Error, response: null };
      }
    };
    const connectTo = (addresses: LookupAddress[], index: number) => {
      if (done || target !== url) return;
      const { address } = addresses[index]!;
      // Node's net.connect tries the next address when one fails (refused, unreachable, bind failed).
      const failed = (error: Error) => {
        release();
        if (index + 1 < addresses.length) connectTo(addresses, index + 1);
        else settle({ kind: 'failed', error, response: null });
      };
      // Node binds a socket of the address's family to a local address of the other and fails with
      // EINVAL: the same error here, without making the socket.
      if (localAddress !== undefined && isIP(localAddress) !== isIP(address)) {
        failed(systemError('bind', 'EINVAL', constants.errno.EINVAL, { address: localAddress }));
        return;
      }
      const socket = Bufferevent.socket(SOCKET_FAST_PATHS);
      bufferevent = socket;
      socket.setCallbacks({
        read: () => {
          const outcome = readResponse(socket.input);
          if (outcome !== null) settle(outcome);
        },
        event: (_bev, events, error) => {
          if (events & BEV.CONNECTED) {
            socket.write(headers.requestHead(target, key, protocols, offer));
            return;
          }
          if (events & BEV.EOF) {
            settle({
              kind: 'failed',
              error: new WebSocketError(
                'the server closed the connection during the opening handshake',
                'WS_ERR_INVALID_HANDSHAKE',
              ),
              response: null,
            });
            return;
          }
          failed(connectError(error, address, port));
        },
      });
      socket.enable(EV.READ | EV.WRITE);
      try {
        socket.connect(
          localAddress === undefined ? { host: address, port } : { host: address, port, localAddress },
        );
      } catch (error) {
        // The connect could not start (ERR_CONNECT: a failed bind, ENETUNREACH…): Node reports these
        // as the failed call's error, a bind's at the local address.
        const thrown = error as BuffereventError;
        if (thrown.syscall === 'bind' && localAddress !== undefined) {
          failed(
            systemError('bind', thrown.systemCode ?? thrown.code, thrown.errno, { address: localAddress }),
          );
        } else {
          failed(connectError(thrown, address, port));
        }
      }
    };
    // localhost is 127.0.0.1 (where the servers' default listens too) unless the user resolves names.
    const literal = host === 'localhost' && options.lookup === undefined ? '127.0.0.1' : host;
    lookup(literal, { family, all: true }, (error, found) => {
      if (done || target !== url) return;
      const addresses = typeof found === 'string' ? [{ address: found, family: family || 4 }] : (found ?? []);
      if (error !== null || addresses.length === 0) {
        const code = error?.code ?? 'ENOTFOUND';
        const failure = systemError(error?.syscall ?? 'getaddrinfo', code, error?.errno, { hostname: host });
        settle({ kind: 'failed', error: failure, response: null });
        return;
      }
      connectTo(addresses, 0);
    });
  };

  attempt();
  return {
    url: url.href,
    // The WebSocket reports the abort itself, once: end quietly.
    abort: () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      release();
    },
  };
}
