// RFC 6455 §5.3 masking: payload byte i is XORed with key[i % 4]. `offset` is the position of the
// first byte within the payload, so a payload can be (un)masked piece by piece as it arrives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace node_bufferevent::ws {

using MaskKey = uint8_t[4];

namespace mask_detail {

// The key rotated so that byte 0 of the result lines up with payload position `offset`, repeated
// to fill a 64-bit word (byte order does not matter: bytes go through memory in both directions).
inline uint64_t RotatedKeyWord(const uint8_t* key, uint64_t offset) {
  uint8_t bytes[8];
  for (unsigned i = 0; i < 8; ++i) bytes[i] = key[(offset + i) & 3];
  uint64_t word;
  std::memcpy(&word, bytes, sizeof word);
  return word;
}

}  // namespace mask_detail

// Writes source ^ mask into target; target may equal source (in place), but must not otherwise
// overlap it. Eight bytes at a time, through memcpy so any alignment is fine.
inline void MaskCopy(uint8_t* target, const uint8_t* source, size_t length, const uint8_t* key,
                     uint64_t offset) {
  uint64_t key_word = mask_detail::RotatedKeyWord(key, offset);
  size_t index = 0;
  for (; length - index >= 8; index += 8) {
    uint64_t word;
    std::memcpy(&word, source + index, sizeof word);
    word ^= key_word;
    std::memcpy(target + index, &word, sizeof word);
  }
  // index is a multiple of 8, so the key phase for the tail is still `offset`.
  for (; index < length; ++index) target[index] = source[index] ^ key[(offset + index) & 3];
}

inline void MaskInPlace(uint8_t* data, size_t length, const uint8_t* key, uint64_t offset) {
  MaskCopy(data, data, length, key, offset);
}

}  // namespace node_bufferevent::ws
