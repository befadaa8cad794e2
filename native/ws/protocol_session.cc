// The connection's receiving policy over FrameParser's callbacks: assembling messages, answering
// pings, checking close frames and refusing reserved bits.
#include "protocol_session.h"

#include <algorithm>

#include "close_frame.h"

namespace node_bufferevent::ws {

namespace {

// The assembly buffer keeps its capacity between messages only up to this size.
constexpr size_t kRetainedCapacity = 1024 * 1024;
// The first reservation for a message; fragments and long frames grow it as they arrive, so a
// header announcing a huge length reserves nothing it has not received.
constexpr uint64_t kMaxReservation = 1024 * 1024;

}  // namespace

ProtocolSession::Result ProtocolSession::Feed(evbuffer* input) {
  if (!finished()) {
    FrameParser::Result result = parser_.Parse(input);
    if (result == FrameParser::Result::kFailed) Fail(parser_.error());
    if (result == FrameParser::Result::kNeedMore) return Result::kNeedMore;
    if (!finished()) return Result::kStopped;
  }
  evbuffer_drain(input, evbuffer_get_length(input));
  return Result::kFinished;
}

bool ProtocolSession::OnFrameStart(const FrameHeader& header) {
  if (header.rsv2 || header.rsv3) {
    return Fail({kCloseProtocolError, "WS_ERR_UNEXPECTED_RSV_2_3",
                 "a frame has RSV2 or RSV3 set, and no extension defines them"});
  }
  if (header.rsv1) {
    return Fail({kCloseProtocolError, "WS_ERR_UNEXPECTED_RSV_1",
                 "a frame has RSV1 set, and no extension that defines it was negotiated"});
  }
  frame_opcode_ = header.opcode;
  frame_fin_ = header.fin;
  if (IsControlOpcode(header.opcode)) {
    control_length_ = 0;
  } else if (header.opcode != kContinuation) {
    message_opcode_ = header.opcode;
    message_.clear();
    if (header.fin) message_.reserve(std::min(header.payload_length, kMaxReservation));
  }
  return true;
}

bool ProtocolSession::OnPayload(const uint8_t* data, size_t length) {
  if (IsControlOpcode(frame_opcode_)) {
    // The parser refuses control frames over 125 bytes before any payload arrives.
    std::copy(data, data + length, control_ + control_length_);
    control_length_ += length;
  } else {
    message_.insert(message_.end(), data, data + length);
  }
  return true;
}

bool ProtocolSession::OnFrameEnd() {
  if (IsControlOpcode(frame_opcode_)) return DeliverControl();
  if (!frame_fin_) return true;
  return DeliverMessage();
}

bool ProtocolSession::DeliverMessage() {
  bool go_on = sink_->OnMessage(message_, message_opcode_ == kBinary);
  if (message_.capacity() > kRetainedCapacity) std::vector<uint8_t>().swap(message_);
  message_.clear();
  return go_on;
}

bool ProtocolSession::DeliverControl() {
  switch (frame_opcode_) {
    case kPing:
      // Answered before the ping is reported; after our close frame no pong is due.
      if (!close_sent_) sink_->WritePong(control_, control_length_);
      return sink_->OnPing(control_, control_length_);
    case kPong:
      return sink_->OnPong(control_, control_length_);
    case kClose: {
      ClosePayload close;
      ProtocolError error;
      if (!ParseClosePayload(control_, control_length_, &close, &error)) return Fail(error);
      // Reported before the session counts as finished: the sink may first deliver messages that
      // came before the close frame, and what their handlers send must still go out.
      sink_->OnClose(close.code, close.reason, close.reason_length);
      close_received_ = true;
      return false;
    }
  }
  return true;
}

bool ProtocolSession::Fail(const ProtocolError& error) {
  if (failed_) return false;
  // As for the close frame: the messages before the error may still be delivered first.
  sink_->OnError(error);
  failed_ = true;
  return false;
}

}  // namespace node_bufferevent::ws
