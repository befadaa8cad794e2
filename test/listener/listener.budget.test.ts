// The accept budget (native/event_loop.h): libevent's listener would accept a whole backlog in one
// callback; once the loop's budget of calls into JavaScript is spent the listener pauses until the
// next round of passes. The user's disable() and close() still rule while it is paused.
import { closeSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { EventBase, Listener } from '../../src/index.ts';
import { checkNothingLeaksAfterEach, turns, waitFor } from '../helpers.ts';

checkNothingLeaksAfterEach();

const BACKLOG = 300; // several budgets' worth, all waiting in the kernel before accepting starts

/** A disabled listener with BACKLOG connections completed by the kernel and not yet accepted. */
async function listenerWithBacklog(onAccept: (fd: number) => void) {
  const listener = Listener.listen({ host: '127.0.0.1', port: 0, backlog: 1024 }, onAccept);
  listener.disable();
  const clients = await Promise.all(
    Array.from(
      { length: BACKLOG },
      () =>
        new Promise<net.Socket>((resolve, reject) => {
          const socket = net.connect(listener.address.port, '127.0.0.1', () => resolve(socket));
          socket.once('error', reject);
        }),
    ),
  );
  for (const socket of clients) socket.on('error', () => {}); // closed by the server: maybe a reset
  return { listener, clients };
}

describe('a listener paused by the accept budget', () => {
  it('accepts a backlog over several turns; disable() while paused holds, enable() takes the rest', async () => {
    const base = EventBase.default();
    let accepted = 0;
    let acceptedWhenDisabled = -1;
    const { listener, clients } = await listenerWithBacklog((fd) => {
      closeSync(fd);
      if (++accepted === 1) {
        // After this round of passes, before the next one resumes the paused listener.
        setImmediate(() => {
          acceptedWhenDisabled = accepted;
          listener.disable();
        });
      }
    });
    const breaksBefore = base.stats().budgetBreaks;
    listener.enable();
    await waitFor(() => acceptedWhenDisabled >= 0, 10_000, 'the first round of accepts');

    expect(acceptedWhenDisabled).toBeGreaterThan(0);
    expect(acceptedWhenDisabled).toBeLessThan(BACKLOG); // the budget stopped the accept loop
    expect(base.stats().budgetBreaks).toBeGreaterThan(breaksBefore);
    await turns(5);
    expect(accepted).toBe(acceptedWhenDisabled); // the paused listener was not resumed

    listener.enable();
    await waitFor(() => accepted === BACKLOG, 10_000, 'the rest of the backlog');
    await turns(3);
    expect(accepted).toBe(BACKLOG);
    listener.close();
    for (const socket of clients) socket.destroy();
  });

  it('closed while paused, accepts nothing more and is not resumed', async () => {
    let accepted = 0;
    let acceptedWhenClosed = -1;
    const { listener, clients } = await listenerWithBacklog((fd) => {
      closeSync(fd);
      if (++accepted === 1) {
        setImmediate(() => {
          acceptedWhenClosed = accepted;
          listener.close();
        });
      }
    });
    listener.enable();
    await waitFor(() => acceptedWhenClosed >= 0, 10_000, 'the first round of accepts');
    expect(acceptedWhenClosed).toBeLessThan(BACKLOG);
    await turns(5);
    expect(accepted).toBe(acceptedWhenClosed);
    for (const socket of clients) socket.destroy();
  });
});
