// Message-level rules the frame parser applies across frames (RFC 6455 §5.4): continuation frames
// only inside a fragmented message, no new data frame until it ends, the caller's limits on message
// size and fragment count, and fail-fast UTF-8 validation of uncompressed text across fragments.
#pragma once

#include <cstddef>
#include <cstdint>

#include "frame.h"
#include "utf8.h"

namespace node_bufferevent::ws {

struct MessageLimits {
  uint64_t max_payload = 0;    // bytes of payload on the wire per data message; 0 = no limit
  uint32_t max_fragments = 0;  // data frames per message; 0 = no limit
};

class MessageTracker {
 public:
  explicit MessageTracker(const MessageLimits& limits)
      : max_payload_(limits.max_payload), max_fragments_(limits.max_fragments) {}
  MessageTracker(const MessageTracker&) = delete;
  MessageTracker& operator=(const MessageTracker&) = delete;

  // Called as soon as the first two header bytes are known (control frames pass untouched).
  bool CheckOpcode(uint8_t opcode, ProtocolError* error) const;
  // Called as soon as the payload length is known, before any payload is buffered.
  bool CheckLength(uint8_t opcode, uint64_t payload_length, ProtocolError* error) const;
  // The header was accepted: a data frame starts or continues the message.
  void BeginFrame(const FrameHeader& header);
  // Validates unmasked payload of the current frame. On invalid UTF-8 returns false with
  // *valid_prefix set to how many leading bytes of this piece were still valid (to be delivered).
  bool CheckPayload(const uint8_t* data, size_t length, size_t* valid_prefix, ProtocolError* error);
  // The current frame's payload is complete; a final frame of a text message must end on a
  // character boundary.
  bool EndFrame(ProtocolError* error);

  bool message_open() const { return message_open_; }
  uint8_t message_opcode() const { return message_opcode_; }  // kText or kBinary
  bool message_compressed() const { return message_compressed_; }
  uint64_t max_payload() const { return max_payload_; }  // 0 = no limit

 private:
  bool ValidatesUtf8() const {
    return current_is_data_ && message_opcode_ == kText && !message_compressed_;
  }

  // Every connection carries a tracker: the limits apart rather than as a MessageLimits, so that
  // fragments_ fills the padding after max_fragments_, and the small fields last, so that the
  // parser built on a tracker puts its own in the padding after them.
  uint64_t max_payload_;
  uint64_t message_bytes_ = 0;  // wire payload bytes of the message, headers counted as known
  Utf8Validator utf8_;
  uint32_t max_fragments_;
  uint32_t fragments_ = 0;
  bool message_open_ = false;  // a data frame without FIN was seen; continuations are due
  uint8_t message_opcode_ = 0;
  bool message_compressed_ = false;  // RSV1 on the first frame: the extension validates UTF-8
  bool current_is_data_ = false;
  bool current_fin_ = false;
};

}  // namespace node_bufferevent::ws
