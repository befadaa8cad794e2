// The bundled server's login: redirects for pages, CSRF, throttling, session rotation, cookie flags,
// logout, and WebSockets refused without a login or from another origin.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { refusalStatus } from '../channels/serve-helpers.ts';
import { waitFor } from '../helpers.ts';
import {
  csrfTokenIn,
  http,
  logIn,
  openSocket,
  sessionCookie,
  siteOrigin,
  startSite,
  type TestSite,
} from './bundled-helpers.ts';

let site: TestSite;
beforeEach(async () => {
  site = await startSite({ limits: { loginAttemptsPerUser: 3 } });
});
afterEach(async () => {
  await site.stop();
});

describe('pages need a login', () => {
  it('sends a visitor without a session to the login page, keeping where they were going', async () => {
    for (const [target, next] of [
      ['/', '/chat/'],
      ['/chat/', '/chat/'],
      ['/chat/lobby/', '/chat/lobby/'],
      ['/tail/', '/tail/'],
    ] as const) {
      const answer = await http(site, 'GET', target);
      expect(answer.status).toBe(303);
      expect(answer.headers.location).toBe(`/login?next=${encodeURIComponent(next)}`);
    }
    expect((await http(site, 'GET', '/api/session')).status).toBe(401);
    expect((await http(site, 'GET', '/api/logs')).status).toBe(401);
  });

  it('serves the login page with a CSRF token and strict security headers', async () => {
    const page = await http(site, 'GET', '/login?next=/tail/');
    expect(page.status).toBe(200);
    expect(csrfTokenIn(page.body)).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(page.body).toContain('name="next" value="/tail/"');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    const cookie = (page.headers['set-cookie'] as string[])[0]!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/); // plain HTTP: a browser would drop a Secure cookie
  });

  it('marks the cookie Secure when a trusted proxy says the client used HTTPS', async () => {
    await site.stop();
    site = await startSite({ trustProxy: true });
    const page = await http(site, 'GET', '/login', { headers: { 'x-forwarded-proto': 'https' } });
    expect((page.headers['set-cookie'] as string[])[0]).toMatch(/; Secure/);
  });
});

