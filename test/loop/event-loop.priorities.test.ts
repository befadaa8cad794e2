// Event priorities: urgent events run first within a pass, and the lowest user priority never hangs Node.
import { closeSync, writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EV, Event, EventBase, socketpair } from '../../src/index.ts';
import { liveCounts, turns, waitFor } from '../helpers.ts';

/** A never-added event (fd -1) used only through activate(), at `priority`. */
function activatable(priority: number, callback: () => void): Event {
  const event = new Event(-1, 0, callback);
  event.priority = priority;
  return event;
}

describe('event priorities', () => {
  it('offers several user priorities, the default in the middle of them', () => {
    const base = EventBase.default();
    expect(base.priorities).toBeGreaterThanOrEqual(2);
    expect(base.defaultPriority).toBeGreaterThanOrEqual(0);
    expect(base.defaultPriority).toBeLessThan(base.priorities);
    const event = new Event(-1, 0, () => undefined);
    expect(() => (event.priority = base.priorities)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_PRIORITY' }),
    );
    expect(() => (event.priority = -1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_PRIORITY' }));
    event.free();
  });

  it('runs events activated together in priority order, 0 first, within one pass', async () => {
    const base = EventBase.default();
    const before = liveCounts();
    const ran: Array<{ priority: number; pass: number; what: number }> = [];
    const events: Event[] = [];
    for (let priority = 0; priority < base.priorities; priority++) {
      events.push(new Event(-1, 0, (_fd, what) => ran.push({ priority, pass: base.stats().passes, what })));
      events[priority]!.priority = priority;
    }
    // Activated lowest priority first, so the order seen can only come from the priorities.
    for (let priority = base.priorities - 1; priority >= 0; priority--) events[priority]!.activate(EV.READ);
    await waitFor(() => ran.length === base.priorities, 10_000, 'every activated event');
    expect(ran.map((entry) => entry.priority)).toEqual([...Array(base.priorities).keys()]);
    expect(new Set(ran.map((entry) => entry.pass)).size).toBe(1);
    expect(ran.every((entry) => entry.what === EV.READ)).toBe(true);
    await turns(2);
    expect(ran).toHaveLength(base.priorities);
    for (const event of events) event.free();
    expect(liveCounts()).toEqual(before);
  });

  it('runs an active lowest-priority event once the urgent ones stop re-activating, and returns to Node', async () => {
    const base = EventBase.default();
    const rounds = 200; // several callback budgets' worth, so the work spans passes
    const log: string[] = [];
    let urgentRuns = 0;
    const urgent = activatable(0, () => {
      urgentRuns++;
      log.push('urgent');
      if (urgentRuns < rounds) urgent.activate();
    });
    const middle = activatable(1, () => log.push('middle'));
    const lowest = activatable(base.priorities - 1, () => log.push('lowest'));
    lowest.activate();
    middle.activate();
    urgent.activate();
    await waitFor(() => log.includes('lowest'), 10_000, 'the lowest-priority event');
    expect(urgentRuns).toBe(rounds);
    // Lower priorities starve while a higher one is active: each runs once, after every urgent round.
    expect(log.slice(rounds)).toEqual(['middle', 'lowest']);
    expect(log.slice(0, rounds).every((entry) => entry === 'urgent')).toBe(true);
    await turns(2);
    expect(log).toHaveLength(rounds + 2);
    for (const event of [urgent, middle, lowest]) event.free();
  });

  it('lets a Node timer run while urgent events keep re-activating, before the lowest priority runs', async () => {
    const base = EventBase.default();
    const cap = 200_000; // the bound if passes never returned to Node (the test would then fail)
    const order: string[] = [];
    let urgentRuns = 0;
    let nodeTimerFired = false;
    const budgetBreaksBefore = base.stats().budgetBreaks;
    const urgent = activatable(0, () => {
      urgentRuns++;
      // Started from inside the storm, the timer can fire only if a pass hands control back to Node.
      if (urgentRuns === 1) {
        setTimeout(() => {
          nodeTimerFired = true;
          order.push('node timer');
        }, 0);
      }
      if (!nodeTimerFired && urgentRuns < cap) urgent.activate();
    });
    const middle = activatable(1, () => order.push('middle'));
    const lowest = activatable(base.priorities - 1, () => order.push('lowest'));
    lowest.activate();
    middle.activate();
    urgent.activate();
    await waitFor(() => order.includes('lowest'), 20_000, 'the lowest-priority event');
    expect(order).toEqual(['node timer', 'middle', 'lowest']);
    expect(urgentRuns).toBeLessThan(cap);
    expect(urgentRuns).toBeGreaterThan(1);
    expect(base.stats().budgetBreaks).toBeGreaterThan(budgetBreaksBefore);
    for (const event of [urgent, middle, lowest]) event.free();
  });

  it('keeps Node responsive while a persistent read event at the lowest priority stays readable', async () => {
    const base = EventBase.default();
    const [fd, peer] = socketpair();
    writeSync(peer, 'never read'); // level-triggered: readable on every pass until freed
    let fired = 0;
    const flags = new Set<number>();
    const reader = new Event(fd, EV.READ | EV.PERSIST, (_fd, what) => {
      fired++;
      flags.add(what);
    });
    reader.priority = base.priorities - 1;
    reader.add();
    let urgentRuns = 0;
    const urgent = activatable(0, () => {
      urgentRuns++;
      if (urgentRuns < 20) urgent.activate();
    });
    urgent.activate();
    // A hang would stop Node's timers; these resolve only if each pass returns to Node.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await waitFor(() => fired >= 5 && urgentRuns === 20, 10_000, 'the reader and the urgent rounds');
    expect([...flags]).toEqual([EV.READ]);
    reader.free();
    urgent.free();
    const afterFree = fired;
    await turns(3);
    expect(fired).toBe(afterFree);
    closeSync(fd);
    closeSync(peer);
  });
});
