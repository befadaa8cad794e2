// Assertions on thrown BuffereventErrors, kept apart from test/helpers.ts because they need no addon
// (the routing and channel-layer tests run without loading it).
import { expect } from 'vitest';
import { BuffereventError } from '../src/errors.ts';

/** The code of the BuffereventError `action` throws, or undefined if it does not throw. */
export function errorCodeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(BuffereventError);
    return (error as BuffereventError).code;
  }
  return undefined;
}

/** The BuffereventError `action` throws; fails the test when it throws nothing. */
export function thrownError(action: () => unknown): BuffereventError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(BuffereventError);
    return error as BuffereventError;
  }
  throw new Error('expected a BuffereventError, nothing was thrown');
}
