// OriginValidator and AllowedHostsOriginValidator, as in Channels' security/websocket.py: refuse a
// WebSocket handshake whose Origin header is not allowed, with HTTP 403 before the upgrade.
//
// Origins are parsed strictly (scheme "://" host [":" port], nothing else; 'null', paths, userinfo,
// bad ports are malformed and refused). Scheme and host compare case-insensitively, ports exactly
// after the default ports are filled in (http/ws 80, https/wss 443). A missing Origin is refused unless
// `allowMissingOrigin: true` (Channels lets '*' allow it; here it must be said explicitly).
import { BuffereventError } from '../../errors.ts';
import {
  resolveApplication,
  routesByPrefix,
  type Application,
  type Resolved,
  type RoutingApplication,
  type Scope,
} from '../routing.ts';
import { headerValues } from './headers.ts';
import { refuse } from './prepare.ts';

export interface ParsedOrigin {
  readonly scheme: string;
  readonly host: string;
  /** The port, the scheme's default when the origin has none, or undefined for an unknown scheme. */
  readonly port: number | undefined;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443, ws: 80, wss: 443 };
const ORIGIN =
  /^([a-z][a-z0-9+.-]*):\/\/(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)(?::(\d{1,5}))?$/i;

/** Parses an Origin header value strictly; null when malformed. */
export function parseOrigin(value: string): ParsedOrigin | null {
  const match = ORIGIN.exec(value);
  if (match === null) return null;
  const scheme = match[1]!.toLowerCase();
  const host = match[2]!.toLowerCase();
  let port: number | undefined = DEFAULT_PORTS[scheme];
  if (match[3] !== undefined) {
    port = Number(match[3]);
    if (port < 1 || port > 65535) return null;
  }
  return { scheme, host, port };
}

/** Django's is_same_domain: '.example.com' matches example.com and its subdomains; '*' anything. */
export function isSameDomain(host: string, pattern: string): boolean {
  const lowered = pattern.toLowerCase();
  if (lowered === '*') return true;
  if (lowered.startsWith('.')) return host.endsWith(lowered) || host === lowered.slice(1);
  return host === lowered;
}

interface OriginPattern {
  readonly text: string;
  /** Undefined: any scheme and port (a host-only pattern such as 'example.com' or '.example.com'). */
  readonly scheme: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
}

const PATTERN = /^(?:([a-z][a-z0-9+.-]*):\/\/)?(\*|\.?[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/i;

function compilePattern(text: unknown, where: string): OriginPattern {
  const match = typeof text === 'string' ? PATTERN.exec(text) : null;
  if (match === null) {
    throw new BuffereventError(
      `${where}: ${JSON.stringify(text)} is not an origin pattern ('*', 'example.com', '.example.com', 'https://example.com:8443')`,
      'ERR_INVALID_ARG',
    );
  }
  const scheme = match[1]?.toLowerCase();
  const port =
    match[3] !== undefined ? Number(match[3]) : scheme !== undefined ? DEFAULT_PORTS[scheme] : undefined;
  return { text: text as string, scheme, host: match[2]!.toLowerCase(), port };
}

function matchesPattern(origin: ParsedOrigin, pattern: OriginPattern): boolean {
  if (pattern.host === '*' && pattern.scheme === undefined) return true;
  if (!isSameDomain(origin.host, pattern.host)) return false;
  if (pattern.scheme === undefined) return pattern.port === undefined || pattern.port === origin.port;
  return pattern.scheme === origin.scheme && pattern.port === origin.port;
}

export interface OriginValidatorOptions {
  /** Let a handshake without an Origin header through (non-browser clients). Default false. */
  readonly allowMissingOrigin?: boolean;
}

/** Wraps an application; refuses (403) handshakes whose Origin matches none of `allowedOrigins`. */
export class OriginValidator implements RoutingApplication {
  readonly routesByPrefix: boolean;
  readonly #app: Application;
  readonly #patterns: readonly OriginPattern[];
  readonly #allowMissing: boolean;

  constructor(app: Application, allowedOrigins: readonly string[], options: OriginValidatorOptions = {}) {
    if (!Array.isArray(allowedOrigins))
      throw new BuffereventError(
        'OriginValidator: allowedOrigins must be an array of strings',
        'ERR_INVALID_ARG',
      );
    this.#app = app;
    this.#patterns = allowedOrigins.map((text) => compilePattern(text, 'OriginValidator'));
    this.#allowMissing = options.allowMissingOrigin === true;
    this.routesByPrefix = routesByPrefix(app);
  }

  /** Whether an Origin header value (undefined: none) is allowed. */
  isAllowed(origin: string | undefined): boolean {
    if (origin === undefined) return this.#allowMissing;
    const parsed = parseOrigin(origin);
    if (parsed === null) return false;
    return this.#patterns.some((pattern) => matchesPattern(parsed, pattern));
  }

  resolve(scope: Scope): Resolved | null {
    const values = headerValues(scope.headers, 'origin');
    // Several Origin headers are ambiguous: refuse rather than pick one.
    if (values.length > 1) return refuse(scope, 403, 'several Origin headers');
    if (!this.isAllowed(values[0]))
      return refuse(scope, 403, values.length === 0 ? 'missing Origin header' : 'origin not allowed');
    return resolveApplication(this.#app, scope);
  }
}

/**
 * Channels' AllowedHostsOriginValidator: the Origin's host must match one of `allowedHosts` (Django's
 * ALLOWED_HOSTS: 'example.com', '.example.com' for it and its subdomains, '*'), any scheme and port.
 */
export function AllowedHostsOriginValidator(
  app: Application,
  allowedHosts: readonly string[],
  options: OriginValidatorOptions = {},
): OriginValidator {
  if (!Array.isArray(allowedHosts))
    throw new BuffereventError(
      'AllowedHostsOriginValidator: allowedHosts must be an array of strings',
      'ERR_INVALID_ARG',
    );
  for (const host of allowedHosts) {
    if (typeof host !== 'string' || host.includes('://'))
      throw new BuffereventError(
        `AllowedHostsOriginValidator: ${JSON.stringify(host)} is not a host pattern (no scheme)`,
        'ERR_INVALID_ARG',
      );
  }
  return new OriginValidator(app, allowedHosts, options);
}
