// Sessions on the page side: the same signed-cookie sessions the WebSocket side reads (one
// SessionMiddleware serves both), a CSRF token kept in the session for the forms, and the user the
// session is logged in as.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parseCookies } from '../../channels/middleware/cookies.ts';
import { SESSION_USER_ID_KEY } from '../../channels/middleware/auth.ts';
import type { Session } from '../../channels/middleware/session.ts';
import type { SessionMiddleware } from '../../channels/middleware/session-middleware.ts';

const CSRF_KEY = '_csrf';

export class PageSessions {
  readonly #sessions: SessionMiddleware;

  constructor(sessions: SessionMiddleware) {
    this.#sessions = sessions;
  }

  /** The request's session (fresh when its cookie is missing, forged or expired). */
  load(request: IncomingMessage): Promise<Session> {
    const header = request.headers.cookie;
    return this.#sessions.sessionFor(header === undefined ? undefined : parseCookies([header]));
  }

  /** The session's CSRF token, made on first use. */
  csrfToken(session: Session): string {
    const existing = session.get(CSRF_KEY);
    if (typeof existing === 'string') return existing;
    const token = randomBytes(24).toString('base64url');
    session.set(CSRF_KEY, token);
    return token;
  }

  /** Whether a form's token is the session's (constant-time). A session without one never matches. */
  csrfMatches(session: Session, given: string | null): boolean {
    const expected = session.get(CSRF_KEY);
    if (typeof expected !== 'string' || given === null) return false;
    const a = Buffer.from(expected);
    const b = Buffer.from(given);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** The username the session is logged in as, or undefined. */
  username(session: Session): string | undefined {
    const id = session.get(SESSION_USER_ID_KEY);
    return typeof id === 'string' ? id : undefined;
  }

  /** Saves a changed session; returns the Set-Cookie header to send with the answer, if any. */
  async commit(session: Session, secure: boolean): Promise<string[]> {
    if (!session.modified) return [];
    await session.save();
    return [session.setCookieHeader({ secure })];
  }

  clearCookie(session: Session, secure: boolean): string {
    return session.clearCookieHeader({ secure });
  }
}
