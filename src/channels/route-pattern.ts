// The matching half of channels routing: Django's path converters, the compilation of `path()`
// routes and `rePath()` regexes into one matcher shape, and the percent-decoding of request paths.
// Nothing here knows about applications or scopes; routing.ts builds the routers on top.
import { BuffereventError } from '../errors.ts';
import { runRoute, type Instruction } from './route-matcher.ts';

/** What one route captured from the start of the path, and the rest of the path it left. */
export interface PatternMatch {
  readonly rest: string;
  /** An unnamed group that took no part in the match is undefined (Python's None), keeping positions. */
  readonly args: readonly (string | undefined)[];
  readonly kwargs: Readonly<Record<string, unknown>>;
}

export interface Pattern {
  /** The route or regex source as written, for messages. */
  readonly describe: string;
  match(path: string): PatternMatch | null;
}

// A converter says which code units a parameter takes, as a sequence of character classes each
// taken once or greedily one-or-more times (Django's converter regexes), and turns the captured text
// into the value put in kwargs, or refuses it (undefined): then the route does not match and the next
// one is tried (Django's ValueError in to_python).
interface Converter {
  readonly parts: readonly {
    readonly test: (unit: number) => boolean;
    readonly repeat: 'one-or-more' | number;
  }[];
  toValue(text: string): unknown;
}

const identity = (text: string): string => text;
const isDigit = (unit: number): boolean => unit >= 0x30 && unit <= 0x39;
const isLowerHex = (unit: number): boolean => isDigit(unit) || (unit >= 0x61 && unit <= 0x66);
const isSlug = (unit: number): boolean =>
  isDigit(unit) ||
  (unit >= 0x41 && unit <= 0x5a) ||
  (unit >= 0x61 && unit <= 0x7a) ||
  unit === 0x2d ||
  unit === 0x5f;
const isDash = (unit: number): boolean => unit === 0x2d;

const converters: ReadonlyMap<string, Converter> = new Map<string, Converter>([
  ['str', { parts: [{ test: (unit) => unit !== 0x2f, repeat: 'one-or-more' }], toValue: identity }],
  // A number, as Django gives an int; digits beyond Number.MAX_SAFE_INTEGER would be rounded into a
  // different id, so they do not match rather than silently naming another object.
  [
    'int',
    {
      parts: [{ test: isDigit, repeat: 'one-or-more' }],
      toValue: (text) => (Number.isSafeInteger(Number(text)) ? Number(text) : undefined),
    },
  ],
  ['slug', { parts: [{ test: isSlug, repeat: 'one-or-more' }], toValue: identity }],
  // Lower-case only, as Django's UUIDConverter; the value stays a string (JavaScript has no UUID type).
  [
    'uuid',
    {
      parts: [8, 0, 4, 0, 4, 0, 4, 0, 12].map((count) =>
        count === 0 ? { test: isDash, repeat: 1 } : { test: isLowerHex, repeat: count },
      ),
      toValue: identity,
    },
  ],
  // Any code unit, line breaks included (a percent-decoded path may contain them).
  ['path', { parts: [{ test: () => true, repeat: 'one-or-more' }], toValue: identity }],
]);

