// Shared by the integrity matrices: run one call and check it either worked or threw a BuffereventError
// whose code is in the allowed set for that (state, method).
import { expect, onTestFinished } from 'vitest';
import { BuffereventError } from '../../src/index.ts';

export type Outcome = { threw: false; value: unknown } | { threw: true; error: unknown };

export function attempt(call: () => unknown): Outcome {
  try {
    return { threw: false, value: call() };
  } catch (error) {
    return { threw: true, error };
  }
}

/** The call worked, or threw a BuffereventError with one of `allowed` (an empty list: it must work). */
export function expectWorksOrThrows(outcome: Outcome, allowed: readonly string[]): void {
  if (!outcome.threw) return;
  expect(outcome.error).toBeInstanceOf(BuffereventError);
  const { code, message } = outcome.error as BuffereventError;
  expect({ code, message, allowed }).toEqual({ code: expect.toBeOneOf([...allowed]), message, allowed });
}

/** The call threw a BuffereventError with exactly `code`. */
export function expectThrowsCode(outcome: Outcome, code: string): void {
  expect(outcome.threw).toBe(true);
  if (!outcome.threw) return;
  expect(outcome.error).toBeInstanceOf(BuffereventError);
  expect((outcome.error as BuffereventError).code).toBe(code);
}

/**
 * Wraps `cleanup` so it runs once: where the test calls it, or after the test if an assertion failed
 * first (so one failure does not leak objects into the next test's counts).
 */
export function cleanupOnce(cleanup: () => void): () => void {
  let done = false;
  const run = (): void => {
    if (done) return;
    done = true;
    cleanup();
  };
  onTestFinished(run);
  return run;
}
