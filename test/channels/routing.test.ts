// Channels routing: path converters, rePath groups, nested URLRouters, percent-decoding,
// ProtocolTypeRouter dispatch and its start-up checks. Routing is pure: no sockets here.
import { describe, expect, it } from 'vitest';
import {
  ProtocolTypeRouter,
  URLRouter,
  path,
  rePath,
  resolveWebSocket,
  supportsProtocol,
  type Application,
  type Scope,
} from '../../src/channels/routing.ts';
// Routing needs no addon, so this file uses the addon-free assertions, not test/helpers.ts.
import { errorCodeOf } from '../error-assertions.ts';

class ChatConsumer {}
class TailConsumer {}
class OtherConsumer {}

function ws(pathText: string, extra: Record<string, unknown> = {}): Scope {
  return { type: 'websocket', path: pathText, ...extra };
}

function resolveOne(application: Application, pathText: string) {
  return resolveWebSocket(application, { path: pathText });
}

describe('path() converters', () => {
  const cases: [string, string, unknown][] = [
    ['<room>', 'lobby', 'lobby'],
    ['<str:room>', 'caf%C3%A9', 'café'],
    ['<int:id>', '42', 42],
    ['<int:id>', '007', 7],
    ['<slug:s>', 'a-b_C9', 'a-b_C9'],
    ['<uuid:u>', '0b9e1c2a-3f4d-4e5f-8a6b-7c8d9e0f1a2b', '0b9e1c2a-3f4d-4e5f-8a6b-7c8d9e0f1a2b'],
    ['<path:p>', 'a/b/c.txt', 'a/b/c.txt'],
  ];
  it.each(cases)('%s accepts %s', (param, segment, value) => {
    const router = new URLRouter([path(`r/${param}/`, ChatConsumer)]);
    const resolved = resolveOne(router, `/r/${segment}/`);
    expect(resolved?.app).toBe(ChatConsumer);
    expect(Object.values(resolved!.scope.urlRoute!.kwargs)).toEqual([value]);
    expect(resolved!.scope.urlRoute!.args).toEqual([]);
  });

  const refused: [string, string][] = [
    ['<room>', 'a/b'],
    ['<room>', ''],
    ['<int:id>', '-1'],
    ['<int:id>', '4.2'],
    ['<int:id>', '12a'],
    ['<int:id>', '9007199254740993'], // above Number.MAX_SAFE_INTEGER: would name another id
    ['<slug:s>', 'a.b'],
    ['<slug:s>', 'caf%C3%A9'],
    ['<uuid:u>', '0B9E1C2A-3F4D-4E5F-8A6B-7C8D9E0F1A2B'],
    ['<uuid:u>', '0b9e1c2a3f4d4e5f8a6b7c8d9e0f1a2b'],
    ['<path:p>', ''],
  ];
  it.each(refused)('%s refuses %j', (param, segment) => {
    const router = new URLRouter([path(`r/${param}/`, ChatConsumer)]);
    expect(router.matches(ws(`/r/${segment}/`))).toBe(false);
  });

  it('a refused conversion falls through to the next route', () => {
    const router = new URLRouter([path('r/<int:id>/', ChatConsumer), path('r/<str:name>/', OtherConsumer)]);
    expect(router.resolve(ws('/r/99999999999999999999/'))?.app).toBe(OtherConsumer);
    expect(router.resolve(ws('/r/5/'))?.app).toBe(ChatConsumer);
  });

  it('several parameters, literal text escaped', () => {
    const router = new URLRouter([path('a.b/<slug:x>+<int:y>/', ChatConsumer)]);
    expect(router.resolve(ws('/a.b/s-1+2/'))?.scope.urlRoute).toEqual({
      args: [],
      kwargs: { x: 's-1', y: 2 },
    });
    expect(router.matches(ws('/aXb/s-1+2/'))).toBe(false); // '.' is literal
  });
});

