// Channels middleware that runs in resolve(): origin validation (403 before the upgrade) and cookie
// parsing. No sockets: handshake scopes are built here. Sessions and auth: middleware.test.ts.
import { describe, expect, it } from 'vitest';
import {
  AllowedHostsOriginValidator,
  CookieMiddleware,
  OriginValidator,
  URLRouter,
  parseCookies,
  parseOrigin,
  path,
  refusalOf,
  resolveWebSocket,
  type Application,
  type Scope,
} from '../../src/channels/index.ts';
import { BuffereventError } from '../../src/errors.ts';

class ChatConsumer {}

function handshake(headers: [string, string][], pathText = 'ws/chat/lobby/') {
  return { path: pathText, headers };
}

function resolveWith(app: Application, headers: [string, string][], pathText?: string) {
  return resolveWebSocket(app, handshake(headers, pathText));
}

describe('OriginValidator', () => {
  const router = new URLRouter([path('ws/chat/<room>/', ChatConsumer)]);
  const validator = new OriginValidator(router, ['https://example.com', 'http://localhost:8000']);

  function refusal(origin: string | undefined, app: Application = validator) {
    const resolved = resolveWith(app, origin === undefined ? [] : [['origin', origin]]);
    expect(resolved).not.toBeNull();
    return refusalOf(resolved!);
  }

  it('lets an allowed origin through to the routed consumer', () => {
    const resolved = resolveWith(validator, [['origin', 'https://example.com']]);
    expect(resolved?.app).toBe(ChatConsumer);
    expect(refusalOf(resolved!)).toBeUndefined();
    expect(resolved?.scope.urlRoute?.kwargs).toEqual({ room: 'lobby' });
    expect(refusal('http://localhost:8000')).toBeUndefined();
    expect(refusal('HTTPS://EXAMPLE.COM')).toBeUndefined();
  });

  it('refuses a missing Origin with 403 unless allowMissingOrigin', () => {
    expect(refusal(undefined)).toEqual({ status: 403, reason: 'missing Origin header' });
    const lenient = new OriginValidator(router, ['https://example.com'], { allowMissingOrigin: true });
    expect(refusal(undefined, lenient)).toBeUndefined();
    // '*' alone does not allow a missing Origin (unlike Channels): it must be said explicitly.
    expect(refusal(undefined, new OriginValidator(router, ['*']))).toEqual({
      status: 403,
      reason: 'missing Origin header',
    });
  });

  it('refuses another scheme, another port, another host', () => {
    for (const origin of [
      'http://example.com',
      'wss://example.com',
      'https://example.com:8443',
      'http://localhost:8001',
      'http://localhost',
      'https://evil.com',
      'https://example.com.evil.com',
      'https://sub.example.com',
    ]) {
      expect(refusal(origin), origin).toEqual({ status: 403, reason: 'origin not allowed' });
    }
  });

  it('normalises default ports both ways', () => {
    expect(refusal('https://example.com:443')).toBeUndefined();
    const explicit = new OriginValidator(router, ['https://example.com:443', 'http://plain.test']);
    expect(refusal('https://example.com', explicit)).toBeUndefined();
    expect(refusal('http://plain.test:80', explicit)).toBeUndefined();
    expect(refusal('http://plain.test:443', explicit)?.status).toBe(403);
    expect(parseOrigin('wss://a.test')).toEqual({ scheme: 'wss', host: 'a.test', port: 443 });
    expect(parseOrigin('ws://a.test')).toEqual({ scheme: 'ws', host: 'a.test', port: 80 });
  });

  it('supports * and .example.com patterns', () => {
    const any = new OriginValidator(router, ['*']);
    expect(refusal('https://anything.test:9', any)).toBeUndefined();
    const sub = new OriginValidator(router, ['https://.example.com', 'other.test']);
    expect(refusal('https://example.com', sub)).toBeUndefined();
    expect(refusal('https://a.b.example.com', sub)).toBeUndefined();
    expect(refusal('https://badexample.com', sub)?.status).toBe(403);
    expect(refusal('http://a.example.com', sub)?.status).toBe(403);
    // A host-only pattern matches any scheme and port, as in Channels.
    expect(refusal('http://other.test:1234', sub)).toBeUndefined();
    expect(refusal('https://x.other.test', sub)?.status).toBe(403);
  });

  it('refuses malformed origins, even with *', () => {
    const any = new OriginValidator(router, ['*']);
    for (const origin of [
      'null',
      '',
      'example.com',
      'https://example.com/',
      'https://example.com/path',
      'https://user@example.com',
      'https://example.com:0',
      'https://example.com:65536',
      'https://example.com:',
      'https://exa mple.com',
      'https://-bad.com',
      'https://example.com?x',
      'https://',
    ]) {
      expect(refusal(origin, any), origin).toEqual({ status: 403, reason: 'origin not allowed' });
    }
  });

  it('refuses several Origin headers', () => {
    const resolved = resolveWith(validator, [
      ['origin', 'https://example.com'],
      ['origin', 'https://example.com'],
    ]);
    expect(refusalOf(resolved!)).toEqual({ status: 403, reason: 'several Origin headers' });
  });

  it('refuses before routing: an unknown path from a bad origin is 403, from a good one 404', () => {
    expect(refusalOf(resolveWith(validator, [['origin', 'https://evil.com']], 'nowhere/')!)?.status).toBe(
      403,
    );
    expect(resolveWith(validator, [['origin', 'https://example.com']], 'nowhere/')).toBeNull();
  });

  it('nests under path() as a prefix router', () => {
    const outer = new URLRouter([
      path('ws/', new OriginValidator(new URLRouter([path('chat/<room>/', ChatConsumer)]), ['*'])),
    ]);
    const resolved = resolveWith(outer, [['origin', 'https://a.test']], 'ws/chat/x/');
    expect(resolved?.app).toBe(ChatConsumer);
  });

  it('AllowedHostsOriginValidator matches hosts, any scheme and port', () => {
    const hosts = AllowedHostsOriginValidator(router, ['example.com', '.example.org']);
    expect(refusal('http://example.com:8080', hosts)).toBeUndefined();
    expect(refusal('https://www.example.org', hosts)).toBeUndefined();
    expect(refusal('https://evil.com', hosts)?.status).toBe(403);
    expect(refusal(undefined, hosts)?.status).toBe(403);
    const local = AllowedHostsOriginValidator(router, ['localhost', '127.0.0.1', '[::1]']);
    expect(refusal('http://[::1]:8000', local)).toBeUndefined();
    expect(refusal('http://127.0.0.1:8000', local)).toBeUndefined();
    expect(refusal('http://[::2]:8000', local)?.status).toBe(403);
    expect(() => AllowedHostsOriginValidator(router, ['https://example.com'])).toThrow(BuffereventError);
  });

  it('rejects bad patterns when built', () => {
    expect(() => new OriginValidator(router, ['https://example.com/path'])).toThrow(BuffereventError);
    expect(() => new OriginValidator(router, [42 as unknown as string])).toThrow(BuffereventError);
  });
});

