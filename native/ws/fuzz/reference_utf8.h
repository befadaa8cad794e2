// Fuzzing oracle for UTF-8, built differently from Utf8Validator: valid prefixes come from encoding
// every Unicode scalar value, complete sequences are checked by decoding and re-encoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <unordered_set>

namespace node_bufferevent::ws::reference {

struct Utf8Verdict {
  bool valid = true;     // no byte so far rules UTF-8 out
  bool complete = true;  // valid and not inside a sequence at the end
  size_t error_offset = 0;
  bool operator==(const Utf8Verdict&) const = default;
};

inline size_t EncodeCodePoint(uint32_t code_point, uint8_t* out) {
  if (code_point < 0x80) {
    out[0] = static_cast<uint8_t>(code_point);
    return 1;
  }
  if (code_point < 0x800) {
    out[0] = static_cast<uint8_t>(0xC0 | (code_point >> 6));
    out[1] = static_cast<uint8_t>(0x80 | (code_point & 0x3F));
    return 2;
  }
  if (code_point < 0x10000) {
    out[0] = static_cast<uint8_t>(0xE0 | (code_point >> 12));
    out[1] = static_cast<uint8_t>(0x80 | ((code_point >> 6) & 0x3F));
    out[2] = static_cast<uint8_t>(0x80 | (code_point & 0x3F));
    return 3;
  }
  out[0] = static_cast<uint8_t>(0xF0 | (code_point >> 18));
  out[1] = static_cast<uint8_t>(0x80 | ((code_point >> 12) & 0x3F));
  out[2] = static_cast<uint8_t>(0x80 | ((code_point >> 6) & 0x3F));
  out[3] = static_cast<uint8_t>(0x80 | (code_point & 0x3F));
  return 4;
}

inline uint32_t PrefixKey(const uint8_t* bytes, size_t length) {
  uint32_t key = static_cast<uint32_t>(length) << 24;
  for (size_t i = 0; i < length; ++i) key |= static_cast<uint32_t>(bytes[i]) << (16 - 8 * i);
  return key;
}

// Every proper prefix (1 to length-1 bytes) of the encoding of every scalar value.
inline const std::unordered_set<uint32_t>& ProperPrefixes() {
  static const std::unordered_set<uint32_t>* prefixes = [] {
    auto* set = new std::unordered_set<uint32_t>();
    for (uint32_t code_point = 0x80; code_point <= 0x10FFFF; ++code_point) {
      if (code_point >= 0xD800 && code_point <= 0xDFFF) continue;
      uint8_t bytes[4];
      size_t length = EncodeCodePoint(code_point, bytes);
      for (size_t k = 1; k < length; ++k) set->insert(PrefixKey(bytes, k));
    }
    return set;
  }();
  return *prefixes;
}

// Decodes by bit arithmetic alone, then demands that re-encoding gives the same bytes (which rules
// out overlong forms) and that the value is a scalar value.
inline bool RoundTrips(const uint8_t* bytes, size_t length) {
  uint32_t code_point = bytes[0] & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    if ((bytes[i] & 0xC0) != 0x80) return false;
    code_point = (code_point << 6) | (bytes[i] & 0x3F);
  }
  if (code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) return false;
  uint8_t again[4];
  return EncodeCodePoint(code_point, again) == length && std::memcmp(again, bytes, length) == 0;
}

inline Utf8Verdict CheckUtf8(const uint8_t* data, size_t size) {
  const auto& prefixes = ProperPrefixes();
  size_t i = 0;
  while (i < size) {
    uint8_t lead = data[i];
    size_t length = lead < 0x80             ? 1
                    : (lead & 0xE0) == 0xC0 ? 2
                    : (lead & 0xF0) == 0xE0 ? 3
                    : (lead & 0xF8) == 0xF0 ? 4
                                            : 0;
    if (length == 0) return {false, false, i};
    if (length == 1) {
      ++i;
      continue;
    }
    for (size_t k = 1; k < length; ++k) {
      if (prefixes.count(PrefixKey(data + i, k)) == 0) return {false, false, i + k - 1};
      if (i + k == size) return {true, false, 0};
    }
    if (!RoundTrips(data + i, length)) return {false, false, i + length - 1};
    i += length;
  }
  return {true, true, 0};
}

}  // namespace node_bufferevent::ws::reference
