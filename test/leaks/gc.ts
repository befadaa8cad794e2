// Garbage-collection helpers for the leak tests (vitest runs these files with --expose-gc).
import { setImmediate as nextImmediate } from 'node:timers/promises';

function forceGc(): void {
  if (typeof globalThis.gc !== 'function') throw new Error('run the leak tests with --expose-gc');
  globalThis.gc();
}

/**
 * Collects until `done()` holds, at most `rounds` times. Each round yields a loop turn before the
 * collection (WeakRef.deref() keeps its target alive until the current job ends, so `done()` and
 * gc() must not share a job) and one after it (native finalizers and libevent's deferred frees run
 * after the collection that found the object).
 */
export async function collectUntil(done: () => boolean, rounds = 50): Promise<boolean> {
  for (let i = 0; i < rounds; i++) {
    await nextImmediate();
    forceGc();
    await nextImmediate();
    if (done()) return true;
  }
  return false;
}

/** The heap in use after a few full collections (with loop turns in between for finalizers). */
export async function settledHeapUsed(): Promise<number> {
  await collectUntil(() => false, 4);
  return process.memoryUsage().heapUsed;
}
