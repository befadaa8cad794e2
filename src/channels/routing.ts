// Channels routing: ProtocolTypeRouter, URLRouter, path() and rePath(), as in Django Channels.
//
// Routing is pure: resolving a scope runs no application code. `serve()` resolves a WebSocket
// handshake's scope before the upgrade (`resolveWebSocket`), refuses it with 404 when nothing matches,
// and otherwise runs the application it got, with the scope it got.
//
// How routes match (converters, nesting, percent-decoding, kwargs) is documented in
// docs/channels.md § Routing.
import { BuffereventError } from '../errors.ts';
import { compileRegex, compileRoute, decodePath, invalidRoute, type Pattern } from './route-pattern.ts';

export { decodePath } from './route-pattern.ts';

export interface UrlRoute {
  readonly args: readonly (string | undefined)[];
  readonly kwargs: Readonly<Record<string, unknown>>;
}

/** The connection's description, as Channels' scope (camelCase). Routers add to a copy of it. */
export interface Scope {
  readonly type: string;
  /** Percent-encoded, as in the request line (without the query string), until a router decoded it. */
  readonly path?: string;
  /** The prefix the application is mounted under (ASGI's root_path), decoded; removed before routing. */
  readonly rootPath?: string;
  readonly rawPath?: string;
  readonly pathRemaining?: string;
  readonly urlRoute?: UrlRoute;
  readonly [key: string]: unknown;
}

/** A leaf application: a consumer class or a request handler. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type LeafApplication = Function;

export interface Resolved {
  readonly app: LeafApplication;
  readonly scope: Scope;
}

/** A router or middleware: finds the leaf to run for a scope, or null when nothing matches. */
export interface RoutingApplication {
  resolve(scope: Scope): Resolved | null;
  /** True for routers that match a path prefix when nested under `path()` (URLRouter). */
  readonly routesByPrefix?: boolean;
}

export type Application = LeafApplication | RoutingApplication;

function invalidApplication(message: string): BuffereventError {
  return new BuffereventError(message, 'ERR_INVALID_APPLICATION');
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return typeof value;
}

/** Throws ERR_INVALID_APPLICATION unless `value` has an application's shape. */
export function assertApplication(value: unknown, where: string): asserts value is Application {
  if (typeof value === 'function') return;
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as RoutingApplication).resolve === 'function'
  )
    return;
  throw invalidApplication(
    `${where}: expected an application (a consumer class or handler function, or a router with ` +
      `resolve(scope)), got ${describeValue(value)}`,
  );
}

/** Resolves any application: a leaf resolves to itself with the scope unchanged. */
export function resolveApplication(application: Application, scope: Scope): Resolved | null {
  if (typeof application === 'function') return { app: application, scope };
  return application.resolve(scope);
}

/** One entry of a URLRouter, made by `path()` or `rePath()`. */
export class Route {
  readonly app: Application;
  readonly pattern: Pattern;
  readonly name: string | undefined;
  readonly extraKwargs: Readonly<Record<string, unknown>>;

  /** @internal Use path() or rePath(). */
  constructor(app: Application, pattern: Pattern, options: RouteOptions | undefined, where: string) {
    this.app = app;
    this.pattern = pattern;
    if (options !== undefined && (typeof options !== 'object' || options === null))
      throw invalidRoute(`${where}: options must be an object`);
    if (options?.name !== undefined && typeof options.name !== 'string')
      throw invalidRoute(`${where}: name must be a string`);
    if (options?.kwargs !== undefined && (typeof options.kwargs !== 'object' || options.kwargs === null))
      throw invalidRoute(`${where}: kwargs must be an object`);
    this.name = options?.name;
    this.extraKwargs = Object.freeze({ ...options?.kwargs });
  }
}

export interface RouteOptions {
  /** The route's name (Django's `name=`); kept on the Route for tools and messages. */
  readonly name?: string;
  /** Extra kwargs for this route (Django's `kwargs=`), overriding captured ones of the same name. */
  readonly kwargs?: Readonly<Record<string, unknown>>;
}

/** Whether `app` is a router (or wraps one) that matches a prefix of the path, not the whole of it. */
export function routesByPrefix(app: Application): boolean {
  return typeof app !== 'function' && app.routesByPrefix === true;
}

/** A Django `path()` route: `path('ws/chat/<str:room_name>/', ChatConsumer)`. */
export function path(route: string, app: Application, options?: RouteOptions): Route {
  assertApplication(app, `path(${JSON.stringify(route)})`);
  return new Route(app, compileRoute(route, !routesByPrefix(app)), options, 'path()');
}

/** A Django `re_path()` route: `rePath(/^ws\/tail\/(?<id>\d+)\/$/, TailConsumer)`. */
export function rePath(regex: RegExp | string, app: Application, options?: RouteOptions): Route {
  assertApplication(app, `rePath(${String(regex)})`);
  return new Route(app, compileRegex(regex, !routesByPrefix(app)), options, 'rePath()');
}

/** Routes a scope by its path, trying `routes` in order. */
export class URLRouter implements RoutingApplication {
  readonly routes: readonly Route[];
  readonly routesByPrefix = true;

