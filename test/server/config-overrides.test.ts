// serve's --host/--port/--workers over the config: checked like the keys, workers still need Redis.
import { describe, expect, it } from 'vitest';
import { applyOverrides } from '../../src/server/config-overrides.ts';
import { parseConfig } from '../../src/server/config.ts';
import { thrownError } from '../error-assertions.ts';

const base = parseConfig({ port: 8000 }, { directory: '/srv', configFile: null });
const withRedis = parseConfig({ redis: 'redis://127.0.0.1:6379' }, { directory: '/srv', configFile: null });

describe('applyOverrides', () => {
  it('replaces the given keys and keeps the rest, frozen', () => {
    const config = applyOverrides(withRedis, { host: '::', port: '9000', workers: '4' });
    expect([config.host, config.port, config.workers, config.redis]).toEqual([
      '::',
      9000,
      4,
      'redis://127.0.0.1:6379',
    ]);
    expect(Object.isFrozen(config)).toBe(true);
    expect(applyOverrides(base, {})).toEqual(base);
  });

  it.each([
    [{ port: '80000' }, '--port: expected an integer from 0 to 65535, got 80000'],
    [{ port: '8k' }, '--port: expected an integer from 0 to 65535, got "8k"'],
    [{ workers: '0' }, '--workers: expected an integer from 1 to 256, got 0'],
    [
      { host: 'localhost' },
      '--host: expected a numeric IPv4 or IPv6 address (use "127.0.0.1" or "::1"), got "localhost"',
    ],
    [
      { workers: '2' },
      '--workers: 2 workers need Redis to share chat rooms, sessions and login throttling: set "redis" (e.g. "redis://127.0.0.1:6379") or use 1 worker',
    ],
  ])('%j is refused: %s', (overrides, message) => {
    const error = thrownError(() => applyOverrides(base, overrides));
    expect(error.code).toBe('ERR_CLI_USAGE');
    expect(error.message).toBe(message);
  });
});
