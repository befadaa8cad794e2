// The bundled server's config file (`bufferevent serve --config bufferevent.config.json`): JSON,
// validated as a whole so every mistake is reported at once with its key path, unknown keys refused
// (with a suggestion for a likely typo). `loadConfig`/`parseConfig` return a frozen config with every
// default filled in; relative paths are resolved against the config file's directory. The keys are
// documented in docs/server-config.md.
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { OriginValidator } from '../channels/middleware/origin.ts';
import { ConfigError } from './errors.ts';
import { parseJsonText } from './json-text.ts';
import {
  describeValue,
  integerIn,
  isPlainObject,
  IssueList,
  joinPath,
  nonEmptyString,
  refuseUnknownKeys,
  secretString,
} from './config-checks.ts';
import { isValidUsername, USERNAME_RULE } from './usernames.ts';

/** A log file the tail page can follow, by its id. */
export interface LogFileConfig {
  /** The key under `logs`: letters and digits; the only way a client names the file. */
  readonly id: string;
  /** Absolute path. */
  readonly path: string;
  /** Shown in the page; defaults to the file's name. */
  readonly title: string;
  /** Users allowed to follow it; null: every logged-in user. */
  readonly users: readonly string[] | null;
}

export interface LimitsConfig {
  /** Open connections (pages and WebSockets) at once; more are refused. */
  readonly maxConnections: number;
  /** Largest WebSocket message accepted from a browser. */
  readonly maxMessageBytes: number;
  /** Lines of a log sent as backlog when a viewer starts following it ... */
  readonly tailBacklogLines: number;
  /** ... read from at most this many bytes at the end of the file. */
  readonly tailBacklogBytes: number;
  /** Longer log lines are cut here, with a marker. */
  readonly maxLineLength: number;
  /** Lines queued for one slow viewer before the oldest are dropped ("skipped N lines"). */
  readonly viewerQueueLines: number;
  /** Messages of a chat room kept and shown on join. */
  readonly chatHistory: number;
  /** Longest chat message, in characters. */
  readonly chatMessageChars: number;
  /** Chat messages one user may send per second, on average … */
  readonly chatMessagesPerSecond: number;
  /** … and at once (the burst a user may send before the rate applies). */
  readonly chatBurst: number;
  /** Login attempts for one username within the window; after that many failures it is blocked for the cooldown. */
  readonly loginAttemptsPerUser: number;
  /** The same for one client address (successful attempts are not counted). */
  readonly loginAttemptsPerAddress: number;
  readonly loginWindowSeconds: number;
  readonly loginCooldownSeconds: number;
}

export interface ServerConfig {
  /** The file this was read from (absolute), or null for the built-in defaults. */
  readonly configFile: string | null;
  /** Numeric address to listen on. */
  readonly host: string;
  /** TCP port (0: any free port). */
  readonly port: number;
  /** Origins allowed to open WebSockets besides the server's own (OriginValidator patterns). */
  readonly allowedOrigins: readonly string[];
  readonly logs: Readonly<Record<string, LogFileConfig>>;
  /** Absolute path of the users file. */
  readonly usersFile: string;
  /** Redis URL (redis:// or rediss://), or null for the in-memory layer. */
  readonly redis: string | null;
  /** Processes sharing the port; more than 1 needs `redis`. */
  readonly workers: number;
  /** Trust X-Forwarded-* headers: from any peer (true), none (false) or these addresses/networks. */
  readonly trustProxy: boolean | readonly string[];
  /** Secret for signing session cookies; null with `secretKeyFile` null: generated at start. */
  readonly secretKey: string | null;
  /** Absolute path of a file holding the secret. */
  readonly secretKeyFile: string | null;
  readonly limits: LimitsConfig;
  /** Seconds a login session lasts. */
  readonly sessionMaxAge: number;
  /** permessage-deflate with browsers (without context takeover: no zlib memory per connection). */
  readonly compression: boolean;
}

export const DEFAULT_USERS_FILE = 'bufferevent-users.json';
export const MIN_SECRET_KEY_LENGTH = 32;

