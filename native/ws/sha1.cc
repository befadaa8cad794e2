// SHA-1 over two consecutive inputs, written from FIPS 180-4 §6.1: 64-byte blocks, 80 rounds, the
// message padded with 0x80, zeros and its bit length (big-endian) to a multiple of 64 bytes.
#include "sha1.h"

#include <algorithm>
#include <cstring>

namespace node_bufferevent::ws {

namespace {

uint32_t RotateLeft(uint32_t value, int bits) { return (value << bits) | (value >> (32 - bits)); }

void CompressBlock(uint32_t state[5], const uint8_t block[64]) {
  uint32_t w[80];
  for (int t = 0; t < 16; t++) {
    w[t] = (uint32_t{block[t * 4]} << 24) | (uint32_t{block[t * 4 + 1]} << 16) |
           (uint32_t{block[t * 4 + 2]} << 8) | uint32_t{block[t * 4 + 3]};
  }
  for (int t = 16; t < 80; t++) w[t] = RotateLeft(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];
  for (int t = 0; t < 80; t++) {
    uint32_t f;
    uint32_t k;
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
    uint32_t next = RotateLeft(a, 5) + f + e + k + w[t];
    e = d;
    d = c;
    c = RotateLeft(b, 30);
    b = a;
    a = next;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
}

}  // namespace

Sha1Digest Sha1(const uint8_t* first, size_t first_length, const uint8_t* second,
                size_t second_length) {
  uint32_t state[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
  uint8_t block[64];
  size_t filled = 0;
  auto absorb = [&](const uint8_t* data, size_t length) {
    while (length > 0) {
      size_t take = std::min(length, sizeof block - filled);
      std::memcpy(block + filled, data, take);
      filled += take;
      data += take;
      length -= take;
      if (filled == sizeof block) {
        CompressBlock(state, block);
        filled = 0;
      }
    }
  };
  absorb(first, first_length);
  absorb(second, second_length);
  const uint64_t bit_length = (static_cast<uint64_t>(first_length) + second_length) * 8;
  block[filled++] = 0x80;
  if (filled > 56) {
    std::memset(block + filled, 0, sizeof block - filled);
    CompressBlock(state, block);
    filled = 0;
  }
  std::memset(block + filled, 0, 56 - filled);
  for (int i = 0; i < 8; i++) block[56 + i] = static_cast<uint8_t>(bit_length >> (56 - 8 * i));
  CompressBlock(state, block);
  Sha1Digest digest;
  for (int i = 0; i < 5; i++) {
    digest[i * 4] = static_cast<uint8_t>(state[i] >> 24);
    digest[i * 4 + 1] = static_cast<uint8_t>(state[i] >> 16);
    digest[i * 4 + 2] = static_cast<uint8_t>(state[i] >> 8);
    digest[i * 4 + 3] = static_cast<uint8_t>(state[i]);
  }
  return digest;
}

}  // namespace node_bufferevent::ws
