// The config file: defaults, every key with a good and a bad value, errors naming the key path.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  defaultConfig,
  loadConfig,
  parseConfig,
  type ServerConfig,
} from '../../src/server/config.ts';
import { ConfigError } from '../../src/server/errors.ts';

const directory = mkdtempSync(path.join(tmpdir(), 'bufferevent-config-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function parse(raw: unknown): ServerConfig {
  return parseConfig(raw, { directory: '/etc/bufferevent', configFile: '/etc/bufferevent/server.json' });
}

function issuesOf(raw: unknown): string[] {
  try {
    parse(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('ERR_CONFIG_INVALID');
    return (error as ConfigError).issues.map((issue) => `${issue.keyPath}: ${issue.message}`);
  }
  throw new Error('expected ERR_CONFIG_INVALID');
}

describe('defaults', () => {
  it('an empty config is fully defaulted and frozen, paths relative to its directory', () => {
    const config = parse({});
    expect(config).toEqual({
      configFile: '/etc/bufferevent/server.json',
      host: '127.0.0.1',
      port: 8000,
      allowedOrigins: [],
      logs: {},
      usersFile: '/etc/bufferevent/bufferevent-users.json',
      redis: null,
      workers: 1,
      trustProxy: false,
      secretKey: null,
      secretKeyFile: null,
      limits: DEFAULT_LIMITS,
      sessionMaxAge: 1209600,
      compression: true,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.limits)).toBe(true);
    expect(Object.isFrozen(config.allowedOrigins)).toBe(true);
  });

  it('defaultConfig() resolves the users file in the given directory and names no file', () => {
    const config = defaultConfig('/srv/app');
    expect(config.configFile).toBeNull();
    expect(config.usersFile).toBe('/srv/app/bufferevent-users.json');
  });

  it('a full config is taken as written, logs frozen too', () => {
    const config = parse({
      host: '0.0.0.0',
      port: 8443,
      allowedOrigins: ['https://chat.example.com', '.example.org'],
      logs: {
        '1': { path: '/var/log/app/error.log', title: 'App errors', users: ['alice'] },
        web: { path: 'web.log' },
      },
      usersFile: 'users.json',
      redis: 'redis://127.0.0.1:6379/0',
      workers: 4,
      trustProxy: ['127.0.0.1', '10.0.0.0/8', '::1'],
      secretKeyFile: 'secret.key',
      limits: { chatHistory: 50, loginAttemptsPerUser: 3 },
      sessionMaxAge: 3600,
    });
    expect(config.logs).toEqual({
      '1': { id: '1', path: '/var/log/app/error.log', title: 'App errors', users: ['alice'] },
      web: { id: 'web', path: '/etc/bufferevent/web.log', title: 'web.log', users: null },
    });
    expect(config.usersFile).toBe('/etc/bufferevent/users.json');
    expect(config.secretKeyFile).toBe('/etc/bufferevent/secret.key');
    expect(config.limits).toEqual({ ...DEFAULT_LIMITS, chatHistory: 50, loginAttemptsPerUser: 3 });
    expect([config.host, config.port, config.workers, config.sessionMaxAge]).toEqual([
      '0.0.0.0',
      8443,
      4,
      3600,
    ]);
    expect(config.trustProxy).toEqual(['127.0.0.1', '10.0.0.0/8', '::1']);
    expect(Object.isFrozen(config.logs['1']!.users)).toBe(true);
  });
});

describe('each key refuses a bad value, naming its path', () => {
  it.each<[string, unknown, string]>([
    [
      'host',
      'localhost',
      'host: expected a numeric IPv4 or IPv6 address (use "127.0.0.1" or "::1"), got "localhost"',
    ],
    ['host', 42, 'host: expected a numeric IPv4 or IPv6 address ("127.0.0.1", "0.0.0.0", "::"), got 42'],
    ['port', 70000, 'port: expected an integer from 0 to 65535, got 70000'],
    ['port', '8000', 'port: expected an integer from 0 to 65535, got "8000"'],
    ['port', 80.5, 'port: expected an integer from 0 to 65535, got 80.5'],
    [
      'allowedOrigins',
      'https://a.example',
      'allowedOrigins: expected a list of origins, got "https://a.example"',
    ],
    ['usersFile', '', 'usersFile: expected a non-empty string, got ""'],
    ['usersFile', ['a'], 'usersFile: expected a non-empty string, got a list'],
    [
      'redis',
      'http://127.0.0.1:6379',
      'redis: expected a URL like "redis://127.0.0.1:6379" or "rediss://user:password@host:6380/0"',
    ],
    ['workers', 0, 'workers: expected an integer from 1 to 256, got 0'],
    ['trustProxy', 'yes', 'trustProxy: expected true, false or a list of proxy addresses, got "yes"'],
    ['secretKey', 12345, 'secretKey: expected a string'],
    ['secretKeyFile', 7, 'secretKeyFile: expected a non-empty string, got 7'],
    ['limits', [], 'limits: expected an object, got a list'],
    ['logs', [], 'logs: expected an object of log files by id, got a list'],
    ['sessionMaxAge', 10, 'sessionMaxAge: expected an integer from 60 to 31622400, got 10'],
    ['compression', 'on', 'compression: expected true or false, got "on"'],
  ])('%s = %j', (key, value, expected) => {
    expect(issuesOf({ [key]: value })).toEqual([expected]);
  });

  it('allowedOrigins entries are checked with the WebSocket origin parser', () => {
    expect(issuesOf({ allowedOrigins: ['https://ok.example', 'not an origin', 5] })).toEqual([
      'allowedOrigins.1: expected an origin like "https://example.com", "https://example.com:8443", ".example.com" or "*", got "not an origin"',
      'allowedOrigins.2: expected an origin like "https://example.com", "https://example.com:8443", ".example.com" or "*", got 5',
    ]);
  });

  it('a secret key that is too short is refused without quoting it', () => {
    const issues = issuesOf({ secretKey: 'short-secret-value' });
    expect(issues).toEqual([
      'secretKey: expected at least 32 characters, got 18 (e.g. openssl rand -base64 48)',
    ]);
    expect(issues.join()).not.toContain('short-secret-value');
  });

  it('secretKey and secretKeyFile together are refused', () => {
    expect(issuesOf({ secretKey: 'k'.repeat(40), secretKeyFile: 'secret.key' })).toEqual([
      'secretKeyFile: give either "secretKey" or "secretKeyFile", not both',
    ]);
  });

  it('a Redis URL with a password is never quoted', () => {
    const issues = issuesOf({ redis: 'http://user:hunter2@redis.internal' });
    expect(issues.join()).not.toContain('hunter2');
  });

  it('trustProxy entries must be addresses or networks', () => {
    expect(
      issuesOf({ trustProxy: ['10.0.0.0/8', '10.0.0.0/33', 'proxy.local', '::1/129', '1.2.3.4/8/1'] }),
    ).toEqual([
      'trustProxy.1: expected an IP address or network ("127.0.0.1", "10.0.0.0/8", "::1"), got "10.0.0.0/33"',
      'trustProxy.2: expected an IP address or network ("127.0.0.1", "10.0.0.0/8", "::1"), got "proxy.local"',
      'trustProxy.3: expected an IP address or network ("127.0.0.1", "10.0.0.0/8", "::1"), got "::1/129"',
      'trustProxy.4: expected an IP address or network ("127.0.0.1", "10.0.0.0/8", "::1"), got "1.2.3.4/8/1"',
    ]);
    expect(parse({ trustProxy: true }).trustProxy).toBe(true);
  });

  it('workers > 1 without Redis is refused with what to do', () => {
    expect(issuesOf({ workers: 2 })).toEqual([
      'workers: 2 workers need Redis to share chat rooms, sessions and login throttling: set "redis" (e.g. "redis://127.0.0.1:6379") or use 1 worker',
    ]);
    expect(parse({ workers: 2, redis: 'rediss://secret@cache:6380' }).workers).toBe(2);
  });
});

describe('logs', () => {
  it.each<[unknown, string[]]>([
    [{ '../etc': { path: 'x' } }, ['logs.../etc: a log id is 1 to 64 letters and digits']],
    [
      { '1': '/var/log/x' },
      ['logs.1: expected an object with "path" (and optionally "title", "users"), got "/var/log/x"'],
    ],
    [{ '1': {} }, ['logs.1.path: missing: the log file to follow']],
    [{ '1': { path: 5 } }, ['logs.1.path: expected a non-empty string, got 5']],
    [{ '1': { path: 'a', title: '' } }, ['logs.1.title: expected a non-empty string, got ""']],
    [
      { '1': { path: 'a', users: [] } },
      ['logs.1.users: expected a non-empty list of usernames (leave "users" out to allow every user)'],
    ],
    [
      { '1': { path: 'a', users: ['alice', 'bad name', 'alice'] } },
      [
        'logs.1.users.1: expected a username (1 to 64 letters, digits, ".", "_", "-", "@", starting with a letter or digit), got "bad name"',
        'logs.1.users.2: alice is listed twice',
      ],
    ],
    [{ '1': { path: 'a', tilte: 'x' } }, ['logs.1.tilte: unknown key: did you mean "title"?']],
  ])('%j', (logs, expected) => {
    expect(issuesOf({ logs })).toEqual(expected);
  });
});

describe('limits', () => {
  it('each limit is range-checked by name', () => {
    expect(issuesOf({ limits: { maxConnections: 0, chatHistory: -1, maxLineLength: 'x' } })).toEqual([
      'limits.maxConnections: expected an integer from 1 to 1000000, got 0',
      'limits.maxLineLength: expected an integer from 80 to 1048576, got "x"',
      'limits.chatHistory: expected an integer from 0 to 100000, got -1',
    ]);
  });

  it('the viewer queue must hold the backlog', () => {
    expect(issuesOf({ limits: { tailBacklogLines: 500, viewerQueueLines: 100 } })).toEqual([
      'limits.viewerQueueLines: must be at least limits.tailBacklogLines (500): the backlog goes through the queue',
    ]);
  });
});

describe('unknown keys', () => {
  it.each<[unknown, string]>([
    [{ prot: 1 }, 'prot: unknown key: did you mean "port"?'],
    [{ allowedOrigin: [] }, 'allowedOrigin: unknown key: did you mean "allowedOrigins"?'],
    [{ Workers: 1 }, 'Workers: unknown key: did you mean "workers"?'],
    [{ secretkeyfile: 'x' }, 'secretkeyfile: unknown key: did you mean "secretKeyFile"?'],
    [{ limits: { chatHistroy: 5 } }, 'limits.chatHistroy: unknown key: did you mean "chatHistory"?'],
  ])('%j', (raw, expected) => {
    expect(issuesOf(raw)).toEqual([expected]);
  });

  it('a key nothing like a known one lists the known keys', () => {
    expect(issuesOf({ database: 'x' })).toEqual([
      'database: unknown key (known: host, port, allowedOrigins, logs, usersFile, redis, workers, trustProxy, secretKey, secretKeyFile, limits, sessionMaxAge, compression)',
    ]);
  });
});

describe('loadConfig', () => {
  it('reads a file and resolves relative paths against its directory', async () => {
    const file = path.join(directory, 'server.json');
    writeFileSync(
      file,
      JSON.stringify({ usersFile: 'data/users.json', logs: { a: { path: '../logs/a.log' } } }),
    );
    const config = await loadConfig(path.relative(process.cwd(), file));
    expect(config.configFile).toBe(file);
    expect(config.usersFile).toBe(path.join(directory, 'data/users.json'));
    expect(config.logs.a!.path).toBe(path.join(path.dirname(directory), 'logs/a.log'));
  });

  it('reports all problems at once, one per line', async () => {
    const file = path.join(directory, 'bad.json');
    writeFileSync(file, JSON.stringify({ port: -1, workers: 2, prot: 1 }));
    const error = await loadConfig(file).catch((failure: ConfigError) => failure);
    expect((error as ConfigError).message).toBe(
      `${file} has 3 problems:\n  prot: unknown key: did you mean "port"?\n  port: expected an integer from 0 to 65535, got -1\n` +
        '  workers: 2 workers need Redis to share chat rooms, sessions and login throttling: set "redis" (e.g. "redis://127.0.0.1:6379") or use 1 worker',
    );
  });

  it('names the line of a JSON syntax error', async () => {
    const file = path.join(directory, 'syntax.json');
    writeFileSync(file, '{\n  "port": 8000\n  "host": "0.0.0.0"\n}\n');
    const error = (await loadConfig(file).catch((failure: ConfigError) => failure)) as ConfigError;
    expect(error.code).toBe('ERR_CONFIG_INVALID');
    expect(error.message).toMatch(
      new RegExp(`^${file.replace(/[.]/g, '\\.')}: line 3, column 3: invalid JSON`),
    );
  });

  it('a missing file is ERR_CONFIG_READ naming it', async () => {
    const file = path.join(directory, 'missing.json');
    const error = (await loadConfig(file).catch((failure: ConfigError) => failure)) as ConfigError;
    expect(error.code).toBe('ERR_CONFIG_READ');
    expect(error.message).toBe(`cannot read config file ${file}: ENOENT`);
  });

  it('a top level that is not an object is refused', () => {
    expect(issuesOf([1])).toEqual(['(top level): expected an object, got a list']);
  });
});
