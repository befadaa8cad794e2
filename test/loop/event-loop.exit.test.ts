// Process lifetime: libevent's pending events hold a Node process open exactly like Node's own handles.
import { describe, expect, it } from 'vitest';
import { lines, runChild } from './child.ts';

describe('process exit with libevent inside Node', () => {
  it('exits with code 0 by itself after a TCP echo frees its bufferevents and listener in a callback', async () => {
    const result = await runChild('exit-after-echo.mjs');
    expect(result.timedOut, `killed: still running after the limit; stdout: ${result.stdout}`).toBe(false);
    expect(result.stderr).toBe('');
    expect(lines(result.stdout)).toEqual(['connected', 'echoed hello', 'freed', 'exit 0']);
    expect(result.code).toBe(0);
    expect(result.signal).toBeNull();
  });

  it.each([
    { mode: 'activate', what: 2 },
    { mode: 'timer', what: 1 },
  ])('exits after an event frees itself in its own callback ($mode)', async ({ mode, what }) => {
    // 'activate' runs the callback from a pass started in Node's prepare phase, right before Node
    // blocks for I/O: freeing there must not leave Node blocked with nothing to wake it.
    const result = await runChild('exit-after-callback-free.mjs', [mode]);
    expect(result.timedOut, `killed: still running after the limit; stdout: ${result.stdout}`).toBe(false);
    expect(result.stderr).toBe('');
    expect(lines(result.stdout)).toEqual([`freed in callback what=${what}`, 'exit 0']);
    expect(result.code).toBe(0);
  });

  it('stays alive while a bufferevent is enabled for reading on an idle connection, until a timer frees it', async () => {
    const holdMs = 400;
    const result = await runChild('exit-after-idle-free.mjs', [String(holdMs)]);
    expect(result.timedOut, `killed: still running after the limit; stdout: ${result.stdout}`).toBe(false);
    expect(result.stderr).toBe('');
    // "freed" proves the process outlived its only (unref'd) Node timer because of libevent's events.
    expect(lines(result.stdout)).toEqual(['idle', 'freed after the hold', 'exit 0']);
    expect(result.code).toBe(0);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(holdMs);
  });

  it('stays alive for a pending Event.timer and exits once it has fired', async () => {
    const result = await runChild('exit-after-timer.mjs', ['fire', '200']);
    expect(result.timedOut, `killed: still running after the limit; stdout: ${result.stdout}`).toBe(false);
    expect(result.stderr).toBe('');
    expect(lines(result.stdout)).toEqual(['fired fd=-1 what=1 late-enough=true', 'exit 0']);
    expect(result.code).toBe(0);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(200);
  });

  it.each(['free', 'del'])('exits without waiting for a timer after %s()', async (mode) => {
    // A 60 s timer: had it held the process, the 10 s limit would kill the child.
    const result = await runChild('exit-after-timer.mjs', [mode, '60000']);
    expect(result.timedOut, `killed: still running after the limit; stdout: ${result.stdout}`).toBe(false);
    expect(result.stderr).toBe('');
    expect(lines(result.stdout)).toEqual(['exit 0']);
    expect(result.code).toBe(0);
  });

  it('exits after connectHostname("localhost") connects and everything is freed on CONNECTED', async () => {
    const result = await runChild('exit-after-connect-hostname.mjs');
    expect(result.timedOut, `killed: still running after the limit; stdout: ${result.stdout}`).toBe(false);
    expect(result.stderr).toBe('');
    expect(lines(result.stdout)).toEqual(['connected', 'exit 0']);
    expect(result.code).toBe(0);
    expect(result.signal).toBeNull();
  });
});
