/* SHA-1 and base64 for the handshake (see sha1.h). */
#include "sha1.h"

#include <string.h>

static uint32_t rotate_left(uint32_t value, int bits) {
  return (value << bits) | (value >> (32 - bits));
}

static uint32_t load_big_endian(const uint8_t* bytes) {
  return (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | bytes[3];
}

/* Folds one 64-byte block into the state (FIPS 180-4 section 6.1.2). */
static void sha1_block(uint32_t state[5], const uint8_t block[64]) {
  uint32_t w[80];
  for (int t = 0; t < 16; t++) w[t] = load_big_endian(block + 4 * t);
  for (int t = 16; t < 80; t++) w[t] = rotate_left(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];
  for (int t = 0; t < 80; t++) {
    uint32_t f, k;
    if (t < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999;
    } else if (t < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1;
    } else if (t < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdc;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6;
    }
    uint32_t next = rotate_left(a, 5) + f + e + k + w[t];
    e = d;
    d = c;
    c = rotate_left(b, 30);
    b = a;
    a = next;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
}

void sha1(const uint8_t* data, size_t length, uint8_t digest[SHA1_DIGEST_SIZE]) {
  uint32_t state[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
  size_t whole = length - length % 64;
  for (size_t offset = 0; offset < whole; offset += 64) sha1_block(state, data + offset);

  /* Padding: 0x80, zeros, then the length in bits as 64-bit big-endian; one
   * block, or two when fewer than 9 bytes are left in the first. */
  uint8_t tail[128] = {0};
  size_t rest = length - whole;
  memcpy(tail, data + whole, rest);
  tail[rest] = 0x80;
  size_t tail_length = rest + 9 <= 64 ? 64 : 128;
  uint64_t bits = (uint64_t)length * 8;
  for (int i = 0; i < 8; i++) tail[tail_length - 1 - i] = (uint8_t)(bits >> (8 * i));
  for (size_t offset = 0; offset < tail_length; offset += 64) sha1_block(state, tail + offset);

  for (int i = 0; i < 5; i++) {
    digest[4 * i] = (uint8_t)(state[i] >> 24);
    digest[4 * i + 1] = (uint8_t)(state[i] >> 16);
    digest[4 * i + 2] = (uint8_t)(state[i] >> 8);
    digest[4 * i + 3] = (uint8_t)state[i];
  }
}

size_t base64_encode(const uint8_t* data, size_t length, char* out) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t written = 0;
  size_t i = 0;
  for (; i + 3 <= length; i += 3) {
    uint32_t group = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
    out[written++] = alphabet[group >> 18];
    out[written++] = alphabet[(group >> 12) & 63];
    out[written++] = alphabet[(group >> 6) & 63];
    out[written++] = alphabet[group & 63];
  }
  if (length - i == 1) {
    uint32_t group = (uint32_t)data[i] << 16;
    out[written++] = alphabet[group >> 18];
    out[written++] = alphabet[(group >> 12) & 63];
    out[written++] = '=';
    out[written++] = '=';
  } else if (length - i == 2) {
    uint32_t group = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
    out[written++] = alphabet[group >> 18];
    out[written++] = alphabet[(group >> 12) & 63];
    out[written++] = alphabet[(group >> 6) & 63];
    out[written++] = '=';
  }
  out[written] = '\0';
  return written;
}
