// Exceptions thrown by libevent callbacks take Node's uncaught-exception path and leave libevent working.
import { describe, expect, it } from 'vitest';
import { lines, runChild } from './child.ts';

describe('exceptions from libevent callbacks', () => {
  it("hands a throwing read callback's error to uncaughtException, and the bufferevent keeps echoing", async () => {
    const result = await runChild('throw-in-callback.mjs', ['handled']);
    expect(result.timedOut, `killed: still running after the limit; stdout: ${result.stdout}`).toBe(false);
    expect(result.stderr).toBe('');
    expect(lines(result.stdout)).toEqual([
      'caught boom from read same=true', // the very object thrown, not a copy or a wrapper
      'echoed second',
      'caught count 1',
      'exit 0',
    ]);
    expect(result.code).toBe(0);
    expect(result.signal).toBeNull();
  });

  it('exits with code 1 and prints the error when no handler is installed, without a signal', async () => {
    const result = await runChild('throw-in-callback.mjs', ['unhandled']);
    expect(result.timedOut, `killed: still running after the limit; stdout: ${result.stdout}`).toBe(false);
    expect(result.signal).toBeNull();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Error: boom from read');
    expect(result.stderr).toContain('throw-in-callback.mjs');
    // The 'exit' handler still runs with the code Node chose: a clean exit path, not an abort.
    expect(lines(result.stdout)).toEqual(['exit 1']);
  });

  it('keeps a persistent timer firing after its callback threw once', async () => {
    const result = await runChild('throw-in-callback.mjs', ['timer']);
    expect(result.timedOut, `killed: still running after the limit; stdout: ${result.stdout}`).toBe(false);
    expect(result.stderr).toBe('');
    expect(lines(result.stdout)).toEqual([
      'caught boom from timer same=true',
      'firing 2',
      'firing 3',
      'caught count 1',
      'exit 0',
    ]);
    expect(result.code).toBe(0);
  });
});
