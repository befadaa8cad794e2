/* UTF-8 validation (see utf8.h), after the well-formed byte sequences table
 * of the Unicode Standard (section 3.9, table 3-7). */
#include "utf8.h"

#include <string.h>

int utf8_valid(const uint8_t* data, size_t length) {
  size_t i = 0;
  while (i < length) {
    /* ASCII runs, the common case, eight bytes at a time. */
    if (i + 8 <= length) {
      uint64_t word;
      memcpy(&word, data + i, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    uint8_t lead = data[i];
    if (lead < 0x80) {
      i++;
      continue;
    }
    size_t extra;
    uint8_t second_min = 0x80, second_max = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
      extra = 1;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      extra = 2;
      if (lead == 0xe0) second_min = 0xa0; /* overlong */
      if (lead == 0xed) second_max = 0x9f; /* surrogates */
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      extra = 3;
      if (lead == 0xf0) second_min = 0x90; /* overlong */
      if (lead == 0xf4) second_max = 0x8f; /* above U+10FFFF */
    } else {
      return 0;
    }
    if (i + extra >= length) return 0; /* truncated sequence */
    if (data[i + 1] < second_min || data[i + 1] > second_max) return 0;
    for (size_t k = 2; k <= extra; k++)
      if ((data[i + k] & 0xc0) != 0x80) return 0;
    i += extra + 1;
  }
  return 1;
}
