// A receiver waiting on a channel, as every layer queues them: it settles once, and an abort takes
// it out of its queue only while it is still there (one already handed a message keeps it).
import type { ChannelMessage } from './channel-layer.ts';

export interface Waiter {
  resolve(message: ChannelMessage): void;
  reject(error: unknown): void;
}

/**
 * A waiter for `receive(channel, { signal })`. When `signal` aborts first, `withdraw(waiter)` is
 * called to take it out of its queue; if it returns true the promise rejects with the signal's reason.
 */
export function abortableWaiter(
  signal: AbortSignal | undefined,
  resolve: (message: ChannelMessage) => void,
  reject: (error: unknown) => void,
  withdraw: (waiter: Waiter) => boolean,
): Waiter {
  const onAbort = (): void => {
    if (withdraw(waiter)) reject(signal!.reason);
  };
  const waiter: Waiter = {
    resolve: (message) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(message);
    },
    reject: (error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(error);
    },
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  return waiter;
}

/** Removes `waiter` from `waiters`; false when it was no longer there. */
export function removeWaiter(waiters: Waiter[], waiter: Waiter): boolean {
  const index = waiters.indexOf(waiter);
  if (index === -1) return false;
  waiters.splice(index, 1);
  return true;
}
