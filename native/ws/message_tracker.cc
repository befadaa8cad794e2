// Message-level framing rules and limits; every failure names its close code and WS_ERR_* code.
#include "message_tracker.h"

#include <string>
#include <utility>

namespace node_bufferevent::ws {

namespace {

bool Failure(ProtocolError* error, uint16_t close_code, const char* code, std::string message) {
  error->close_code = close_code;
  error->code = code;
  error->message = std::move(message);
  return false;
}

}  // namespace

bool MessageTracker::CheckOpcode(uint8_t opcode, ProtocolError* error) const {
  if (IsControlOpcode(opcode)) return true;
  if (opcode == kContinuation) {
    if (!message_open_) {
      return Failure(error, kCloseProtocolError, "WS_ERR_UNEXPECTED_CONTINUATION",
                     "continuation frame without a fragmented message to continue");
    }
    if (max_fragments_ != 0 && fragments_ >= max_fragments_) {
      return Failure(
          error, kCloseMessageTooBig, "WS_ERR_TOO_MANY_FRAGMENTS",
          "message has more than maxFragments (" + std::to_string(max_fragments_) + ") frames");
    }
    return true;
  }
  if (message_open_) {
    return Failure(error, kCloseProtocolError, "WS_ERR_EXPECTED_CONTINUATION",
                   "new data frame (opcode " + std::to_string(opcode) +
                       ") while a fragmented message is still open");
  }
  return true;
}

bool MessageTracker::CheckLength(uint8_t opcode, uint64_t payload_length,
                                 ProtocolError* error) const {
  if (IsControlOpcode(opcode) || max_payload_ == 0) return true;
  uint64_t before = opcode == kContinuation ? message_bytes_ : 0;
  // message_bytes_ <= max_payload always holds, so the subtraction cannot wrap.
  if (payload_length > max_payload_ - before) {
    return Failure(error, kCloseMessageTooBig, "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH",
                   "message payload exceeds maxPayload (" + std::to_string(max_payload_) +
                       " bytes): " + std::to_string(before) + " received, frame of " +
                       std::to_string(payload_length) + " announced");
  }
  return true;
}

void MessageTracker::BeginFrame(const FrameHeader& header) {
  current_is_data_ = !IsControlOpcode(header.opcode);
  current_fin_ = header.fin;
  if (!current_is_data_) return;
  if (header.opcode != kContinuation) {
    message_opcode_ = header.opcode;
    message_compressed_ = header.rsv1;
    fragments_ = 0;
    message_bytes_ = 0;
    utf8_.Reset();
  }
  ++fragments_;
  message_bytes_ += header.payload_length;
  message_open_ = !header.fin;
}

bool MessageTracker::CheckPayload(const uint8_t* data, size_t length, size_t* valid_prefix,
                                  ProtocolError* error) {
  *valid_prefix = length;
  if (!ValidatesUtf8()) return true;
  uint64_t before = utf8_.bytes_accepted();
  if (utf8_.Feed(data, length)) return true;
  *valid_prefix = static_cast<size_t>(utf8_.error_offset() - before);
  return Failure(error, kCloseInvalidPayload, "WS_ERR_INVALID_UTF8",
                 "invalid UTF-8 in a text message at byte " + std::to_string(utf8_.error_offset()) +
                     " of the message");
}

bool MessageTracker::EndFrame(ProtocolError* error) {
  if (ValidatesUtf8() && current_fin_ && !utf8_.Complete()) {
    return Failure(error, kCloseInvalidPayload, "WS_ERR_INVALID_UTF8",
                   "text message ends inside a UTF-8 sequence (after " +
                       std::to_string(utf8_.bytes_accepted()) + " bytes)");
  }
  current_is_data_ = false;
  return true;
}

}  // namespace node_bufferevent::ws