describe('URLRouter matching', () => {
  it("the Channels tutorial's routing: ws/chat/<str:room_name>/", () => {
    const websocketUrlpatterns = [path('ws/chat/<str:room_name>/', ChatConsumer)];
    const application = new ProtocolTypeRouter({ websocket: new URLRouter(websocketUrlpatterns) });
    const resolved = resolveWebSocket(application, { path: '/ws/chat/lobby/', headers: [] });
    expect(resolved?.app).toBe(ChatConsumer);
    expect(resolved?.scope).toMatchObject({
      type: 'websocket',
      path: '/ws/chat/lobby/',
      rawPath: '/ws/chat/lobby/',
      pathRemaining: '',
      headers: [],
      urlRoute: { args: [], kwargs: { room_name: 'lobby' } },
    });
  });

  it('endpoint routes match exactly: no trailing slash is appended or ignored', () => {
    const router = new URLRouter([path('ws/chat/<room>/', ChatConsumer)]);
    expect(router.matches(ws('/ws/chat/lobby'))).toBe(false);
    expect(router.matches(ws('/ws/chat/lobby//'))).toBe(false);
    expect(router.matches(ws('/ws/chat/lobby/x'))).toBe(false);
    // Channels removes every leading '/', and tolerates none.
    expect(router.matches(ws('//ws/chat/lobby/'))).toBe(true);
    expect(router.matches(ws('ws/chat/lobby/'))).toBe(true);
    expect(router.matches(ws('/ws//chat/lobby/'))).toBe(false);
    expect(new URLRouter([path('ws/chat/<room>', ChatConsumer)]).matches(ws('/ws/chat/lobby/'))).toBe(false);
  });

  it('routes are tried in order: the first match wins', () => {
    const router = new URLRouter([
      path('ws/<room>/', ChatConsumer),
      path('ws/special/', OtherConsumer),
      rePath('^ws/', TailConsumer),
    ]);
    expect(router.resolve(ws('/ws/special/'))?.app).toBe(ChatConsumer);
    expect(router.resolve(ws('/ws/a/b/'))?.app).toBe(TailConsumer);
  });

  it('no match gives null, also through ProtocolTypeRouter and resolveWebSocket', () => {
    const router = new URLRouter([path('ws/chat/<room>/', ChatConsumer)]);
    expect(router.resolve(ws('/ws/other/'))).toBeNull();
    expect(resolveWebSocket(new ProtocolTypeRouter({ websocket: router }), { path: '/nope' })).toBeNull();
    expect(resolveWebSocket(new URLRouter([]), { path: '/' })).toBeNull();
  });

  it('nested routers consume their prefix and merge args and kwargs (inner overrides outer)', () => {
    const inner = new URLRouter([
      path('chat/<str:room>/', ChatConsumer),
      rePath(/^tail\/(\d+)\/(\w+)\/$/, TailConsumer),
      path('<int:tenant>/again/', OtherConsumer),
    ]);
    const outer = new URLRouter([
      rePath(/^t\/(\d+)\//, new URLRouter([path('ws/', inner)])),
      path('<int:tenant>/ws/', inner),
    ]);
    expect(outer.resolve(ws('/7/ws/chat/lobby/'))?.scope.urlRoute).toEqual({
      args: [],
      kwargs: { tenant: 7, room: 'lobby' },
    });
    expect(outer.resolve(ws('/7/ws/9/again/'))?.scope.urlRoute?.kwargs).toEqual({ tenant: 9 });
    const tail = outer.resolve(ws('/t/3/ws/tail/12/x/'));
    expect(tail?.app).toBe(TailConsumer);
    expect(tail?.scope.urlRoute).toEqual({ args: ['3', '12', 'x'], kwargs: {} });
    expect(tail?.scope.pathRemaining).toBe('');
    expect(outer.matches(ws('/7/ws/'))).toBe(false);
    expect(outer.matches(ws('/7/ws/chat/lobby/extra'))).toBe(false);
  });

  it('a nested router with no match lets the next outer route try (as Django)', () => {
    const router = new URLRouter([
      path('ws/', new URLRouter([path('chat/<room>/', ChatConsumer)])),
      path('ws/<path:rest>', OtherConsumer),
    ]);
    expect(router.resolve(ws('/ws/chat/a/'))?.app).toBe(ChatConsumer);
    expect(router.resolve(ws('/ws/tail/a/'))?.scope.urlRoute?.kwargs).toEqual({ rest: 'tail/a/' });
  });

  it("a nested rePath ending with '$' fails at start-up (it could never leave a rest)", () => {
    const inner = new URLRouter([path('chat/', ChatConsumer)]);
    expect(errorCodeOf(() => rePath('^ws/$', inner))).toBe('ERR_INVALID_ROUTE');
    expect(errorCodeOf(() => rePath(/^ws\/$/, inner))).toBe('ERR_INVALID_ROUTE');
    expect(new URLRouter([rePath('^ws/\\$', inner)]).resolve(ws('/ws/$chat/'))?.app).toBe(ChatConsumer);
    expect(new URLRouter([rePath('^ws/', inner)]).resolve(ws('/ws/chat/'))?.app).toBe(ChatConsumer);
  });

  it('a nested router again drops the leading slashes of what it is handed', () => {
    const router = new URLRouter([path('ws', new URLRouter([path('chat/<room>/', ChatConsumer)]))]);
    expect(router.resolve(ws('/ws/chat/a/'))?.scope.urlRoute?.kwargs).toEqual({ room: 'a' });
    expect(router.resolve(ws('/ws//chat/a/'))?.app).toBe(ChatConsumer);
    expect(router.matches(ws('/wschat/a/'))).toBe(true); // 'ws' is a plain prefix, as in Django
  });

  it('rootPath is removed first; a path outside it matches nothing', () => {
    const router = new URLRouter([path('ws/<room>/', ChatConsumer)]);
    expect(router.resolve(ws('/app/ws/a/', { rootPath: '/app' }))?.scope).toMatchObject({
      path: '/app/ws/a/',
      urlRoute: { kwargs: { room: 'a' } },
    });
    expect(router.matches(ws('/ws/a/', { rootPath: '/app' }))).toBe(false);
    expect(router.matches(ws('/caf%C3%A9/ws/a/', { rootPath: '/café' }))).toBe(true);
  });

  it('route kwargs options are added and override captured values (as Django)', () => {
    const router = new URLRouter([
      path('ws/', new URLRouter([path('<room>/', ChatConsumer, { kwargs: { room: 'fixed', x: 1 } })]), {
        kwargs: { y: 2 },
      }),
    ]);
    expect(router.resolve(ws('/ws/a/'))?.scope.urlRoute).toEqual({
      args: [],
      kwargs: { y: 2, room: 'fixed', x: 1 },
    });
    expect(errorCodeOf(() => path('a/', ChatConsumer, { kwargs: 3 as never }))).toBe('ERR_INVALID_ROUTE');
  });

  it('a routing object (middleware) in between passes scopes through', () => {
    const seen: Scope[] = [];
    const middleware = (inner: URLRouter) => ({
      routesByPrefix: true,
      resolve(scope: Scope) {
        seen.push(scope);
        return inner.resolve({ ...scope, user: 'ann' });
      },
    });
    const router = new URLRouter([path('ws/', middleware(new URLRouter([path('<room>/', ChatConsumer)])))]);
    expect(router.resolve(ws('/ws/a%20b/'))?.scope).toMatchObject({
      user: 'ann',
      path: '/ws/a b/',
      urlRoute: { kwargs: { room: 'a b' } },
    });
    expect(seen.map((scope) => scope.pathRemaining)).toEqual(['a b/']);
  });

  it('the input scope is not modified', () => {
    const scope = ws('/ws/chat/x/');
    const copy = structuredClone(scope);
    new URLRouter([path('ws/chat/<room>/', ChatConsumer)]).resolve(scope);
    expect(scope).toEqual(copy);
  });
});

describe('rePath() groups', () => {
  it('named groups become kwargs, and args stay empty', () => {
    const router = new URLRouter([rePath(/^ws\/tail\/(?<id>\d+)\/(x)?$/, TailConsumer)]);
    expect(router.resolve(ws('/ws/tail/12/x'))?.scope.urlRoute).toEqual({ args: [], kwargs: { id: '12' } });
  });

  it('unmatched named groups are left out', () => {
    const router = new URLRouter([rePath('^a/(?<x>\\d+)?(?<y>[a-z]+)?$', TailConsumer)]);
    expect(router.resolve(ws('/a/q'))?.scope.urlRoute?.kwargs).toEqual({ y: 'q' });
  });

  it('unnamed groups become args, keeping the position of one that took no part', () => {
    const router = new URLRouter([rePath('^a/(\\d+)/(x)?(\\w+)/$', TailConsumer)]);
    expect(router.resolve(ws('/a/1/b/'))?.scope.urlRoute).toEqual({
      args: ['1', undefined, 'b'],
      kwargs: {},
    });
  });

  it('the regex is searched: without anchors it matches anywhere, as in Django', () => {
    const router = new URLRouter([rePath('tail', TailConsumer)]);
    expect(router.matches(ws('/ws/tail/more'))).toBe(true);
    expect(new URLRouter([rePath('^tail$', TailConsumer)]).matches(ws('/ws/tail'))).toBe(false);
  });

  it('a global or sticky regex has no lastIndex state between resolutions', () => {
    const router = new URLRouter([rePath(/^ws\/(?<n>\d+)$/gy, TailConsumer)]);
    for (let i = 0; i < 3; i++)
      expect(router.resolve(ws(`/ws/${i}`))?.scope.urlRoute?.kwargs).toEqual({ n: String(i) });
  });

  it('an invalid regex string fails when the route is built', () => {
    expect(errorCodeOf(() => rePath('^(unclosed', TailConsumer))).toBe('ERR_INVALID_ROUTE');
  });
});

describe('percent-encoded paths', () => {
  const router = new URLRouter([path('ws/<str:room>/', ChatConsumer), path('files/<path:p>', OtherConsumer)]);

  it('decodes before matching; the scope gets the decoded path and the raw one', () => {
    const resolved = router.resolve(ws('/ws/caf%c3%a9%20bar/'));
    expect(resolved?.scope.urlRoute?.kwargs).toEqual({ room: 'café bar' });
    expect(resolved?.scope.path).toBe('/ws/café bar/');
    expect(resolved?.scope.rawPath).toBe('/ws/caf%c3%a9%20bar/');
  });

  it('%2F decodes to / (so <str> refuses it, <path> takes it)', () => {
    expect(router.matches(ws('/ws/a%2Fb/'))).toBe(false);
    expect(router.resolve(ws('/files/a%2Fb'))?.scope.urlRoute?.kwargs).toEqual({ p: 'a/b' });
  });

  it('encoded literal text matches too', () => {
    expect(router.resolve(ws('/%77s/x/'))?.app).toBe(ChatConsumer);
  });

  it('decodes once only: %2541 stays %41', () => {
    expect(router.resolve(ws('/ws/%2541/'))?.scope.urlRoute?.kwargs).toEqual({ room: '%41' });
  });

  it("a '%' not followed by two hex digits stays literal", () => {
    expect(router.resolve(ws('/ws/100%/'))?.scope.urlRoute?.kwargs).toEqual({ room: '100%' });
    expect(router.resolve(ws('/ws/%zz%4/'))?.scope.urlRoute?.kwargs).toEqual({ room: '%zz%4' });
  });

  it('invalid UTF-8 once decoded matches nothing', () => {
    for (const bad of ['/ws/%ff/', '/ws/%c3/', '/ws/%c3%28/', '/ws/%ed%a0%80/', '/files/%80'])
      expect(router.resolve(ws(bad)), bad).toBeNull();
  });
});

describe('ProtocolTypeRouter', () => {
  const http = () => undefined;
  const websocket = new URLRouter([path('ws/chat/<room>/', ChatConsumer)]);
  const application = new ProtocolTypeRouter({ websocket, http });

  it('dispatches on scope.type', () => {
    expect(application.resolve({ type: 'http', path: '/anything' })).toEqual({
      app: http,
      scope: { type: 'http', path: '/anything' },
    });
    expect(application.resolve(ws('/ws/chat/a/'))?.app).toBe(ChatConsumer);
    expect(application.matches(ws('/ws/x/'))).toBe(false);
    expect(application.protocolTypes).toEqual(['websocket', 'http']);
    expect(supportsProtocol(application, 'http')).toBe(true);
    expect(supportsProtocol(new ProtocolTypeRouter({ http }), 'websocket')).toBe(false);
    expect(supportsProtocol(websocket, 'websocket')).toBe(true);
  });

  it('a scope type it has no entry for throws ERR_UNKNOWN_PROTOCOL', () => {
    expect(errorCodeOf(() => application.resolve({ type: 'lifespan' }))).toBe('ERR_UNKNOWN_PROTOCOL');
    expect(errorCodeOf(() => resolveWebSocket(new ProtocolTypeRouter({ http }), { path: '/' }))).toBe(
      'ERR_UNKNOWN_PROTOCOL',
    );
    expect(() => application.resolve({ type: 'nope' })).toThrow(/"nope".*websocket, http/);
  });

  it('start-up validation: bad mapping values and unknown protocol keys', () => {
    const bad: unknown[] = [undefined, null, 'ChatConsumer', 42, {}, { resolve: 'no' }, []];
    for (const value of bad) {
      expect(
        errorCodeOf(() => new ProtocolTypeRouter({ websocket: value as Application })),
        String(value),
      ).toBe('ERR_INVALID_APPLICATION');
    }
    expect(() => new ProtocolTypeRouter({ websocket: undefined as unknown as Application })).toThrow(
      /websocket: expected an application/,
    );
    expect(errorCodeOf(() => new ProtocolTypeRouter({ websockets: websocket }))).toBe('ERR_UNKNOWN_PROTOCOL');
    expect(() => new ProtocolTypeRouter({ websockets: websocket })).toThrow(/"websockets"/);
    expect(errorCodeOf(() => new ProtocolTypeRouter({}))).toBe('ERR_INVALID_APPLICATION');
    expect(errorCodeOf(() => new ProtocolTypeRouter(null as unknown as Record<string, Application>))).toBe(
      'ERR_INVALID_APPLICATION',
    );
  });
});

describe('route construction errors', () => {
  it.each([
    ['<foo:x>/', /unknown converter "foo"/],
    ['/ws/', /must not start with '\/'/],
    ['a/<x/', /unmatched '<'/],
    ['a/x>/', /unmatched '>'/],
    ['<int:my-id>/', /not an identifier/],
    ['<>/', /not an identifier/],
    ['<a>/<int:a>/', /appears twice/],
  ])('path(%j) throws ERR_INVALID_ROUTE', (route, message) => {
    expect(errorCodeOf(() => path(route, ChatConsumer))).toBe('ERR_INVALID_ROUTE');
    expect(() => path(route, ChatConsumer)).toThrow(message);
  });

  it('bad applications, routes and options', () => {
    expect(errorCodeOf(() => path('a/', undefined as unknown as Application))).toBe(
      'ERR_INVALID_APPLICATION',
    );
    expect(errorCodeOf(() => rePath('a', 'Consumer' as unknown as Application))).toBe(
      'ERR_INVALID_APPLICATION',
    );
    expect(errorCodeOf(() => rePath(42 as unknown as string, ChatConsumer))).toBe('ERR_INVALID_ROUTE');
    expect(errorCodeOf(() => new URLRouter([path('a/', ChatConsumer), ChatConsumer as never]))).toBe(
      'ERR_INVALID_ROUTE',
    );
    expect(errorCodeOf(() => new URLRouter('a/' as never))).toBe('ERR_INVALID_ROUTE');
    expect(errorCodeOf(() => path('a/', ChatConsumer, { name: 3 as unknown as string }))).toBe(
      'ERR_INVALID_ROUTE',
    );
    expect(path('a/', ChatConsumer, { name: 'a' }).name).toBe('a');
    expect(errorCodeOf(() => new URLRouter([]).resolve({ type: 'websocket' }))).toBe('ERR_INVALID_ARG');
  });
});