export const DEFAULT_LIMITS: LimitsConfig = Object.freeze({
  maxConnections: 10_000,
  maxMessageBytes: 64 * 1024,
  tailBacklogLines: 200,
  tailBacklogBytes: 256 * 1024,
  maxLineLength: 16 * 1024,
  viewerQueueLines: 10_000,
  chatHistory: 100,
  chatMessageChars: 2000,
  chatMessagesPerSecond: 5,
  chatBurst: 20,
  loginAttemptsPerUser: 5,
  loginAttemptsPerAddress: 20,
  loginWindowSeconds: 900,
  loginCooldownSeconds: 900,
});

// [min, max] of each limit.
const LIMIT_RANGES: Readonly<Record<keyof LimitsConfig, readonly [number, number]>> = {
  maxConnections: [1, 1_000_000],
  maxMessageBytes: [1024, 64 * 1024 * 1024],
  tailBacklogLines: [0, 100_000],
  tailBacklogBytes: [0, 64 * 1024 * 1024],
  maxLineLength: [80, 1024 * 1024],
  viewerQueueLines: [1, 10_000_000],
  chatHistory: [0, 100_000],
  chatMessageChars: [1, 1_000_000],
  chatMessagesPerSecond: [1, 1_000_000],
  chatBurst: [1, 1_000_000],
  loginAttemptsPerUser: [1, 1_000_000],
  loginAttemptsPerAddress: [1, 1_000_000],
  loginWindowSeconds: [1, 7 * 24 * 3600],
  loginCooldownSeconds: [1, 7 * 24 * 3600],
};

const TWO_WEEKS_SECONDS = 14 * 24 * 3600;
export const MAX_WORKERS = 256;

const TOP_LEVEL_KEYS = [
  'host',
  'port',
  'allowedOrigins',
  'logs',
  'usersFile',
  'redis',
  'workers',
  'trustProxy',
  'secretKey',
  'secretKeyFile',
  'limits',
  'sessionMaxAge',
  'compression',
] as const;
const LOG_KEYS = ['path', 'title', 'users'];
const LOG_ID = /^[A-Za-z0-9]{1,64}$/;

/** The config without a file: every default, paths relative to `directory` (the working directory). */
export function defaultConfig(directory: string = process.cwd()): ServerConfig {
  return parseConfig({}, { directory, configFile: null });
}

