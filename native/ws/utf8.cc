// The validator is a table of RFC 3629's well-formed byte sequences written as a state machine:
// each lead byte fixes how many continuation bytes follow and the range of the first of them.
#include "utf8.h"

#include <cstring>

namespace node_bufferevent::ws {

namespace {

constexpr uint64_t kHighBits = 0x8080808080808080ull;

// Skips the ASCII run at the start of [data, data + length) eight bytes at a time; returns the
// number of leading ASCII bytes (it may stop up to 7 bytes early, the caller checks those singly).
size_t SkipAsciiWords(const uint8_t* data, size_t length) {
  size_t index = 0;
  while (length - index >= 8) {
    uint64_t word;
    std::memcpy(&word, data + index, sizeof word);
    if ((word & kHighBits) != 0) break;
    index += 8;
  }
  return index;
}

}  // namespace

bool Utf8Validator::Fail(size_t index_in_piece) {
  failed_ = true;
  // The offending byte is the first one not accepted: its offset is the count accepted.
  bytes_accepted_ += index_in_piece;
  return false;
}

bool Utf8Validator::Feed(const uint8_t* data, size_t length) {
  if (failed_) return false;
  size_t index = 0;
  while (index < length) {
    if (continuations_left_ == 0) {
      index += SkipAsciiWords(data + index, length - index);
      if (index == length) break;
      uint8_t lead = data[index];
      if (lead < 0x80) {
        ++index;
        continue;
      }
      // Lead bytes: C2..DF take one continuation, E0..EF two, F0..F4 three. C0, C1 (always
      // overlong), F5..FF (beyond U+10FFFF) and 80..BF (continuations) can never start a character.
      next_lowest_ = 0x80;
      next_highest_ = 0xBF;
      if (lead >= 0xC2 && lead <= 0xDF) {
        continuations_left_ = 1;
      } else if (lead >= 0xE0 && lead <= 0xEF) {
        continuations_left_ = 2;
        if (lead == 0xE0) next_lowest_ = 0xA0;   // E0 80..9F would be overlong
        if (lead == 0xED) next_highest_ = 0x9F;  // ED A0..BF would be a surrogate
      } else if (lead >= 0xF0 && lead <= 0xF4) {
        continuations_left_ = 3;
        if (lead == 0xF0) next_lowest_ = 0x90;   // F0 80..8F would be overlong
        if (lead == 0xF4) next_highest_ = 0x8F;  // F4 90.. would be above U+10FFFF
      } else {
        return Fail(index);
      }
      ++index;
      continue;
    }
    uint8_t byte = data[index];
    if (byte < next_lowest_ || byte > next_highest_) return Fail(index);
    next_lowest_ = 0x80;
    next_highest_ = 0xBF;
    --continuations_left_;
    ++index;
  }
  bytes_accepted_ += length;
  return true;
}

}  // namespace node_bufferevent::ws
