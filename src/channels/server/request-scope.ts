// The scope of a request as ASGI describes it (camelCase): what routing, middleware and consumers
// read. Built from the handshake request of the native listener or from Node's IncomingMessage.
import type { Scope } from '../routing.ts';
import type { HeaderPair } from '../middleware/headers.ts';

export interface RequestLike {
  readonly url?: string | undefined;
  readonly method?: string | undefined;
  readonly httpVersion: string;
  readonly rawHeaders: readonly string[];
  readonly socket: { readonly remoteAddress?: string | undefined; readonly remotePort?: number | undefined };
}

export interface ScopeContext {
  /** Where the server listens: scope.server. */
  readonly server: readonly [string, number];
  /** The prefix the application is mounted under (ASGI's root_path). */
  readonly rootPath: string;
}

function headerPairs(rawHeaders: readonly string[]): HeaderPair[] {
  const pairs: HeaderPair[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2)
    pairs.push([rawHeaders[i]!.toLowerCase(), rawHeaders[i + 1]!]);
  return pairs;
}

function splitTarget(url: string): { path: string; queryString: string } {
  const question = url.indexOf('?');
  return question === -1
    ? { path: url, queryString: '' }
    : { path: url.slice(0, question), queryString: url.slice(question + 1) };
}

/** The offered subprotocols, in the client's order, from every Sec-WebSocket-Protocol header. */
export function offeredSubprotocols(headers: readonly HeaderPair[]): string[] {
  const offered: string[] = [];
  for (const [name, value] of headers) {
    if (name !== 'sec-websocket-protocol') continue;
    for (const token of value.split(',')) {
      const trimmed = token.trim();
      if (trimmed !== '') offered.push(trimmed);
    }
  }
  return offered;
}

/** The scope of a request: `type`, `path` (still percent-encoded), `queryString`, `headers`, peers. */
export function requestScope(type: 'websocket' | 'http', request: RequestLike, context: ScopeContext): Scope {
  const { path, queryString } = splitTarget(request.url ?? '/');
  const headers = headerPairs(request.rawHeaders);
  const client =
    request.socket.remoteAddress === undefined
      ? null
      : [request.socket.remoteAddress, request.socket.remotePort ?? 0];
  const scope: Record<string, unknown> = {
    type,
    scheme: type === 'websocket' ? 'ws' : 'http',
    httpVersion: request.httpVersion,
    path,
    rawPath: path,
    queryString,
    rootPath: context.rootPath,
    headers,
    client,
    server: [...context.server],
  };
  if (type === 'websocket') scope.subprotocols = offeredSubprotocols(headers);
  else scope.method = request.method ?? 'GET';
  return scope as Scope;
}
