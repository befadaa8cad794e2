/* Pattern table: PATTERN_PERIOD pseudo-random bytes stored twice in a row, so
 * any window of up to PATTERN_PERIOD bytes is contiguous (one memcpy/memcmp). */
#include "pattern.h"

#include <string.h>

static uint8_t pattern_table[2 * PATTERN_PERIOD];

void pattern_init(void) {
  uint64_t state = 0x9e3779b97f4a7c15ull; /* fixed seed: runs are reproducible */
  for (size_t i = 0; i < PATTERN_PERIOD; i++) {
    state ^= state << 13; /* xorshift64 */
    state ^= state >> 7;
    state ^= state << 17;
    pattern_table[i] = (uint8_t)(state >> 32);
  }
  memcpy(pattern_table + PATTERN_PERIOD, pattern_table, PATTERN_PERIOD);
}

static size_t phase(uint32_t stream, uint64_t offset) {
  /* 7919 is prime: neighbouring streams get unrelated phases. */
  return (size_t)((offset + (uint64_t)stream * 7919u) % PATTERN_PERIOD);
}

const uint8_t* pattern_at(uint32_t stream, uint64_t offset, size_t* contiguous) {
  *contiguous = PATTERN_PERIOD;
  return pattern_table + phase(stream, offset);
}

long pattern_check(uint32_t stream, uint64_t offset, const uint8_t* data, size_t length) {
  size_t done = 0;
  while (done < length) {
    size_t window = length - done < PATTERN_PERIOD ? length - done : PATTERN_PERIOD;
    const uint8_t* expected = pattern_table + phase(stream, offset + done);
    if (memcmp(expected, data + done, window) != 0) {
      for (size_t i = 0; i < window; i++)
        if (expected[i] != data[done + i]) return (long)(done + i);
    }
    done += window;
  }
  return -1;
}
