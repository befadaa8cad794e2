// Incremental UTF-8 validation (RFC 3629 §4) for WebSocket text messages and close reasons: bytes
// may arrive in any number of pieces, and validation fails at the first byte that rules UTF-8 out.
#pragma once

#include <cstddef>
#include <cstdint>

namespace node_bufferevent::ws {

class Utf8Validator {
 public:
  // Validates `length` more bytes. Returns false at the first byte that cannot be part of any valid
  // UTF-8 text (an invalid lead byte, an overlong form, a surrogate, a code point above U+10FFFF, a
  // stray or missing continuation byte); error_offset() then says which byte, and every later Feed
  // returns false without looking at its bytes. A sequence left open at the end is not an error
  // here: it may be finished by the next piece (ask Complete() at the end of the text).
  bool Feed(const uint8_t* data, size_t length);

  // True when everything fed so far is valid and ends on a character boundary.
  bool Complete() const { return !failed_ && continuations_left_ == 0; }
  bool failed() const { return failed_; }
  // Offset of the offending byte, counted from the first byte fed since construction or Reset().
  // Meaningful only once failed().
  uint64_t error_offset() const { return bytes_accepted_; }
  // Bytes accepted so far (the offending byte and everything after it are not counted).
  uint64_t bytes_accepted() const { return bytes_accepted_; }

  void Reset() { *this = Utf8Validator(); }

 private:
  bool Fail(size_t index_in_piece);

  // Within a multi-byte sequence: how many continuation bytes are still due, and the range allowed
  // for the next one (narrower than 80..BF only right after E0, ED, F0 and F4).
  uint8_t continuations_left_ = 0;
  uint8_t next_lowest_ = 0x80;
  uint8_t next_highest_ = 0xBF;
  bool failed_ = false;
  // Stops counting at the offending byte, so once failed it is also that byte's offset (a separate
  // field would cost every connection 8 bytes).
  uint64_t bytes_accepted_ = 0;
};

// One-shot helper for complete texts (a close frame's reason, a header value).
inline bool IsValidUtf8(const uint8_t* data, size_t length) {
  Utf8Validator validator;
  return validator.Feed(data, length) && validator.Complete();
}

}  // namespace node_bufferevent::ws
