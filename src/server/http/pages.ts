// The bundled server's pages: login (CSRF token, throttling, session rotation), logout, the chat and
// tail pages (for logged-in users; others are sent to the login page), their assets, a small JSON
// API the pages read, and /metrics (admins, or requests from this machine).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Session } from '../../channels/middleware/session.ts';
import { login, logout } from '../../channels/middleware/auth.ts';
import type { EventLog } from '../event-log.ts';
import type { Metrics } from '../metrics.ts';
import { clientInfo, type ClientInfo, type TrustProxy } from './client-info.ts';
import { FormTooLarge, readForm } from './form.ts';
import type { PageSessions } from './page-session.ts';
import { redirect, renderTemplate, send, sendHtml, sendJson, sendText } from './responses.ts';
import type { StaticFile } from './static-files.ts';

export interface DirectoryUser {
  readonly name: string;
  readonly admin: boolean;
}

/** The users (the users file): checks passwords and finds users. */
export interface UserDirectory {
  /** The user when `password` is theirs, else null; as slow for unknown users as for known ones. */
  verify(username: string, password: string): Promise<DirectoryUser | null>;
  get(username: string): Promise<DirectoryUser | undefined>;
}

/**
 * Login throttling by user and by client address: `begin` counts the attempt before the password is
 * checked and says whether it may be checked at all; `succeeded` clears the user's count.
 */
export interface LoginGate {
  begin(
    username: string,
    address: string,
  ): Promise<{ readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number }>;
  succeeded(username: string, address: string): Promise<void> | void;
}

export interface PageTemplates {
  readonly login: string;
  readonly chat: string;
  readonly tail: string;
}

export interface PagesOptions {
  readonly sessions: PageSessions;
  readonly users: UserDirectory;
  readonly loginGate: LoginGate;
  readonly templates: PageTemplates;
  readonly staticFiles: ReadonlyMap<string, StaticFile>;
  readonly metrics: Metrics;
  readonly log: EventLog;
  readonly trustProxy: TrustProxy;
  /** The log files a user may follow: id and title only, never the path. */
  readonly logsFor: (username: string) => { id: string; title: string }[];
  /** Chat rooms with someone in them (every worker's, when the rooms are in Redis). */
  readonly activeRooms: () =>
    { room: string; members: number }[] | Promise<{ room: string; members: number }[]>;
  readonly maxFormBytes?: number;
  /** The chat's longest message, for the page's input. */
  readonly chatMessageChars: number;
  /** Called with the id of a session that signed out (before it is dropped), to end its WebSockets. */
  readonly onSignOut?: (sessionId: string) => Promise<void>;
}

const ROOM_PAGE = /^\/chat\/([A-Za-z0-9_-]{1,64})\/$/;

