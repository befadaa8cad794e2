// The codec's test entry points live in their own module (bufferevent_codec_test.node): the
// production addon must not carry them.
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native.ts';
import { codec } from './codec.ts';

// The frame codec's four, and permessage-deflate's three (deflate_test_binding.cc).
const ENTRY_POINTS = [
  'deflateMessages',
  'inflateMessages',
  'mask',
  'parse',
  'validateUtf8',
  'writeFrame',
  'zlibContextMemory',
];

describe('the test-only codec module', () => {
  it('is not part of the production addon', () => {
    expect(Object.keys(native)).not.toContain('wsCodecTest');
    for (const name of ENTRY_POINTS) expect(native).not.toHaveProperty(name);
  });

  it('is loaded from its own module with its entry points', () => {
    expect(Object.keys(codec).sort()).toEqual(ENTRY_POINTS);
  });
});
