/* Frame-level helpers of the reference server (see frame.h). */
#include "frame.h"

#include <string.h>

/* Writes the header of an unmasked, final frame into `header`; returns its length. */
size_t frame_header(uint8_t* header, uint8_t opcode, size_t length) {
  header[0] = (uint8_t)(0x80 | opcode);
  if (length < 126) {
    header[1] = (uint8_t)length;
    return 2;
  }
  if (length <= 0xffff) {
    header[1] = 126;
    header[2] = (uint8_t)(length >> 8);
    header[3] = (uint8_t)length;
    return 4;
  }
  header[1] = 127;
  for (int i = 0; i < 8; i++) header[2 + i] = (uint8_t)((uint64_t)length >> (56 - 8 * i));
  return 10;
}

int valid_close_code(int code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

void frame_unmask(uint8_t* data, size_t length, const uint8_t mask[4]) {
  uint8_t mask8[8] = {mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3]};
  uint64_t key;
  memcpy(&key, mask8, 8);
  size_t i = 0;
  for (; i + 8 <= length; i += 8) {
    uint64_t word;
    memcpy(&word, data + i, 8);
    word ^= key;
    memcpy(data + i, &word, 8);
  }
  for (; i < length; i++) data[i] ^= mask[i & 3];
}