  constructor(routes: readonly Route[]) {
    if (!Array.isArray(routes))
      throw invalidRoute('URLRouter: routes must be an array of path()/rePath() routes');
    for (const [index, route] of routes.entries()) {
      if (!(route instanceof Route)) {
        throw invalidRoute(
          `URLRouter: routes[${index}] is ${describeValue(route)}, not a path() or rePath() route`,
        );
      }
    }
    this.routes = Object.freeze([...routes]);
  }

  resolve(scope: Scope): Resolved | null {
    let remaining = scope.pathRemaining;
    let extended = scope;
    if (remaining === undefined) {
      // The outermost router: decode the request path once; nested routers get pathRemaining.
      if (typeof scope.path !== 'string') {
        throw new BuffereventError(
          `URLRouter: scope.path must be a string, got ${describeValue(scope.path)}`,
          'ERR_INVALID_ARG',
        );
      }
      const decoded = decodePath(scope.path);
      if (decoded === null) return null;
      const rootPath = typeof scope.rootPath === 'string' ? scope.rootPath : '';
      if (!decoded.startsWith(rootPath)) return null;
      remaining = decoded.slice(rootPath.length);
      extended = { ...scope, rawPath: scope.rawPath ?? scope.path, path: decoded };
    }
    remaining = withoutLeadingSlashes(remaining);
    const outer = scope.urlRoute ?? { args: [], kwargs: {} };
    for (const route of this.routes) {
      const found = route.pattern.match(remaining);
      if (found === null) continue;
      const inner: Scope = {
        ...extended,
        pathRemaining: found.rest,
        urlRoute: {
          args: [...outer.args, ...found.args],
          kwargs: { ...outer.kwargs, ...found.kwargs, ...route.extraKwargs },
        },
      };
      const resolved = resolveApplication(route.app, inner);
      if (resolved !== null) return resolved;
    }
    return null;
  }

  /** Whether some route matches the scope. */
  matches(scope: Scope): boolean {
    return this.resolve(scope) !== null;
  }
}

function withoutLeadingSlashes(text: string): string {
  let start = 0;
  while (text.charCodeAt(start) === 0x2f) start++;
  return text.slice(start);
}

/** The protocol types a ProtocolTypeRouter may have entries for: those `serve()` speaks. */
export const PROTOCOL_TYPES: readonly string[] = Object.freeze(['websocket', 'http']);

function unknownProtocol(message: string): BuffereventError {
  return new BuffereventError(message, 'ERR_UNKNOWN_PROTOCOL');
}

/** Dispatches on `scope.type`: `new ProtocolTypeRouter({ websocket: urlRouter, http: expressApp })`. */
export class ProtocolTypeRouter implements RoutingApplication {
  readonly #entries: ReadonlyMap<string, Application>;

  constructor(mapping: Readonly<Record<string, Application>>) {
    if (typeof mapping !== 'object' || mapping === null || Array.isArray(mapping)) {
      throw invalidApplication(
        `ProtocolTypeRouter: expected a mapping such as { websocket, http }, got ${describeValue(mapping)}`,
      );
    }
    const entries = new Map<string, Application>();
    for (const [type, app] of Object.entries(mapping)) {
      if (!PROTOCOL_TYPES.includes(type)) {
        throw unknownProtocol(
          `ProtocolTypeRouter: unknown protocol type ${JSON.stringify(type)} (known: ${PROTOCOL_TYPES.join(', ')})`,
        );
      }
      assertApplication(app, `ProtocolTypeRouter: ${type}`);
      entries.set(type, app);
    }
    if (entries.size === 0) throw invalidApplication('ProtocolTypeRouter: the mapping has no protocol type');
    this.#entries = entries;
  }

  /** The protocol types this router has an entry for. */
  get protocolTypes(): string[] {
    return [...this.#entries.keys()];
  }

  /** Resolves through the entry for `scope.type`; throws ERR_UNKNOWN_PROTOCOL when there is none. */
  resolve(scope: Scope): Resolved | null {
    const app = typeof scope.type === 'string' ? this.#entries.get(scope.type) : undefined;
    if (app === undefined) {
      throw unknownProtocol(
        `ProtocolTypeRouter: no application for protocol type ${JSON.stringify(scope.type)} ` +
          `(this router has: ${this.protocolTypes.join(', ')})`,
      );
    }
    return resolveApplication(app, scope);
  }

  matches(scope: Scope): boolean {
    return this.resolve(scope) !== null;
  }
}

/** Whether `application` can take scopes of `type` (for `serve()`'s start-up check). */
export function supportsProtocol(application: Application, type: string): boolean {
  if (application instanceof ProtocolTypeRouter) return application.protocolTypes.includes(type);
  return true;
}

/**
 * Resolves a WebSocket handshake's scope, for `serve()` before the upgrade: null when no route
 * matches (answer 404). Throws ERR_UNKNOWN_PROTOCOL if the application has no 'websocket' entry.
 */
export function resolveWebSocket(application: Application, scope: Omit<Scope, 'type'>): Resolved | null {
  assertApplication(application, 'resolveWebSocket');
  return resolveApplication(application, { ...scope, type: 'websocket' });
}
