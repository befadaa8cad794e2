// The codec's test entry points live in their own module (bufferevent_codec_test.node): the
// production addon must not carry them.
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native.ts';
import { codec } from './codec.ts';

describe('the test-only codec module', () => {
  it('is not part of the production addon', () => {
    expect(Object.keys(native)).not.toContain('wsCodecTest');
    for (const name of ['parse', 'validateUtf8', 'mask', 'writeFrame'])
      expect(native).not.toHaveProperty(name);
  });

  it('is loaded from its own module with its four entry points', () => {
    expect(Object.keys(codec).sort()).toEqual(['mask', 'parse', 'validateUtf8', 'writeFrame']);
  });
});