describe('CookieMiddleware', () => {
  it('parses pairs, quotes, percent-encoding, and keeps the first of a repeated name', () => {
    expect({ ...parseCookies(['a=1; b="two"; c=%E2%82%AC; a=3', 'd=4']) }).toEqual({
      a: '1',
      b: 'two',
      c: '€',
      d: '4',
    });
  });

  it('tolerates malformed input and never throws', () => {
    const cookies = parseCookies([';;  ; novalue; =empty; bad=%E0%A4%A; sp = x y ; __proto__=p; e=', '']);
    expect(Object.keys(cookies)).toEqual(['bad', 'sp', '__proto__', 'e']);
    expect([cookies.bad, cookies.sp, cookies['__proto__'], cookies.e]).toEqual(['%E0%A4%A', 'x y', 'p', '']);
    expect(Object.getPrototypeOf(cookies)).toBeNull();
  });

  it('puts scope.cookies from every Cookie header; a scope without headers gets none', () => {
    let seen: Scope | undefined;
    const app = new CookieMiddleware({
      resolve: (scope: Scope) => {
        seen = scope;
        return { app: ChatConsumer, scope };
      },
    });
    resolveWebSocket(app, {
      path: '/',
      headers: [
        ['cookie', 'a=1'],
        ['x', 'y'],
        ['cookie', 'b=2'],
      ],
    });
    expect({ ...(seen?.cookies as object) }).toEqual({ a: '1', b: '2' });
    resolveWebSocket(app, { path: '/', headers: 'garbage' });
    expect({ ...(seen?.cookies as object) }).toEqual({});
  });
});
