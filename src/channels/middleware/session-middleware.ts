// SessionMiddleware: `scope.session` from the signed session cookie. Needs `scope.cookies`
// (CookieMiddleware outside it; SessionMiddlewareStack does both). The store lookup is async, so it
// runs as a prepare step (see prepare.ts): `scope.session` exists after serve() awaited
// prepareScope(). A forged, tampered, malformed, expired or unknown cookie gives a fresh empty
// session with a new id, never an error and never the id the client sent.
import { BuffereventError } from '../../errors.ts';
import {
  resolveApplication,
  routesByPrefix,
  type Application,
  type Resolved,
  type RoutingApplication,
  type Scope,
} from '../routing.ts';
import { CookieMiddleware } from './cookies.ts';
import { withPrepareStep } from './prepare.ts';
import { Session, type SessionSettings } from './session.ts';
import { MemorySessionStore, type SessionStore } from './session-store.ts';
import { verifySessionCookie } from './signing.ts';

/** Django's SESSION_COOKIE_AGE: two weeks. */
export const DEFAULT_SESSION_MAX_AGE_SECONDS = 1_209_600;

export interface SessionMiddlewareOptions {
  /** The HMAC key, or several: sign with the first, accept any (secret rotation). Required. */
  readonly secret: string | readonly string[];
  readonly cookieName?: string;
  /** Seconds a session lives after it was saved. Default two weeks. */
  readonly maxAge?: number;
  /** Default: a new MemorySessionStore. */
  readonly store?: SessionStore;
}

function invalid(message: string): BuffereventError {
  return new BuffereventError(`SessionMiddleware: ${message}`, 'ERR_INVALID_ARG');
}

export class SessionMiddleware implements RoutingApplication {
  readonly routesByPrefix: boolean;
  readonly store: SessionStore;
  readonly #app: Application;
  readonly #settings: SessionSettings;

  constructor(app: Application, options: SessionMiddlewareOptions) {
    if (typeof options !== 'object' || options === null) throw invalid('options with a secret are required');
    const secrets = typeof options.secret === 'string' ? [options.secret] : options.secret;
    if (
      !Array.isArray(secrets) ||
      secrets.length === 0 ||
      !secrets.every((s) => typeof s === 'string' && s.length >= 16)
    )
      throw invalid('secret must be a string of at least 16 characters, or a non-empty array of them');
    const maxAge = options.maxAge ?? DEFAULT_SESSION_MAX_AGE_SECONDS;
    if (typeof maxAge !== 'number' || !(maxAge > 0) || !Number.isFinite(maxAge))
      throw invalid('maxAge must be a positive number of seconds');
    const cookieName = options.cookieName ?? 'sessionid';
    if (typeof cookieName !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookieName))
      throw invalid('cookieName must be a cookie name token');
    this.store = options.store ?? new MemorySessionStore();
    this.#app = app;
    this.#settings = Object.freeze({
      store: this.store,
      secrets: Object.freeze([...secrets]),
      maxAgeSeconds: maxAge,
      cookieName,
    });
    this.routesByPrefix = routesByPrefix(app);
  }

  resolve(scope: Scope): Resolved | null {
    return resolveApplication(
      this.#app,
      withPrepareStep(scope, (prepared) => this.#load(prepared)),
    );
  }

  async #load(scope: Scope): Promise<Scope> {
    const cookies = scope.cookies as Record<string, string> | undefined;
    return { ...scope, session: await this.sessionFor(cookies) };
  }

  /**
   * The session of a request with these cookies (parsed, as `parseCookies` gives them): the stored
   * one when the session cookie is valid, else a fresh one. For page handlers, which share the
   * sessions of the WebSocket side.
   */
  async sessionFor(cookies: Readonly<Record<string, string>> | undefined): Promise<Session> {
    const cookie = cookies?.[this.#settings.cookieName];
    const id = typeof cookie === 'string' ? verifySessionCookie(cookie, this.#settings.secrets) : undefined;
    const data = id === undefined ? undefined : await this.#settings.store.get(id);
    return data === undefined
      ? new Session(this.#settings, undefined, undefined)
      : new Session(this.#settings, id, data);
  }

  get cookieName(): string {
    return this.#settings.cookieName;
  }
}

/** CookieMiddleware around SessionMiddleware, as Channels' SessionMiddlewareStack. */
export function SessionMiddlewareStack(
  app: Application,
  options: SessionMiddlewareOptions,
): CookieMiddleware {
  return new CookieMiddleware(new SessionMiddleware(app, options));
}