/** Reads and validates a config file; ERR_CONFIG_READ when it cannot be read, ERR_CONFIG_INVALID otherwise. */
export async function loadConfig(file: string): Promise<ServerConfig> {
  const configFile = path.resolve(file);
  let text: string;
  try {
    text = await readFile(configFile, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError(`cannot read config file ${configFile}: ${code}`, 'ERR_CONFIG_READ');
  }
  const parsed = parseJsonText(text);
  if (!parsed.ok) {
    const issue = { keyPath: parsed.issue.where, message: parsed.issue.message };
    throw new ConfigError(`${configFile}: ${issue.keyPath}: ${issue.message}`, 'ERR_CONFIG_INVALID', [issue]);
  }
  return parseConfig(parsed.value, { directory: path.dirname(configFile), configFile });
}

export interface ParseConfigOptions {
  /** Relative paths are resolved against this directory. */
  readonly directory: string;
  /** Named in error messages and kept in the result. */
  readonly configFile: string | null;
}

/** Validates a config object (a parsed file); throws ERR_CONFIG_INVALID listing every issue. */
export function parseConfig(raw: unknown, { directory, configFile }: ParseConfigOptions): ServerConfig {
  const issues = new IssueList();
  const source = isPlainObject(raw) ? raw : {};
  if (!isPlainObject(raw)) issues.add('(top level)', `expected an object, got ${describeValue(raw)}`);
  refuseUnknownKeys(issues, source, TOP_LEVEL_KEYS, '');
  const resolvePath = (value: string): string => path.resolve(directory, value);

  const host = source.host === undefined ? '127.0.0.1' : hostOf(issues, source.host, 'host');
  const port = source.port === undefined ? 8000 : integerIn(issues, source.port, 'port', 0, 65535);
  const redis = source.redis === undefined || source.redis === null ? null : redisUrlOf(issues, source.redis);
  const workers =
    source.workers === undefined ? 1 : integerIn(issues, source.workers, 'workers', 1, MAX_WORKERS);
  if (workers !== undefined && workers > 1 && source.redis == null)
    issues.add('workers', workersNeedRedis(workers));
  const usersFileName =
    source.usersFile === undefined
      ? DEFAULT_USERS_FILE
      : nonEmptyString(issues, source.usersFile, 'usersFile');
  const secretKey =
    source.secretKey === undefined
      ? null
      : secretString(issues, source.secretKey, 'secretKey', MIN_SECRET_KEY_LENGTH);
  const secretKeyFile =
    source.secretKeyFile === undefined ? null : nonEmptyString(issues, source.secretKeyFile, 'secretKeyFile');
  if (source.secretKey !== undefined && source.secretKeyFile !== undefined)
    issues.add('secretKeyFile', 'give either "secretKey" or "secretKeyFile", not both');
  const sessionMaxAge =
    source.sessionMaxAge === undefined
      ? TWO_WEEKS_SECONDS
      : integerIn(issues, source.sessionMaxAge, 'sessionMaxAge', 60, 366 * 24 * 3600);

  let compression = true;
  if (source.compression !== undefined) {
    if (typeof source.compression === 'boolean') compression = source.compression;
    else issues.add('compression', `expected true or false, got ${describeValue(source.compression)}`);
  }

  const config: ServerConfig = {
    configFile,
    host: host ?? '',
    port: port ?? 0,
    allowedOrigins: source.allowedOrigins === undefined ? [] : originsOf(issues, source.allowedOrigins),
    logs: source.logs === undefined ? {} : logsOf(issues, source.logs, resolvePath),
    usersFile: resolvePath(usersFileName ?? DEFAULT_USERS_FILE),
    redis: redis ?? null,
    workers: workers ?? 1,
    trustProxy: source.trustProxy === undefined ? false : trustProxyOf(issues, source.trustProxy),
    secretKey: secretKey ?? null,
    secretKeyFile: secretKeyFile == null ? null : resolvePath(secretKeyFile),
    limits: source.limits === undefined ? DEFAULT_LIMITS : limitsOf(issues, source.limits),
    sessionMaxAge: sessionMaxAge ?? TWO_WEEKS_SECONDS,
    compression,
  };
  if (issues.issues.length > 0) {
    const name = configFile ?? 'config';
    const lines = issues.issues.map((issue) => `${issue.keyPath}: ${issue.message}`);
    const message =
      lines.length === 1
        ? `${name}: ${lines[0]}`
        : `${name} has ${lines.length} problems:\n  ${lines.join('\n  ')}`;
    throw new ConfigError(message, 'ERR_CONFIG_INVALID', issues.issues);
  }
  return deepFreeze(config);
}

export function workersNeedRedis(workers: number): string {
  return (
    `${workers} workers need Redis to share chat rooms, sessions and login throttling: ` +
    'set "redis" (e.g. "redis://127.0.0.1:6379") or use 1 worker'
  );
}

/** @internal Also checks `--host` (config-overrides.ts). */
export function hostOf(issues: IssueList, value: unknown, keyPath: string): string | undefined {
  if (typeof value === 'string' && isIP(value) !== 0) return value;
  const hint = value === 'localhost' ? ' (use "127.0.0.1" or "::1")' : ' ("127.0.0.1", "0.0.0.0", "::")';
  issues.add(keyPath, `expected a numeric IPv4 or IPv6 address${hint}, got ${describeValue(value)}`);
  return undefined;
}

function redisUrlOf(issues: IssueList, value: unknown): string | undefined {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url !== undefined && (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '')
    return value as string;
  // Not quoted: a Redis URL may carry a password.
  issues.add('redis', 'expected a URL like "redis://127.0.0.1:6379" or "rediss://user:password@host:6380/0"');
  return undefined;
}

function originsOf(issues: IssueList, value: unknown): readonly string[] {
  if (!Array.isArray(value)) {
    issues.add('allowedOrigins', `expected a list of origins, got ${describeValue(value)}`);
    return [];
  }
  const origins: string[] = [];
  value.forEach((origin, index) => {
    try {
      // The WebSocket origin check's own parser, so what passes here is what it will accept.
      if (typeof origin !== 'string') throw new TypeError();
      new OriginValidator(() => undefined, [origin]);
      origins.push(origin);
    } catch {
      issues.add(
        `allowedOrigins.${index}`,
        `expected an origin like "https://example.com", "https://example.com:8443", ".example.com" or "*", got ${describeValue(origin)}`,
      );
    }
  });
  return origins;
}

function logsOf(
  issues: IssueList,
  value: unknown,
  resolvePath: (file: string) => string,
): Readonly<Record<string, LogFileConfig>> {
  const logs: Record<string, LogFileConfig> = Object.create(null);
  if (!isPlainObject(value)) {
    issues.add('logs', `expected an object of log files by id, got ${describeValue(value)}`);
    return logs;
  }
  for (const [id, entry] of Object.entries(value)) {
    const keyPath = joinPath('logs', id);
    if (!LOG_ID.test(id)) issues.add(keyPath, 'a log id is 1 to 64 letters and digits');
    if (!isPlainObject(entry)) {
      issues.add(
        keyPath,
        `expected an object with "path" (and optionally "title", "users"), got ${describeValue(entry)}`,
      );
      continue;
    }
    refuseUnknownKeys(issues, entry, LOG_KEYS, keyPath);
    const file = entry.path === undefined ? undefined : nonEmptyString(issues, entry.path, `${keyPath}.path`);
    if (entry.path === undefined) issues.add(`${keyPath}.path`, 'missing: the log file to follow');
    const title =
      entry.title === undefined ? undefined : nonEmptyString(issues, entry.title, `${keyPath}.title`);
    const users = entry.users === undefined ? null : logUsersOf(issues, entry.users, `${keyPath}.users`);
    if (file === undefined || !LOG_ID.test(id)) continue;
    const absolute = resolvePath(file);
    logs[id] = { id, path: absolute, title: title ?? path.basename(absolute), users };
  }
  return logs;
}

function logUsersOf(issues: IssueList, value: unknown, keyPath: string): readonly string[] | null {
  if (!Array.isArray(value) || value.length === 0) {
    issues.add(keyPath, 'expected a non-empty list of usernames (leave "users" out to allow every user)');
    return null;
  }
  value.forEach((name, index) => {
    if (!isValidUsername(name))
      issues.add(`${keyPath}.${index}`, `expected a username (${USERNAME_RULE}), got ${describeValue(name)}`);
    else if (value.indexOf(name) !== index) issues.add(`${keyPath}.${index}`, `${name} is listed twice`);
  });
  return [...new Set(value.filter(isValidUsername))];
}

function trustProxyOf(issues: IssueList, value: unknown): boolean | readonly string[] {
  if (typeof value === 'boolean') return value;
  if (!Array.isArray(value)) {
    issues.add(
      'trustProxy',
      `expected true, false or a list of proxy addresses, got ${describeValue(value)}`,
    );
    return false;
  }
  value.forEach((entry, index) => {
    if (!isAddressOrNetwork(entry))
      issues.add(
        `trustProxy.${index}`,
        `expected an IP address or network ("127.0.0.1", "10.0.0.0/8", "::1"), got ${describeValue(entry)}`,
      );
  });
  return value.filter(isAddressOrNetwork);
}

function isAddressOrNetwork(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const [address, bits, extra] = value.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  const maximum = family === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= maximum;
}

function limitsOf(issues: IssueList, value: unknown): LimitsConfig {
  if (!isPlainObject(value)) {
    issues.add('limits', `expected an object, got ${describeValue(value)}`);
    return DEFAULT_LIMITS;
  }
  const names = Object.keys(LIMIT_RANGES) as (keyof LimitsConfig)[];
  refuseUnknownKeys(issues, value, names, 'limits');
  const limits: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const name of names) {
    if (value[name] === undefined) continue;
    const [min, max] = LIMIT_RANGES[name];
    const checked = integerIn(issues, value[name], `limits.${name}`, min, max);
    if (checked !== undefined) limits[name] = checked;
  }
  const result = limits as unknown as LimitsConfig;
  if (result.viewerQueueLines < result.tailBacklogLines)
    issues.add(
      'limits.viewerQueueLines',
      `must be at least limits.tailBacklogLines (${result.tailBacklogLines}): the backlog goes through the queue`,
    );
  return result;
}

/** @internal Freezes the config and everything in it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