describe('logging in', () => {
  it('logs in with the right password, with a new session id (no fixation), and opens the pages', async () => {
    const form = await http(site, 'GET', '/login');
    const before = sessionCookie(form)!;
    const answer = await http(site, 'POST', '/login', {
      cookie: before,
      form: {
        csrfToken: csrfTokenIn(form.body),
        username: 'ann',
        password: 'ann-password-1',
        next: '/tail/',
      },
    });
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe('/tail/');
    const after = sessionCookie(answer)!;
    expect(after).not.toBe(before);
    expect((await http(site, 'GET', '/tail/', { cookie: after })).status).toBe(200);
    // The pre-login session id is gone: it is not logged in and cannot be reused.
    expect((await http(site, 'GET', '/tail/', { cookie: before })).status).toBe(303);
    const session = JSON.parse((await http(site, 'GET', '/api/session', { cookie: after })).body);
    expect(session).toMatchObject({ user: 'ann', isAdmin: true });
    expect(site.events.some((event) => event.event === 'login' && event.user === 'ann')).toBe(true);
  });

  it('refuses a login without the form token, with a wrong one, or from another origin (403)', async () => {
    const form = await http(site, 'GET', '/login');
    const cookie = sessionCookie(form)!;
    const good = { username: 'ann', password: 'ann-password-1' };
    expect((await http(site, 'POST', '/login', { cookie, form: good })).status).toBe(403);
    expect(
      (await http(site, 'POST', '/login', { cookie, form: { ...good, csrfToken: 'x'.repeat(32) } })).status,
    ).toBe(403);
    const crossSite = await http(site, 'POST', '/login', {
      cookie,
      form: { ...good, csrfToken: csrfTokenIn(form.body) },
      headers: { origin: 'http://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    // A token from another session does not work either.
    const other = await http(site, 'GET', '/login');
    expect(
      (await http(site, 'POST', '/login', { cookie, form: { ...good, csrfToken: csrfTokenIn(other.body) } }))
        .status,
    ).toBe(403);
  });

  it('answers a wrong password with 401, then throttles the user (429 with Retry-After) even with the right one', async () => {
    await expect(logIn(site, 'bob', 'wrong-1')).rejects.toThrow('401');
    await expect(logIn(site, 'bob', 'wrong-2')).rejects.toThrow('401');
    await expect(logIn(site, 'bob', 'wrong-3')).rejects.toThrow('401');
    const form = await http(site, 'GET', '/login');
    const throttled = await http(site, 'POST', '/login', {
      cookie: sessionCookie(form)!,
      form: { csrfToken: csrfTokenIn(form.body), username: 'bob', password: 'bob-password-2' },
    });
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    expect(throttled.body).toContain('Too many failed attempts');
    // Another user is not affected.
    expect(await logIn(site, 'ann')).toMatch(/^sessionid=/);
    const failures = site.events.filter((event) => event.event === 'login.failed');
    expect(failures).toHaveLength(3);
    expect(JSON.stringify(site.events)).not.toContain('wrong-1');
  });

  it('goes back only to a local path after login', async () => {
    for (const next of ['https://evil.example/', '//evil.example/', '/\\evil.example']) {
      const form = await http(site, 'GET', '/login');
      const answer = await http(site, 'POST', '/login', {
        cookie: sessionCookie(form)!,
        form: { csrfToken: csrfTokenIn(form.body), username: 'ann', password: 'ann-password-1', next },
      });
      expect(answer.headers.location).toBe('/chat/');
    }
  });

  it('logs out with the form token: the session ends, pages and WebSockets are refused again', async () => {
    const cookie = await logIn(site, 'ann');
    const session = JSON.parse((await http(site, 'GET', '/api/session', { cookie })).body);
    expect((await http(site, 'POST', '/logout', { cookie, form: {} })).status).toBe(403);
    const answer = await http(site, 'POST', '/logout', { cookie, form: { csrfToken: session.csrfToken } });
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe('/login');
    expect((answer.headers['set-cookie'] as string[])[0]).toMatch(/Max-Age=0/);
    expect((await http(site, 'GET', '/chat/', { cookie })).status).toBe(303);
    await expect(openSocket(site, '/ws/chat/lobby/', cookie)).rejects.toMatchObject({ status: 403 });
  });

  it("closes the session's open WebSockets at sign-out (4001), and only that session's", async () => {
    const cookie = await logIn(site, 'ann');
    const otherSession = await logIn(site, 'ann');
    const { csrfToken } = JSON.parse((await http(site, 'GET', '/api/session', { cookie })).body);
    const chat = await openSocket(site, '/ws/chat/lobby/', cookie);
    const tail = await openSocket(site, '/ws/tail/', cookie);
    const otherTab = await openSocket(site, '/ws/chat/lobby/', otherSession);
    expect((await http(site, 'POST', '/logout', { cookie, form: { csrfToken } })).status).toBe(303);
    expect(await chat.closed).toEqual({ code: 4001, reason: 'signed out' });
    expect(await tail.closed).toEqual({ code: 4001, reason: 'signed out' });
    otherTab.socket.send(JSON.stringify({ type: 'message', text: 'still here' }));
    await waitFor(() => otherTab.messages.some((text) => String(text).includes('still here')));
    otherTab.socket.close();
  });
});

describe('WebSockets', () => {
  it('refuses a WebSocket without a login (403), from another origin (403), and without an Origin (403)', async () => {
    await expect(openSocket(site, '/ws/chat/lobby/', undefined)).rejects.toMatchObject({ status: 403 });
    await expect(openSocket(site, '/ws/tail/', undefined)).rejects.toMatchObject({ status: 403 });
    const cookie = await logIn(site, 'ann');
    await expect(openSocket(site, '/ws/chat/lobby/', cookie, 'http://evil.example')).rejects.toMatchObject({
      status: 403,
    });
    expect(await refusalStatus(site.running.server.port, '/ws/chat/lobby/', { cookie })).toBe(403);
    const client = await openSocket(site, '/ws/chat/lobby/', cookie, siteOrigin(site));
    client.socket.close();
  });

  it('answers unknown WebSocket paths with 404', async () => {
    const cookie = await logIn(site, 'ann');
    await expect(openSocket(site, '/ws/nothing/', cookie)).rejects.toMatchObject({ status: 404 });
    await expect(openSocket(site, '/ws/chat/bad%20room/', cookie)).rejects.toMatchObject({ status: 404 });
    await expect(openSocket(site, `/ws/chat/${'x'.repeat(65)}/`, cookie)).rejects.toMatchObject({
      status: 404,
    });
  });
});

describe('metrics', () => {
  it('serves Prometheus text to this machine', async () => {
    await logIn(site, 'ann');
    const answer = await http(site, 'GET', '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    expect(answer.body).toMatch(/^bufferevent_logins_total 1$/m);
    expect(answer.body).toMatch(/^# TYPE bufferevent_consumers gauge$/m);
  });

  it('refuses /metrics to a remote client unless it is an admin', async () => {
    await site.stop();
    site = await startSite({ trustProxy: true });
    const remote = { 'x-forwarded-for': '203.0.113.9' };
    expect((await http(site, 'GET', '/metrics', { headers: remote })).status).toBe(403);
    const bob = await logIn(site, 'bob');
    expect((await http(site, 'GET', '/metrics', { headers: remote, cookie: bob })).status).toBe(403);
    const ann = await logIn(site, 'ann');
    expect((await http(site, 'GET', '/metrics', { headers: remote, cookie: ann })).status).toBe(200);
  });
});
