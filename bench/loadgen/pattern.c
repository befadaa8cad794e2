/* Pattern tables: PATTERN_PERIOD pseudo-random bytes stored twice in a row, so
 * any window of up to PATTERN_PERIOD bytes is contiguous (one memcpy/memcmp);
 * one table of any bytes, one of printable ASCII. */
#include "pattern.h"

#include <string.h>

static uint8_t pattern_table[2 * PATTERN_PERIOD];
static uint8_t text_table[2 * PATTERN_PERIOD];

void pattern_init(void) {
  uint64_t state = 0x9e3779b97f4a7c15ull; /* fixed seed: runs are reproducible */
  for (size_t i = 0; i < PATTERN_PERIOD; i++) {
    state ^= state << 13; /* xorshift64 */
    state ^= state >> 7;
    state ^= state << 17;
    pattern_table[i] = (uint8_t)(state >> 32);
    text_table[i] = (uint8_t)(0x20 + pattern_table[i] % 95);
  }
  memcpy(pattern_table + PATTERN_PERIOD, pattern_table, PATTERN_PERIOD);
  memcpy(text_table + PATTERN_PERIOD, text_table, PATTERN_PERIOD);
}

static size_t phase(uint32_t stream, uint64_t offset) {
  /* 7919 is prime: neighbouring streams get unrelated phases. */
  return (size_t)((offset + (uint64_t)stream * 7919u) % PATTERN_PERIOD);
}

static const uint8_t* table_of(enum pattern_kind kind) {
  return kind == PATTERN_TEXT ? text_table : pattern_table;
}

const uint8_t* pattern_kind_at(enum pattern_kind kind, uint32_t stream, uint64_t offset,
                               size_t* contiguous) {
  *contiguous = PATTERN_PERIOD;
  return table_of(kind) + phase(stream, offset);
}

long pattern_kind_check(enum pattern_kind kind, uint32_t stream, uint64_t offset,
                        const uint8_t* data, size_t length) {
  const uint8_t* table = table_of(kind);
  size_t done = 0;
  while (done < length) {
    size_t window = length - done < PATTERN_PERIOD ? length - done : PATTERN_PERIOD;
    const uint8_t* expected = table + phase(stream, offset + done);
    if (memcmp(expected, data + done, window) != 0) {
      for (size_t i = 0; i < window; i++)
        if (expected[i] != data[done + i]) return (long)(done + i);
    }
    done += window;
  }
  return -1;
}

void pattern_copy(enum pattern_kind kind, uint32_t stream, uint64_t offset, uint8_t* destination,
                  size_t length) {
  const uint8_t* table = table_of(kind);
  size_t done = 0;
  while (done < length) {
    size_t window = length - done < PATTERN_PERIOD ? length - done : PATTERN_PERIOD;
    memcpy(destination + done, table + phase(stream, offset + done), window);
    done += window;
  }
}

const uint8_t* pattern_at(uint32_t stream, uint64_t offset, size_t* contiguous) {
  return pattern_kind_at(PATTERN_BINARY, stream, offset, contiguous);
}

long pattern_check(uint32_t stream, uint64_t offset, const uint8_t* data, size_t length) {
  return pattern_kind_check(PATTERN_BINARY, stream, offset, data, length);
}
