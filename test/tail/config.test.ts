// The engine's configuration: the log list and the limits are checked when it is made, each bad
// value refused with ERR_TAIL_CONFIG naming the key.
import { describe, expect, it } from 'vitest';
import { DEFAULT_TAIL_LIMITS, TailEngine } from '../../src/tail/index.ts';
import { thrownError } from '../error-assertions.ts';

function configError(logs: unknown, limits?: unknown): string {
  const error = thrownError(() => new TailEngine(logs as never, limits as never));
  expect(error.code).toBe('ERR_TAIL_CONFIG');
  return error.message;
}

describe('TailEngine configuration', () => {
  it('has the documented default limits', () => {
    expect(new TailEngine({}).limits).toEqual({
      backlogLines: 100,
      backlogBytes: 256 * 1024,
      maxLineBytes: 8 * 1024,
      viewerQueueLines: 1000,
      readChunkBytes: 64 * 1024,
      batchLines: 256,
    });
    expect(DEFAULT_TAIL_LIMITS.viewerQueueLines).toBe(1000);
  });

  it('refuses bad log entries, naming the key', () => {
    expect(configError(null)).toMatch(/must be an object/);
    expect(configError([])).toMatch(/must be an object/);
    expect(configError({ 'a/b': { path: '/tmp/x', title: 'X' } })).toMatch(/logs\["a\/b"\] has a bad id/);
    expect(configError({ '': { path: '/tmp/x', title: 'X' } })).toMatch(/bad id/);
    expect(configError({ '1': 'x' })).toMatch(/logs\["1"\] must be an object/);
    expect(configError({ '1': { path: 'relative.log', title: 'X' } })).toMatch(/logs\["1"\]\.path/);
    expect(configError({ '1': { path: '/tmp/a\0b', title: 'X' } })).toMatch(/logs\["1"\]\.path/);
    expect(configError({ '1': { path: '/tmp/', title: 'X' } })).toMatch(/logs\["1"\]\.path/);
    expect(configError({ '1': { path: '/tmp/x' } })).toMatch(/logs\["1"\]\.title/);
    expect(configError({ '1': { path: '/tmp/x', title: 'X', users: 'alice' } })).toMatch(
      /logs\["1"\]\.users/,
    );
    expect(configError({ '1': { path: '/tmp/x', title: 'X', users: [''] } })).toMatch(/logs\["1"\]\.users/);
  });

  it('refuses unknown limits and values out of range, naming the limit', () => {
    expect(configError({}, { backlog: 5 })).toMatch(/unknown tail limit "backlog"/);
    expect(configError({}, { viewerQueueLines: 0 })).toMatch(/viewerQueueLines must be an integer from 1/);
    expect(configError({}, { maxLineBytes: 1.5 })).toMatch(/maxLineBytes/);
    expect(configError({}, { backlogBytes: 2 ** 40 })).toMatch(/backlogBytes/);
    expect(configError({}, { readChunkBytes: '65536' })).toMatch(/readChunkBytes/);
    expect(configError({}, 'fast')).toMatch(/must be an object/);
  });

  it('lists no files and refuses every id when none is configured', () => {
    const engine = new TailEngine({});
    expect(engine.logs('anyone')).toEqual([]);
    expect(
      thrownError(() => engine.open('1', { sink: { write: () => true, onDrain: () => undefined } })).code,
    ).toBe('ERR_TAIL_UNKNOWN_LOG');
  });
});
