// Bufferevent priorities: the default, the valid range, and data flowing at every priority at once.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBase } from '../../src/index.ts';
import { EV, liveCounts, socketPairBufferevents, turns, waitFor } from '../helpers.ts';

let start: ReturnType<typeof liveCounts>;
beforeEach(() => {
  start = liveCounts();
});
afterEach(() => {
  expect(liveCounts()).toEqual(start);
});

describe('priority', () => {
  it("starts at the base's default priority", () => {
    const base = EventBase.default();
    expect(base.priorities).toBeGreaterThanOrEqual(2);
    expect(base.defaultPriority).toBeGreaterThanOrEqual(0);
    expect(base.defaultPriority).toBeLessThan(base.priorities);
    const [a, b] = socketPairBufferevents();
    expect(a.priority).toBe(base.defaultPriority);
    expect(b.priority).toBe(base.defaultPriority);
    a.free();
    b.free();
  });

  it('accepts every priority from 0 to priorities - 1 and reads it back', () => {
    const { priorities } = EventBase.default();
    const [a, b] = socketPairBufferevents();
    for (let priority = 0; priority < priorities; priority++) {
      a.priority = priority;
      expect(a.priority).toBe(priority);
    }
    a.free();
    b.free();
  });

  it('throws ERR_INVALID_PRIORITY outside the range and keeps the old priority', () => {
    const { priorities } = EventBase.default();
    const [a, b] = socketPairBufferevents();
    a.priority = 0;
    for (const bad of [-1, priorities, priorities + 10, 0.5, Number.NaN]) {
      expect(() => {
        a.priority = bad;
      }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_PRIORITY' }));
    }
    expect(a.priority).toBe(0);
    a.free();
    b.free();
  });

  it('moves data at the highest and the lowest priority at the same time', async () => {
    const { priorities } = EventBase.default();
    const total = 1024 * 1024;
    const flows = [0, priorities - 1].map((priority) => {
      const [sender, receiver] = socketPairBufferevents();
      sender.priority = priority;
      receiver.priority = priority;
      const flow = { sender, receiver, received: 0 };
      receiver.setCallbacks({ read: (bev) => (flow.received += bev.input.drain()) });
      receiver.enable(EV.READ);
      sender.write(Buffer.alloc(total, priority));
      return flow;
    });
    await waitFor(() => flows.every((flow) => flow.received === total), 15_000, 'both transfers');
    for (const flow of flows) {
      flow.sender.free();
      flow.receiver.free();
    }
  });

  it('runs a triggered callback at the lowest priority and returns to Node', async () => {
    const { priorities } = EventBase.default();
    const [a, b] = socketPairBufferevents();
    a.priority = priorities - 1;
    const order: string[] = [];
    a.setCallbacks({ read: () => order.push('read') });
    a.trigger(EV.READ);
    await new Promise((resolve) => setImmediate(resolve));
    await turns(3);
    order.push('immediate');
    expect(order).toEqual(['read', 'immediate']);
    a.free();
    b.free();
  });
});
