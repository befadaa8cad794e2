// Every fixture in fixtures.ts gives the same outcome fed whole, in 1-byte chunks, at every two- and
// three-part split, with a pause after every callback and with all chains buffered first; and that
// outcome is the expected one.
import { describe, expect, it } from 'vitest';
import { fingerprint, parseChunks, parseEverySplit } from './codec.ts';
import { fixtures } from './fixtures.ts';

describe.each(fixtures)('fixture "$name"', ({ bytes, options, closeCode }) => {
  it(closeCode ? `fails with ${closeCode} at every split` : 'parses cleanly at every split', () => {
    const outcome = parseEverySplit(bytes, options);
    expect(outcome.error?.closeCode).toBe(closeCode);
    if (!closeCode) {
      expect(outcome.state).toBe('header');
      expect(outcome.remaining).toBe(0);
      expect(outcome.frames.every((frame) => frame.ended)).toBe(true);
    }
  });

  it('gives the same outcome at every three-part split', () => {
    const expected = fingerprint(parseChunks([bytes], options));
    for (let first = 0; first <= bytes.length; first++) {
      for (let second = first; second <= bytes.length; second++) {
        const chunks = [bytes.subarray(0, first), bytes.subarray(first, second), bytes.subarray(second)];
        expect(fingerprint(parseChunks(chunks, options)), `splits at ${first} and ${second}`).toBe(expected);
      }
    }
  });
});
