// The native Inotify checks its own arguments too (second line behind src/inotify.ts): a wrong
// value handed straight to the addon is a coded error, never a crash or a watch on a wrong path.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { native } from '../../src/native.ts';
import { checkNothingLeaksAfterEach, errorCodeOf } from '../helpers.ts';

checkNothingLeaksAfterEach({ fds: true });
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bufferevent-inotify-native-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

type Loose = (...args: unknown[]) => unknown;

describe('native Inotify', () => {
  it('refuses wrong paths, masks and wds with ERR_INVALID_ARG', () => {
    const inotify = new native.Inotify();
    const addWatch = inotify.addWatch.bind(inotify) as Loose;
    const removeWatch = inotify.removeWatch.bind(inotify) as Loose;
    for (const [pathArgument, mask] of [
      [undefined, 2],
      [{ toString: () => dir }, 2],
      [Buffer.from(dir), 2],
      ['', 2],
      [`${dir}\0/etc`, 2],
      [dir, undefined],
      [dir, -2],
      [dir, 2 ** 32],
      [dir, 1e300],
      [dir, Number.NaN],
      [dir, 0.5],
      [dir, 2n],
      [dir, 0x80000000], // IN.ONESHOT alone: no event
    ] as const) {
      expect(errorCodeOf(() => addWatch(pathArgument, mask))).toBe('ERR_INVALID_ARG');
    }
    for (const wd of [undefined, -1, 2 ** 31, Infinity, '1', 1.5]) {
      expect(errorCodeOf(() => removeWatch(wd))).toBe('ERR_INVALID_ARG');
    }
    expect(errorCodeOf(() => addWatch(dir, 2))).toBeUndefined();
    inotify.close();
    expect(errorCodeOf(() => addWatch(dir, 2))).toBe('ERR_FREED');
    expect(errorCodeOf(() => inotify.readEvents())).toBe('ERR_FREED');
    expect(errorCodeOf(() => inotify.fd())).toBe('ERR_FREED');
    inotify.close();
  });

  it('refuses to run its methods on another object (V8 checks the receiver)', () => {
    const inotify = new native.Inotify();
    const event = new native.Event({}, -1, 0);
    expect(() => (inotify.readEvents as Loose).call(event)).toThrow(TypeError);
    expect(() => (inotify.fd as Loose).call({})).toThrow(TypeError);
    event.free();
    inotify.close();
  });
});