export function invalidRoute(message: string): BuffereventError {
  return new BuffereventError(message, 'ERR_INVALID_ROUTE');
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Compiles a Django `path()` route. `endpoint` routes must match the whole remaining path; the others
 * (a route leading to a nested router) match a prefix and leave the rest to the nested router.
 */
export function compileRoute(route: string, endpoint: boolean): Pattern {
  if (typeof route !== 'string') throw invalidRoute(`path(): route must be a string, got ${typeof route}`);
  // A request path is matched with its leading '/' removed, so such a route could never match.
  if (route.startsWith('/'))
    throw invalidRoute(`path(): route ${JSON.stringify(route)} must not start with '/'`);
  const program: Instruction[] = [];
  const params: { name: string; converter: Converter }[] = [];
  let at = 0;
  while (at < route.length) {
    const open = route.indexOf('<', at);
    const literal = open === -1 ? route.slice(at) : route.slice(at, open);
    if (literal.includes('>')) throw invalidRoute(`path(): unmatched '>' in route ${JSON.stringify(route)}`);
    for (let i = 0; i < literal.length; i++) program.push({ op: 'unit', unit: literal.charCodeAt(i) });
    if (open === -1) break;
    const close = route.indexOf('>', open);
    if (close === -1) throw invalidRoute(`path(): unmatched '<' in route ${JSON.stringify(route)}`);
    const inside = route.slice(open + 1, close);
    const colon = inside.indexOf(':');
    const converterName = colon === -1 ? 'str' : inside.slice(0, colon);
    const name = colon === -1 ? inside : inside.slice(colon + 1);
    const converter = converters.get(converterName);
    if (converter === undefined) {
      throw invalidRoute(
        `path(): unknown converter ${JSON.stringify(converterName)} in route ${JSON.stringify(route)} ` +
          `(known: ${[...converters.keys()].join(', ')})`,
      );
    }
    if (!IDENTIFIER.test(name)) {
      throw invalidRoute(
        `path(): parameter ${JSON.stringify(name)} in route ${JSON.stringify(route)} is not an identifier`,
      );
    }
    if (params.some((param) => param.name === name)) {
      throw invalidRoute(
        `path(): parameter ${JSON.stringify(name)} appears twice in route ${JSON.stringify(route)}`,
      );
    }
    program.push({ op: 'save', slot: 2 * params.length });
    for (const { test, repeat } of converter.parts) {
      const count = repeat === 'one-or-more' ? 1 : repeat;
      for (let i = 0; i < count; i++) program.push({ op: 'class', test });
      if (repeat === 'one-or-more') program.push({ op: 'split', preferred: program.length - 1 });
    }
    program.push({ op: 'save', slot: 2 * params.length + 1 });
    params.push({ name, converter });
    at = close + 1;
  }
  program.push({ op: 'match' });
  const literalStart = params.length === 0 ? route : route.slice(0, route.indexOf('<'));
  return {
    describe: route,
    match(path) {
      // Most routes are refused on their literal start; a route without parameters needs nothing else.
      if (!path.startsWith(literalStart)) return null;
      if (params.length === 0) {
        if (endpoint && path.length !== route.length) return null;
        return { rest: path.slice(route.length), args: [], kwargs: {} };
      }
      const found = runRoute(program, 2 * params.length, path, endpoint);
      if (found === null) return null;
      const kwargs: Record<string, unknown> = {};
      for (const [index, { name, converter }] of params.entries()) {
        const value = converter.toValue(path.slice(found.slots[2 * index], found.slots[2 * index + 1]));
        if (value === undefined) return null;
        kwargs[name] = value;
      }
      return { rest: path.slice(found.end), args: [], kwargs };
    },
  };
}

/**
 * Compiles a `rePath()` regex. As Django's re_path, the regex is searched in the remaining path (anchor
 * it with '^' and '$' yourself); named groups become kwargs (unmatched ones are left out), and the
 * unnamed groups become args only when there is no named group.
 */
export function compileRegex(pattern: RegExp | string, endpoint: boolean): Pattern {
  let source: string;
  let flags = '';
  if (pattern instanceof RegExp) {
    source = pattern.source;
    // 'g' and 'y' make exec() stateful through lastIndex: meaningless for a route, and a trap.
    flags = pattern.flags.replace(/[gy]/g, '');
  } else if (typeof pattern === 'string') {
    source = pattern;
  } else {
    throw invalidRoute(`rePath(): pattern must be a RegExp or a string, got ${typeof pattern}`);
  }
  // Leading to a nested router, the regex must leave the rest of the path: with a final '$' it never
  // could (Django warns about it, urls.W001); refused here so the mistake shows at start-up.
  if (!endpoint && /(?:^|[^\\])(?:\\\\)*\$$/.test(source)) {
    throw invalidRoute(
      `rePath(): ${JSON.stringify(source)} leads to a nested router, so it must not end with '$'`,
    );
  }
  let regex: RegExp;
  try {
    regex = new RegExp(source, flags);
  } catch (error) {
    throw invalidRoute(`rePath(): invalid regex ${JSON.stringify(source)}: ${(error as Error).message}`);
  }
  return {
    describe: String(regex),
    match(path) {
      const found = regex.exec(path);
      if (found === null) return null;
      const rest = path.slice(found.index + found[0].length);
      const kwargs: Record<string, unknown> = {};
      let named = false;
      for (const [name, value] of Object.entries(found.groups ?? {})) {
        named = true;
        if (value !== undefined) kwargs[name] = value;
      }
      if (named) return { rest, args: [], kwargs };
      return { rest, args: found.slice(1), kwargs };
    },
  };
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Percent-decodes a request path as the server gives it to Django: every '%XX' becomes that byte
 * (including '%2F', which becomes '/'), a '%' not followed by two hex digits stays as it is, and the
 * bytes are read as UTF-8. Returns null when they are not valid UTF-8: such a path matches no route.
 */
export function decodePath(raw: string): string | null {
  if (!raw.includes('%')) return raw;
  const literal = Buffer.from(raw, 'utf8');
  const bytes = Buffer.allocUnsafe(literal.length);
  let length = 0;
  for (let i = 0; i < literal.length; i++) {
    const byte = literal[i]!;
    if (byte === 0x25 && i + 2 < literal.length && isHex(literal[i + 1]!) && isHex(literal[i + 2]!)) {
      bytes[length++] = parseInt(String.fromCharCode(literal[i + 1]!, literal[i + 2]!), 16);
      i += 2;
    } else {
      bytes[length++] = byte;
    }
  }
  try {
    return decoder.decode(bytes.subarray(0, length));
  } catch {
    return null;
  }
}

function isHex(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}
