// A RateLimitGroup's refill timer is libevent's, added for the group's whole life: it must hold the
// process only while a member waits for a refill, never just because the group exists.
import { describe, expect, it } from 'vitest';
import { EventBase, RateLimitGroup } from '../../src/index.ts';
import { lines, runChild } from '../loop/child.ts';
import { checkNothingLeaksAfterEach, socketPairBufferevents } from '../helpers.ts';

describe('a RateLimitGroup and the process lifetime', () => {
  it.each(['idle', 'idle-member'])('lets the process exit at once while held (%s)', async (mode) => {
    const result = await runChild('rate-limit-group-lifetime.mjs', [mode], 10_000);
    expect(result.timedOut, `killed: still running after the limit; stdout: ${result.stdout}`).toBe(false);
    expect(result.stderr).toBe('');
    expect(lines(result.stdout)).toEqual(['set up', 'exit 0']);
    expect(result.code).toBe(0);
  });

  it('keeps the process alive while a member waits for refills, until the transfer is done', async () => {
    const result = await runChild('rate-limit-group-lifetime.mjs', ['throttled'], 20_000);
    expect(result.timedOut, `killed: still running after the limit; stdout: ${result.stdout}`).toBe(false);
    expect(result.stderr).toBe('');
    expect(lines(result.stdout)).toEqual(['set up', `read ${48 * 1024}`, 'exit 0']);
    expect(result.code).toBe(0);
    // 48 KiB at 24 KiB/s: well over a second of refills held the process (generous floor).
    expect(result.elapsedMs).toBeGreaterThan(800);
  });
});

describe('stats() and a RateLimitGroup', () => {
  checkNothingLeaksAfterEach({ fds: true });

  it('counts live groups and leaves an idle group refill timer out of addedEvents', () => {
    const stats = () => EventBase.default().stats();
    const before = stats();
    const group = new RateLimitGroup({ readRate: 1000 });
    const [a, b] = socketPairBufferevents();
    group.add(a);
    expect(stats().liveRateLimitGroups).toBe(before.liveRateLimitGroups + 1);
    expect(stats().addedEvents).toBe(before.addedEvents);
    group.free();
    expect(stats().liveRateLimitGroups).toBe(before.liveRateLimitGroups);
    a.free();
    b.free();
  });
});
