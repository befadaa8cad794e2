// CookieMiddleware: parses the Cookie header(s) of `scope.headers` into `scope.cookies`, as Channels'
// CookieMiddleware. Synchronous (it runs in `resolve`), and it never throws on what a client sent:
// a pair without '=' or with an empty name is skipped, a value that does not percent-decode is kept
// as sent, surrounding double quotes are removed. When a name appears twice the first wins (browsers
// send the most specific cookie first). Several Cookie headers are read in order as one list.
import {
  resolveApplication,
  routesByPrefix,
  type Application,
  type Resolved,
  type RoutingApplication,
  type Scope,
} from '../routing.ts';
import { headerValues } from './headers.ts';

/** Parses Cookie header values into a null-prototype record (so '__proto__' is just a name). */
export function parseCookies(headerValuesList: readonly string[]): Record<string, string> {
  const cookies: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const header of headerValuesList) {
    for (const part of header.split(';')) {
      const equals = part.indexOf('=');
      if (equals < 0) continue;
      const name = part.slice(0, equals).trim();
      if (name === '' || name in cookies) continue;
      let value = part.slice(equals + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      cookies[name] = decodeOrKeep(value);
    }
  }
  return cookies;
}

function decodeOrKeep(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Puts the request's cookies in `scope.cookies` for the wrapped application. */
export class CookieMiddleware implements RoutingApplication {
  readonly routesByPrefix: boolean;
  readonly #app: Application;

  constructor(app: Application) {
    this.#app = app;
    this.routesByPrefix = routesByPrefix(app);
  }

  resolve(scope: Scope): Resolved | null {
    const cookies = parseCookies(headerValues(scope.headers, 'cookie'));
    return resolveApplication(this.#app, { ...scope, cookies });
  }
}
