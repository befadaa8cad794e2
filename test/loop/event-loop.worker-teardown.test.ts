// Terminating workers while they are inside native methods: a worker being terminated makes napi
// refuse to run JavaScript or to throw, from another thread, at any moment. The process must survive
// every such moment. The stress runs in a child process, so a fatal error shows as a failure here.
import { describe, expect, it } from 'vitest';
import { lines, runChild } from './child.ts';

describe('terminating busy workers', () => {
  it('survives 30 workers terminated in the middle of an echo or of throwing and allocating calls', async () => {
    const result = await runChild('teardown-stress.mjs', ['30', '3'], 120_000);
    expect(result.timedOut, `killed: still running after the limit; stdout: ${result.stdout}`).toBe(false);
    expect(result.stderr).toBe('');
    expect(result.signal).toBeNull();
    // Every worker exited, each with terminate()'s exit code.
    expect(lines(result.stdout)).toEqual(['exited 30 of 30', 'codes 1x30', 'exit 0']);
    expect(result.code).toBe(0);
  });

  it('survives 30 workers terminated while a WebSocket echoes and every other wrapper class is constructed, called and freed', async () => {
    const result = await runChild('teardown-stress.mjs', ['30', '3', 'surfaces'], 120_000);
    expect(result.timedOut, `killed: still running after the limit; stdout: ${result.stdout}`).toBe(false);
    expect(result.stderr).toBe('');
    expect(result.signal).toBeNull();
    expect(lines(result.stdout)).toEqual(['exited 30 of 30', 'codes 1x30', 'exit 0']);
    expect(result.code).toBe(0);
  });
});
