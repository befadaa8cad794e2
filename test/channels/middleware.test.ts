// Channels middleware with async prepare steps: signed sessions and auth, through the resolve (sync)
// / prepareScope (async) contract serve() relies on. No sockets: scopes are built here. Origin and
// cookie middleware: middleware-origin.test.ts.
import { describe, expect, it } from 'vitest';
import {
  ANONYMOUS_USER,
  AuthMiddlewareStack,
  MemorySessionStore,
  SESSION_USER_ID_KEY,
  Session,
  SessionMiddlewareStack,
  URLRouter,
  login,
  path,
  prepareScope,
  resolveWebSocket,
  type Application,
} from '../../src/channels/index.ts';
import { BuffereventError } from '../../src/errors.ts';

class ChatConsumer {}
const SECRET = 'a-test-secret-of-32-characters!!';

function handshake(headers: [string, string][], pathText = 'ws/chat/lobby/') {
  return { path: pathText, headers };
}

function resolveWith(app: Application, headers: [string, string][], pathText?: string) {
  return resolveWebSocket(app, handshake(headers, pathText));
}

interface Clock {
  time: number;
}

function sessionApp(clock: Clock, secret: string | string[] = SECRET, maxAge = 60) {
  const store = new MemorySessionStore({ now: () => clock.time });
  const app = SessionMiddlewareStack(ChatConsumer, { secret, maxAge, store });
  return { app, store };
}

async function sessionOf(app: Application, cookie?: string): Promise<Session> {
  const resolved = resolveWebSocket(app, {
    path: '/',
    headers: cookie === undefined ? [] : [['cookie', cookie]],
  });
  const scope = await prepareScope(resolved!);
  expect(scope.prepareSteps).toBeUndefined();
  return scope.session as Session;
}

function cookieFrom(session: Session): string {
  return session.setCookieHeader().split(';')[0]!;
}

