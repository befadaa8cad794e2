// AuthMiddleware: `scope.user` from the session's user id, as Channels' AuthMiddleware. Needs
// `scope.session` (SessionMiddleware outside it; AuthMiddlewareStack is Cookie → Session → Auth).
// The lookup runs as a prepare step (see prepare.ts) through the async `getUser(id)` you give.
//
// No user id, an unknown user (getUser returns null/undefined) or a getUser that throws: the
// anonymous user `{ isAuthenticated: false }` (Channels' AnonymousUser). A throw is not swallowed: it
// goes to `onError(error, scope)`; without `onError` the prepare step rejects, so serve() refuses the
// connection (500) instead of silently treating a broken user database as "logged out".
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
import type { Session } from './session.ts';
import { SessionMiddleware, type SessionMiddlewareOptions } from './session-middleware.ts';

/** The session key holding the user id (Django's). */
export const SESSION_USER_ID_KEY = '_auth_user_id';

export interface AnonymousUser {
  readonly isAuthenticated: false;
}

export const ANONYMOUS_USER: AnonymousUser = Object.freeze({ isAuthenticated: false });

export interface AuthMiddlewareOptions<User> {
  /** The user with this id, or null/undefined when there is none. */
  readonly getUser: (id: string) => Promise<User | null | undefined>;
  /** Called when getUser throws; the connection then goes on with the anonymous user. */
  readonly onError?: (error: unknown, scope: Scope) => void;
}

export class AuthMiddleware<User = unknown> implements RoutingApplication {
  readonly routesByPrefix: boolean;
  readonly #app: Application;
  readonly #options: AuthMiddlewareOptions<User>;

  constructor(app: Application, options: AuthMiddlewareOptions<User>) {
    if (typeof options?.getUser !== 'function')
      throw new BuffereventError(
        'AuthMiddleware: options.getUser must be an async function',
        'ERR_INVALID_ARG',
      );
    if (options.onError !== undefined && typeof options.onError !== 'function')
      throw new BuffereventError('AuthMiddleware: options.onError must be a function', 'ERR_INVALID_ARG');
    this.#app = app;
    this.#options = options;
    this.routesByPrefix = routesByPrefix(app);
  }

  resolve(scope: Scope): Resolved | null {
    return resolveApplication(
      this.#app,
      withPrepareStep(scope, (prepared) => this.#load(prepared)),
    );
  }

  async #load(scope: Scope): Promise<Scope> {
    const session = scope.session as Session | undefined;
    if (session === undefined)
      throw new BuffereventError(
        'AuthMiddleware: scope.session is missing (wrap it in SessionMiddleware)',
        'ERR_INVALID_ARG',
      );
    const id = session.get(SESSION_USER_ID_KEY);
    if (typeof id !== 'string') return { ...scope, user: ANONYMOUS_USER };
    let user: User | null | undefined;
    try {
      user = await this.#options.getUser(id);
    } catch (error) {
      if (this.#options.onError === undefined) throw error;
      this.#options.onError(error, scope);
      user = undefined;
    }
    return { ...scope, user: user ?? ANONYMOUS_USER };
  }
}

/** Logs `userId` in on this session: stores it and rotates the session id (Channels' login()). */
export async function login(session: Session, userId: string): Promise<void> {
  session.set(SESSION_USER_ID_KEY, userId);
  await session.rotate();
}

/** Logs out: the session's data and id are dropped (Channels' logout()). */
export async function logout(session: Session): Promise<void> {
  await session.flush();
}

/** Cookie → Session → Auth around `app`, as Channels' AuthMiddlewareStack. */
export function AuthMiddlewareStack<User>(
  app: Application,
  options: SessionMiddlewareOptions & AuthMiddlewareOptions<User>,
): CookieMiddleware {
  return new CookieMiddleware(new SessionMiddleware(new AuthMiddleware(app, options), options));
}
