/* Pattern tables: PATTERN_PERIOD pseudo-random bytes stored twice in a row, so
 * any window of up to PATTERN_PERIOD bytes is contiguous (one memcpy/memcmp);
 * one table of any bytes, one of printable ASCII, one of JSON-like records. */
#include "pattern.h"

#include <stdio.h>
#include <string.h>

static uint8_t pattern_table[2 * PATTERN_PERIOD];
static uint8_t text_table[2 * PATTERN_PERIOD];
static uint8_t json_table[2 * PATTERN_PERIOD];

static uint64_t next_random(uint64_t* state) {
  *state ^= *state << 13; /* xorshift64 */
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return *state;
}

/* Records shaped like a chat or event API's: the same keys in the same order,
 * a few enumerated values, and numbers, ids and times that vary. zlib (level 6,
 * window 15) shrinks a 1 KiB window of it about 2.7x alone and about 5x with
 * the windows before it as context (context takeover), 64 KiB about 5.6x. */
static void fill_json_table(void) {
  static const char* const events[] = {"message", "join", "leave", "typing", "read", "react"};
  static const char* const rooms[] = {"general", "random", "support", "dev", "ops"};
  static const char* const tags[] = {"alpha", "beta", "gamma", "delta", "urgent", "later", "info"};
  uint64_t state = 0x2545f4914f6cdd1dull; /* fixed seed: runs are reproducible */
  size_t filled = 0;
  char record[256];
  while (filled < PATTERN_PERIOD) {
    uint64_t r1 = next_random(&state), r2 = next_random(&state);
    int length = snprintf(
        record, sizeof record,
        "{\"id\":%u,\"type\":\"%s\",\"room\":\"%s\",\"user\":{\"id\":%u,\"name\":\"user%u\"},"
        "\"seen\":%s,\"score\":%u.%02u,\"tags\":[\"%s\",\"%s\"],"
        "\"at\":\"2026-12-%02uT%02u:%02u:%02u.%03uZ\"},\n",
        (unsigned)(r1 % 1000000), events[(r1 >> 20) % 6], rooms[(r1 >> 24) % 5],
        (unsigned)((r1 >> 28) % 5000), (unsigned)((r1 >> 28) % 5000),
        (r1 >> 40) & 1 ? "true" : "false", (unsigned)((r1 >> 41) % 100),
        (unsigned)((r1 >> 48) % 100), tags[r2 % 7], tags[(r2 >> 8) % 7],
        (unsigned)(1 + (r2 >> 16) % 28), (unsigned)((r2 >> 24) % 24), (unsigned)((r2 >> 32) % 60),
        (unsigned)((r2 >> 40) % 60), (unsigned)((r2 >> 48) % 1000));
    size_t take =
        (size_t)length < PATTERN_PERIOD - filled ? (size_t)length : PATTERN_PERIOD - filled;
    memcpy(json_table + filled, record, take);
    filled += take;
  }
}

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
  fill_json_table();
  memcpy(json_table + PATTERN_PERIOD, json_table, PATTERN_PERIOD);
}

static size_t phase(uint32_t stream, uint64_t offset) {
  /* 7919 is prime: neighbouring streams get unrelated phases. */
  return (size_t)((offset + (uint64_t)stream * 7919u) % PATTERN_PERIOD);
}

static const uint8_t* table_of(enum pattern_kind kind) {
  return kind == PATTERN_TEXT ? text_table : kind == PATTERN_JSON ? json_table : pattern_table;
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