describe('SessionMiddleware', () => {
  it('round-trips a saved session through its signed cookie', async () => {
    const clock = { time: 0 };
    const { app } = sessionApp(clock);
    const first = await sessionOf(app);
    expect(first.isNew).toBe(true);
    expect(first.isEmpty).toBe(true);
    expect(first.id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    first.set('room', 'lobby');
    await first.save();
    const header = first.setCookieHeader();
    expect(header).toMatch(
      /^sessionid=[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{43}; Max-Age=60; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    const again = await sessionOf(app, `other=1; ${cookieFrom(first)}`);
    expect(again.isNew).toBe(false);
    expect(again.id).toBe(first.id);
    expect(again.get('room')).toBe('lobby');
    again.delete('room');
    expect(again.modified).toBe(true);
  });

  it('a forged signature gives a fresh empty session with a new id', async () => {
    const { app } = sessionApp({ time: 0 });
    const real = await sessionOf(app);
    real.set('k', 'v');
    await real.save();
    const forged = `sessionid=${real.id}.${'A'.repeat(43)}`;
    const signedElsewhere = await sessionOf(sessionApp({ time: 0 }, 'another-secret-of-enough-length').app);
    for (const cookie of [
      forged,
      cookieFrom(signedElsewhere).replace(signedElsewhere.id, real.id),
      `sessionid=${real.id}`,
      'sessionid=..',
      'sessionid=',
    ]) {
      const session = await sessionOf(app, cookie);
      expect(session.isNew, cookie).toBe(true);
      expect(session.isEmpty).toBe(true);
      expect(session.id).not.toBe(real.id);
    }
  });

  it("keys such as '__proto__' are ordinary keys and survive the store", async () => {
    const { app } = sessionApp({ time: 0 });
    const session = await sessionOf(app);
    session.set('__proto__', { polluted: true });
    session.set('constructor', 'c');
    await session.save();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const again = await sessionOf(app, cookieFrom(session));
    expect(again.get('__proto__')).toEqual({ polluted: true });
    expect(again.get('constructor')).toBe('c');
    expect(again.get('toString')).toBeUndefined();
  });

  it('only the exact signature encoding is accepted (no lenient base64 variants)', async () => {
    const { app } = sessionApp({ time: 0 });
    const real = await sessionOf(app);
    real.set('k', 'v');
    await real.save();
    const cookie = cookieFrom(real);
    expect((await sessionOf(app, cookie)).get('k')).toBe('v');
    const last = cookie.at(-1)!;
    const sameBits = String.fromCharCode(last.charCodeAt(0) ^ 1);
    for (const variant of [`${cookie}=`, `${cookie}!`, `${cookie.slice(0, -1)}${sameBits}`, `${cookie} x`]) {
      expect((await sessionOf(app, variant)).isNew, variant).toBe(true);
    }
  });

  it('a tampered id (signature of another id) gives a fresh session', async () => {
    const { app } = sessionApp({ time: 0 });
    const a = await sessionOf(app);
    a.set('who', 'a');
    await a.save();
    const b = await sessionOf(app);
    b.set('who', 'b');
    await b.save();
    const [, signatureOfA] = cookieFrom(a).split('.');
    const tampered = await sessionOf(app, `sessionid=${b.id}.${signatureOfA}`);
    expect(tampered.isNew).toBe(true);
    expect(tampered.get('who')).toBeUndefined();
    expect([a.id, b.id]).not.toContain(tampered.id);
  });

  it('an expired session gives a fresh one; touching or saving again extends it', async () => {
    const clock = { time: 0 };
    const { app, store } = sessionApp(clock);
    const session = await sessionOf(app);
    session.set('x', 1);
    await session.save();
    const cookie = cookieFrom(session);
    clock.time = 59_000;
    expect((await sessionOf(app, cookie)).get('x')).toBe(1);
    await store.touch(session.id, 60);
    clock.time = 118_000;
    expect((await sessionOf(app, cookie)).get('x')).toBe(1);
    clock.time = 119_000;
    const expired = await sessionOf(app, cookie);
    expect(expired.isNew).toBe(true);
    expect(expired.get('x')).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('a validly signed but unknown id gives a fresh session, not that id', async () => {
    const { app } = sessionApp({ time: 0 });
    const unsaved = await sessionOf(app);
    const session = await sessionOf(app, cookieFrom(unsaved));
    expect(session.isNew).toBe(true);
    expect(session.id).not.toBe(unsaved.id);
  });

  it('rotate() changes the id, keeps the data, and the old cookie no longer works', async () => {
    const { app } = sessionApp({ time: 0 });
    const session = await sessionOf(app);
    session.set('cart', [1, 2]);
    await session.save();
    const oldCookie = cookieFrom(session);
    const oldId = session.id;
    await session.rotate();
    expect(session.id).not.toBe(oldId);
    expect(session.get('cart')).toEqual([1, 2]);
    expect((await sessionOf(app, cookieFrom(session))).get('cart')).toEqual([1, 2]);
    expect((await sessionOf(app, oldCookie)).isNew).toBe(true);
  });

  it('secret rotation: signs with the first secret, accepts any', async () => {
    const oldSecret = 'the-old-secret-of-enough-length';
    const clock = { time: 0 };
    const store = new MemorySessionStore({ now: () => clock.time });
    const before = SessionMiddlewareStack(ChatConsumer, { secret: oldSecret, maxAge: 60, store });
    const after = SessionMiddlewareStack(ChatConsumer, { secret: [SECRET, oldSecret], maxAge: 60, store });
    const dropped = SessionMiddlewareStack(ChatConsumer, { secret: [SECRET], maxAge: 60, store });
    const session = await sessionOf(before);
    session.set('k', 'v');
    await session.save();
    const oldCookie = cookieFrom(session);
    const carried = await sessionOf(after, oldCookie);
    expect(carried.get('k')).toBe('v');
    expect(cookieFrom(carried)).not.toBe(oldCookie);
    expect((await sessionOf(dropped, cookieFrom(carried))).get('k')).toBe('v');
    expect((await sessionOf(dropped, oldCookie)).isNew).toBe(true);
  });

  it('the memory store is bounded and hands out copies', async () => {
    const store = new MemorySessionStore({ maxEntries: 2 });
    await store.set('a', { n: 1 }, 60);
    await store.set('b', { n: 2 }, 60);
    await store.set('c', { n: 3 }, 60);
    expect(store.size).toBe(2);
    expect(await store.get('a')).toBeUndefined();
    const got = await store.get('b');
    got!.n = 99;
    expect(await store.get('b')).toEqual({ n: 2 });
  });

  it('rejects weak or missing secrets when built', () => {
    expect(() => SessionMiddlewareStack(ChatConsumer, { secret: 'short' })).toThrow(BuffereventError);
    expect(() => SessionMiddlewareStack(ChatConsumer, { secret: [] })).toThrow(BuffereventError);
    expect(() => SessionMiddlewareStack(ChatConsumer, { secret: SECRET, maxAge: 0 })).toThrow(
      BuffereventError,
    );
  });
});

describe('AuthMiddlewareStack', () => {
  const users = new Map([['7', { id: '7', name: 'ada', isAuthenticated: true }]]);

  it('end to end: anonymous, login, the user on the next connection, unknown user', async () => {
    const getUserCalls: string[] = [];
    const app = new URLRouter([
      path(
        'ws/',
        AuthMiddlewareStack(new URLRouter([path('chat/<room>/', ChatConsumer)]), {
          secret: SECRET,
          getUser: (id: string) => {
            getUserCalls.push(id);
            return Promise.resolve(users.get(id));
          },
        }),
      ),
    ]);
    const first = resolveWith(app, [], 'ws/chat/lobby/');
    expect(first?.app).toBe(ChatConsumer);
    const scope = await prepareScope(first!);
    expect(scope.user).toBe(ANONYMOUS_USER);
    expect(scope.urlRoute?.kwargs).toEqual({ room: 'lobby' });
    expect(getUserCalls).toEqual([]);

    const session = scope.session as Session;
    const anonymousId = session.id;
    await login(session, '7');
    expect(session.id).not.toBe(anonymousId);
    const second = await prepareScope(resolveWith(app, [['cookie', cookieFrom(session)]], 'ws/chat/lobby/')!);
    expect(second.user).toEqual({ id: '7', name: 'ada', isAuthenticated: true });
    expect(getUserCalls).toEqual(['7']);

    session.set(SESSION_USER_ID_KEY, 'gone');
    await session.save();
    const third = await prepareScope(resolveWith(app, [['cookie', cookieFrom(session)]], 'ws/chat/lobby/')!);
    expect(third.user).toBe(ANONYMOUS_USER);
    expect(getUserCalls).toEqual(['7', 'gone']);
    // An unmatched path is still a 404 (null) through the stack.
    expect(resolveWith(app, [], 'ws/nowhere/')).toBeNull();
  });

  it('getUser throwing: anonymous user, the error handed to onError once', async () => {
    const failure = new Error('user database down');
    const errors: unknown[] = [];
    const options = {
      secret: SECRET,
      getUser: () => Promise.reject(failure),
      onError: (error: unknown) => errors.push(error),
    };
    const app = AuthMiddlewareStack(ChatConsumer, options);
    const scope = await prepareScope(resolveWith(app, [])!);
    const session = scope.session as Session;
    await login(session, '7');
    const next = await prepareScope(resolveWith(app, [['cookie', cookieFrom(session)]])!);
    expect(next.user).toBe(ANONYMOUS_USER);
    expect(errors).toEqual([failure]);
  });

  it('getUser throwing without onError rejects prepareScope with that error', async () => {
    const failure = new Error('user database down');
    const store = new MemorySessionStore();
    const app = AuthMiddlewareStack(ChatConsumer, {
      secret: SECRET,
      store,
      getUser: () => Promise.reject(failure),
    });
    const session = (await prepareScope(resolveWith(app, [])!)).session as Session;
    await login(session, '7');
    await expect(prepareScope(resolveWith(app, [['cookie', cookieFrom(session)]])!)).rejects.toBe(failure);
  });
});
