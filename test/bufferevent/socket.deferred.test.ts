// Callback order with and without deferred callbacks, and that no call runs a callback synchronously.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bufferevent, socketpair } from '../../src/index.ts';
import { BEV, EV, liveCounts, turns, waitFor } from '../helpers.ts';

function pair(deferCallbacks: boolean): [Bufferevent, Bufferevent] {
  const [a, b] = socketpair();
  return [Bufferevent.socket({ fd: a, deferCallbacks }), Bufferevent.socket({ fd: b, deferCallbacks })];
}

let start: ReturnType<typeof liveCounts>;
beforeEach(() => {
  start = liveCounts();
});
afterEach(() => {
  expect(liveCounts()).toEqual(start);
});

describe.each([{ deferCallbacks: true }, { deferCallbacks: false }])(
  'with deferCallbacks: $deferCallbacks',
  ({ deferCallbacks }) => {
    it('delivers the data before the EOF that followed it', async () => {
      const [reader, writer] = pair(deferCallbacks);
      writer.write('last words');
      await waitFor(() => writer.output.length === 0, 5_000, 'the write');
      writer.free();
      await turns(2);
      // Data and FIN are both waiting in the kernel before reading starts.
      const order: string[] = [];
      reader.setCallbacks({
        read: (bev) => order.push(`read:${bev.read().toString()}`),
        event: (_bev, events) => order.push(`event:${events}`),
      });
      reader.enable(EV.READ);
      await waitFor(() => order.length >= 2, 5_000, 'data and EOF');
      await turns(5);
      expect(order).toEqual(['read:last words', `event:${BEV.EOF | BEV.READING}`]);
      reader.free();
    });

    it('drains microtasks and nextTicks after each callback, before the next one', async () => {
      const [reader, writer] = pair(deferCallbacks);
      writer.write('x');
      await waitFor(() => writer.output.length === 0, 5_000, 'the write');
      writer.free();
      await turns(2);
      const order: string[] = [];
      reader.setCallbacks({
        read(bev) {
          bev.read();
          order.push('read');
          process.nextTick(() => order.push('tick'));
          queueMicrotask(() => order.push('microtask'));
        },
        event: () => order.push('event'),
      });
      reader.enable(EV.READ);
      await waitFor(() => order.includes('event'), 5_000, 'EOF');
      expect(order).toEqual(['read', 'tick', 'microtask', 'event']);
      reader.free();
    });

    it('never runs a callback inside write(), enable(), trigger() or triggerEvent()', async () => {
      const [a, b] = pair(deferCallbacks);
      let reads = 0;
      let writes = 0;
      let events = 0;
      a.setCallbacks({ read: () => reads++, write: () => writes++, event: () => events++ });

      a.write('ping');
      expect(writes).toBe(0);
      await waitFor(() => writes === 1, 5_000, 'the write callback');

      b.write('pong');
      await waitFor(() => b.output.length === 0, 5_000, 'the peer writing');
      await turns(2);
      a.enable(EV.READ); // data is already waiting in the kernel
      expect(reads).toBe(0);
      await waitFor(() => reads === 1, 5_000, 'the read callback');
      a.disable(EV.READ);

      a.trigger(EV.READ | EV.WRITE);
      expect(reads).toBe(1);
      expect(writes).toBe(1);
      await waitFor(() => reads === 2 && writes === 2, 5_000, 'the triggered callbacks');

      a.triggerEvent(BEV.EOF);
      expect(events).toBe(0);
      await waitFor(() => events === 1, 5_000, 'the triggered event');
      await turns(5);
      expect({ reads, writes, events }).toEqual({ reads: 2, writes: 2, events: 1 });
      a.free();
      b.free();
    });
  },
);
