/* Deterministic payload bytes for a stream (connection) and byte offset, so
 * every echoed byte can be checked without remembering what was sent. */
#ifndef LOADGEN_PATTERN_H
#define LOADGEN_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/* The pattern repeats every PATTERN_PERIOD bytes (a prime, so it does not line
 * up with power-of-two chunk sizes); each stream starts at its own phase. */
#define PATTERN_PERIOD 65521u

/* Binary bytes take any value; text bytes are printable ASCII (0x20-0x7e), the
 * same stream and offset giving the text form of the binary byte, so text
 * payloads are valid UTF-8 (WebSocket text messages). JSON bytes are ASCII
 * too: a run of JSON-like records (keys, numbers, repeated structure) that
 * compresses about as real API traffic does, where the other two kinds do not
 * compress at all. */
enum pattern_kind { PATTERN_BINARY, PATTERN_TEXT, PATTERN_JSON };

void pattern_init(void);

/* Pointer to the pattern bytes of `stream` starting at `offset`; *contiguous is
 * set to how many bytes may be read from it (PATTERN_PERIOD). */
const uint8_t* pattern_at(uint32_t stream, uint64_t offset, size_t* contiguous);

/* Compares `data` with the pattern of `stream` at `offset`. Returns -1 when all
 * `length` bytes match, else the index of the first differing byte. */
long pattern_check(uint32_t stream, uint64_t offset, const uint8_t* data, size_t length);

/* The same for either kind, plus a copy of any length into `destination`. */
const uint8_t* pattern_kind_at(enum pattern_kind kind, uint32_t stream, uint64_t offset,
                               size_t* contiguous);
long pattern_kind_check(enum pattern_kind kind, uint32_t stream, uint64_t offset,
                        const uint8_t* data, size_t length);
void pattern_copy(enum pattern_kind kind, uint32_t stream, uint64_t offset, uint8_t* destination,
                  size_t length);

#endif