/** A local path to go back to after login; anything else (another site, odd forms) is refused. */
export function safeNextPath(next: string | null): string {
  if (next === null || !next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return '/chat/';
  if (/[\u0000-\u001f\u007f]/.test(next)) return '/chat/';
  return next;
}

export class Pages {
  readonly #options: PagesOptions;

  constructor(options: PagesOptions) {
    this.#options = options;
  }

  /** The http entry of the application. */
  readonly handle = (request: IncomingMessage, response: ServerResponse): Promise<void> =>
    this.#route(request, response).catch((error: unknown) => {
      this.#options.log.event('http.error', { path: request.url, error }, 'error');
      if (!response.headersSent) sendText(response, 500, 'Internal Server Error\n');
      else response.destroy();
    });

  async #route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://server.invalid');
    const client = this.#client(request);
    const method = request.method ?? 'GET';
    const path = url.pathname;
    if (path.startsWith('/static/')) return this.#static(request, response, path.slice('/static/'.length));
    if (path === '/metrics') return this.#metrics(request, response, client);
    if (path === '/healthz') return sendText(response, 200, 'ok\n');
    const session = await this.#options.sessions.load(request);
    if (path === '/login') {
      if (method === 'POST') return this.#login(request, response, session, client);
      if (method !== 'GET') return this.#methodNotAllowed(response, 'GET, POST');
      return this.#loginPage(response, session, client, 200, '', url.searchParams.get('next'));
    }
    if (path === '/logout') {
      if (method !== 'POST') return this.#methodNotAllowed(response, 'POST');
      return this.#logout(request, response, session, client);
    }
    if (method !== 'GET' && method !== 'HEAD') return this.#methodNotAllowed(response, 'GET');
    const user = await this.#loggedIn(session);
    const username = user?.name;
    const page =
      path === '/' || path === '/chat/' || ROOM_PAGE.test(path)
        ? 'chat'
        : path === '/tail/'
          ? 'tail'
          : undefined;
    if (page !== undefined) {
      if (username === undefined) {
        return redirect(response, `/login?next=${encodeURIComponent(path === '/' ? '/chat/' : path)}`);
      }
      if (path === '/') return redirect(response, '/chat/');
      const html = renderTemplate(this.#options.templates[page], {
        user: username,
        maxMessageChars: String(this.#options.chatMessageChars),
      });
      return sendHtml(response, 200, html, {
        'set-cookie': await this.#options.sessions.commit(session, client.secure),
      });
    }
    if (path === '/api/session') {
      if (username === undefined) return sendJson(response, 401, { error: 'not logged in' });
      const csrfToken = this.#options.sessions.csrfToken(session);
      const cookies = await this.#options.sessions.commit(session, client.secure);
      return sendJson(
        response,
        200,
        { user: username, isAdmin: user!.admin, csrfToken },
        { 'set-cookie': cookies },
      );
    }
    if (path === '/api/rooms') {
      if (username === undefined) return sendJson(response, 401, { error: 'not logged in' });
      return sendJson(response, 200, { rooms: await this.#options.activeRooms() });
    }
    if (path === '/api/logs') {
      if (username === undefined) return sendJson(response, 401, { error: 'not logged in' });
      return sendJson(response, 200, { logs: this.#options.logsFor(username) });
    }
    sendText(response, 404, 'Not Found\n');
  }

  #client(request: IncomingMessage): ClientInfo {
    return clientInfo(
      request.socket.remoteAddress,
      (name) => {
        const value = request.headers[name];
        return Array.isArray(value) ? value.join(',') : value;
      },
      this.#options.trustProxy,
    );
  }

  /** The session's user, if it still exists in the users file (a removed user is logged out). */
  async #loggedIn(session: Session): Promise<DirectoryUser | undefined> {
    const username = this.#options.sessions.username(session);
    if (username === undefined) return undefined;
    try {
      return await this.#options.users.get(username);
    } catch {
      return undefined; // a name the users file no longer accepts
    }
  }

  async #loginPage(
    response: ServerResponse,
    session: Session,
    client: ClientInfo,
    status: number,
    error: string,
    next: string | null,
    extraHeaders: Record<string, string> = {},
  ): Promise<void> {
    const csrfToken = this.#options.sessions.csrfToken(session);
    const html = renderTemplate(this.#options.templates.login, {
      csrfToken,
      error,
      next: safeNextPath(next),
    });
    const cookies = await this.#options.sessions.commit(session, client.secure);
    sendHtml(response, status, html, { ...extraHeaders, 'set-cookie': cookies });
  }

  async #login(
    request: IncomingMessage,
    response: ServerResponse,
    session: Session,
    client: ClientInfo,
  ): Promise<void> {
    const form = await this.#form(request, response);
    if (form === null) return;
    const next = form.get('next');
    if (
      !this.#sameOrigin(request, client) ||
      !this.#options.sessions.csrfMatches(session, form.get('csrfToken'))
    ) {
      this.#options.log.event('login.csrf_refused', { address: client.address }, 'warn');
      return this.#loginPage(
        response,
        session,
        client,
        403,
        'Your login form expired. Please try again.',
        next,
      );
    }
    const username = (form.get('username') ?? '').trim();
    const password = form.get('password') ?? '';
    const gate = this.#options.loginGate;
    const verdict = await gate.begin(username, client.address);
    if (!verdict.allowed) {
      const wait = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
      this.#options.metrics.increment('bufferevent_login_throttled_total');
      this.#options.log.event('login.throttled', { user: username, address: client.address }, 'warn');
      return this.#loginPage(
        response,
        session,
        client,
        429,
        `Too many failed attempts. Try again in ${wait} s.`,
        next,
        {
          'retry-after': String(wait),
        },
      );
    }
    const user =
      username === '' || password === '' ? null : await this.#options.users.verify(username, password);
    if (user === null) {
      this.#options.metrics.increment('bufferevent_login_failures_total');
      this.#options.log.event('login.failed', { user: username, address: client.address }, 'warn');
      return this.#loginPage(response, session, client, 401, 'Wrong username or password.', next);
    }
    await gate.succeeded(username, client.address);
    // A new session id at login (against session fixation), and a new CSRF token with it.
    session.delete('_csrf');
    await login(session, username);
    this.#options.metrics.increment('bufferevent_logins_total');
    this.#options.log.event('login', { user: username, address: client.address });
    redirect(response, safeNextPath(next), {
      'set-cookie': [session.setCookieHeader({ secure: client.secure })],
    });
  }

  async #logout(
    request: IncomingMessage,
    response: ServerResponse,
    session: Session,
    client: ClientInfo,
  ): Promise<void> {
    const form = await this.#form(request, response);
    if (form === null) return;
    if (
      !this.#sameOrigin(request, client) ||
      !this.#options.sessions.csrfMatches(session, form.get('csrfToken'))
    ) {
      return sendText(response, 403, 'Forbidden: the form expired; reload the page\n');
    }
    const username = this.#options.sessions.username(session);
    const endedId = session.id;
    await logout(session);
    await this.#options
      .onSignOut?.(endedId)
      .catch((error: unknown) => this.#options.log.event('logout.sockets_error', { error }, 'error'));
    this.#options.log.event('logout', { user: username, address: client.address });
    redirect(response, '/login', {
      'set-cookie': [this.#options.sessions.clearCookie(session, client.secure)],
    });
  }

  /** The posted form, or null after answering 413 for one over the size limit. */
  async #form(request: IncomingMessage, response: ServerResponse): Promise<URLSearchParams | null> {
    try {
      return await readForm(request, this.#options.maxFormBytes ?? 8 * 1024);
    } catch (error) {
      if (!(error instanceof FormTooLarge)) throw error;
      sendText(response, 413, 'Payload Too Large\n');
      return null;
    }
  }

  /** A form POST's Origin, when the browser sends one, must be this server's. */
  #sameOrigin(request: IncomingMessage, client: ClientInfo): boolean {
    const origin = request.headers.origin;
    if (origin === undefined) return true; // the CSRF token still has to match
    const host = request.headers.host;
    if (host === undefined) return false;
    const forwarded = request.headers['x-forwarded-host'];
    const hosts = [host, ...(client.secure && typeof forwarded === 'string' ? [forwarded] : [])];
    return hosts.some((candidate) => origin === `http://${candidate}` || origin === `https://${candidate}`);
  }

  #static(request: IncomingMessage, response: ServerResponse, name: string): void {
    const file = this.#options.staticFiles.get(name);
    if (file === undefined) return sendText(response, 404, 'Not Found\n');
    if (request.headers['if-none-match'] === file.etag) {
      response.writeHead(304, { etag: file.etag });
      response.end();
      return;
    }
    send(response, 200, file.contentType, file.body, { etag: file.etag, 'cache-control': 'no-cache' });
  }

  async #metrics(request: IncomingMessage, response: ServerResponse, client: ClientInfo): Promise<void> {
    const local = client.address === '127.0.0.1' || client.address === '::1';
    let allowed = local;
    if (!allowed) {
      const session = await this.#options.sessions.load(request);
      allowed = (await this.#loggedIn(session))?.admin === true;
    }
    if (!allowed) return sendText(response, 403, 'Forbidden: /metrics is for admins and for this machine\n');
    send(response, 200, 'text/plain; version=0.0.4; charset=utf-8', this.#options.metrics.render());
  }

  #methodNotAllowed(response: ServerResponse, allow: string): void {
    sendText(response, 405, 'Method Not Allowed\n', { allow });
  }
}
