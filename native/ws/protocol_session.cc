// The connection's receiving policy over FrameParser's callbacks: assembling and inflating
// messages, answering pings, checking close frames and the reserved bits.
#include "protocol_session.h"

#include <algorithm>
#include <string>

#include "close_frame.h"

namespace node_bufferevent::ws {

namespace {

// The assembly buffer keeps its capacity between messages only up to this size.
constexpr size_t kRetainedCapacity = 1024 * 1024;
// The first reservation for a message; fragments and long frames grow it as they arrive, so a
// header announcing a huge length reserves nothing it has not received.
constexpr uint64_t kMaxReservation = 1024 * 1024;

}  // namespace

ProtocolSession::~ProtocolSession() { ReleaseMemory(); }

void ProtocolSession::EnableInflate(DecompressSettings settings, ZlibContextPool* pool) {
  settings.max_output = message().max_payload();
  // Always the full window, whatever the peer agreed to compress with: zlib checks a distance
  // against a smaller window only across its calls, so a peer reaching past its agreed window would
  // be refused or not depending on how the reads split its message.
  settings.window_bits = 15;
  inflation_ = std::make_unique<Inflation>(settings, pool);
}

void ProtocolSession::ReleaseMemory() {
  message_.reset();
  inflation_.reset();
}

ProtocolSession::Result ProtocolSession::Feed(evbuffer* input) {
  if (!finished()) {
    FrameParser::Result result = Parse(input);
    if (result == FrameParser::Result::kFailed) Fail(error());
    LendAssemblyBuffer();
    if (result == FrameParser::Result::kNeedMore) return Result::kNeedMore;
    if (!finished()) return Result::kStopped;
  }
  evbuffer_drain(input, evbuffer_get_length(input));
  return Result::kFinished;
}

// One spare assembly buffer per thread, lent to whichever connection starts a message next: an
// idle connection holds no buffer (not even an empty vector: a pointer is 16 bytes fewer on every
// connection), and the next message, on any connection, still finds one with capacity (no
// allocation per message).
std::unique_ptr<std::vector<uint8_t>>& ProtocolSession::SpareAssemblyBuffer() {
  thread_local std::unique_ptr<std::vector<uint8_t>> spare;
  return spare;
}

void ProtocolSession::LendAssemblyBuffer() {
  // A message still being assembled keeps its bytes.
  if (message_ == nullptr || !message_->empty()) return;
  std::unique_ptr<std::vector<uint8_t>>& spare = SpareAssemblyBuffer();
  if (spare == nullptr || message_->capacity() > spare->capacity()) spare.swap(message_);
  message_.reset();
}

std::vector<uint8_t>& ProtocolSession::Assembly() {
  if (message_ == nullptr) {
    message_ = std::move(SpareAssemblyBuffer());
    if (message_ == nullptr) message_ = std::make_unique<std::vector<uint8_t>>();
  }
  return *message_;
}

bool ProtocolSession::OnFrameStart(const FrameHeader& header) {
  if (header.rsv2 || header.rsv3) {
    return Fail({kCloseProtocolError, "WS_ERR_UNEXPECTED_RSV_2_3",
                 "a frame has RSV2 or RSV3 set, and no extension defines them"});
  }
  if (header.rsv1) {
    if (inflation_ == nullptr) {
      return Fail({kCloseProtocolError, "WS_ERR_UNEXPECTED_RSV_1",
                   "a frame has RSV1 set, and no extension that defines it was negotiated"});
    }
    // RFC 7692 §6: RSV1 marks a compressed message on its first frame, and nowhere else.
    if (IsControlOpcode(header.opcode)) {
      return Fail({kCloseProtocolError, "WS_ERR_UNEXPECTED_RSV_1",
                   "a control frame has RSV1 set; permessage-deflate never compresses them"});
    }
    if (header.opcode == kContinuation) {
      return Fail({kCloseProtocolError, "WS_ERR_UNEXPECTED_RSV_1",
                   "a continuation frame has RSV1 set; only a message's first frame may"});
    }
  }
  frame_opcode_ = header.opcode;
  frame_fin_ = header.fin;
  if (IsControlOpcode(header.opcode)) {
    control_length_ = 0;
    // The parser refuses control frames over 125 bytes before this is called.
    if (header.payload_length > 0 && control_ == nullptr) {
      control_ = std::make_unique<uint8_t[]>(kMaxControlPayload);
    }
  } else if (header.opcode != kContinuation) {
    message_opcode_ = header.opcode;
    message_compressed_ = header.rsv1;
    Assembly().clear();
    if (message_compressed_) {
      inflation_->text.Reset();
    } else if (header.fin) {
      Assembly().reserve(std::min(header.payload_length, kMaxReservation));
    }
  }
  return true;
}

bool ProtocolSession::OnPayload(const uint8_t* data, size_t length) {
  if (IsControlOpcode(frame_opcode_)) {
    std::copy(data, data + length, control_.get() + control_length_);
    control_length_ = static_cast<uint8_t>(control_length_ + length);
  } else if (message_compressed_ && !inflation_->inflater.settings().no_context_takeover) {
    return Inflate(data, length, false);
  } else {
    std::vector<uint8_t>& assembly = Assembly();
    assembly.insert(assembly.end(), data, data + length);
  }
  return true;
}

bool ProtocolSession::OnFrameEnd() {
  if (IsControlOpcode(frame_opcode_)) return DeliverControl();
  if (!frame_fin_) return true;
  if (message_compressed_) {
    if (!inflation_->inflater.settings().no_context_takeover) {
      if (!Inflate(nullptr, 0, true)) return false;
    } else {
      // message_ holds the whole compressed message: it is replaced by what it inflates to.
      std::vector<uint8_t> compressed;
      compressed.swap(Assembly());
      if (!Inflate(compressed.data(), compressed.size(), true)) return false;
    }
  }
  return DeliverMessage();
}

bool ProtocolSession::Inflate(const uint8_t* data, size_t length, bool last) {
  std::string reason;
  std::vector<uint8_t>& output = Assembly();
  size_t start = output.size();
  DeflateResult result = inflation_->inflater.Decompress(data, length, last, &output, &reason);
  // Checked as it comes out, whatever the result, so that the same bytes give the same verdict
  // however the reads split them: a text that cannot be UTF-8 fails before the rest is inflated.
  if (message_opcode_ == kText &&
      !inflation_->text.Feed(output.data() + start, output.size() - start)) {
    return Fail({kCloseInvalidPayload, "WS_ERR_INVALID_UTF8",
                 "a compressed text message inflated to invalid UTF-8 (at byte " +
                     std::to_string(inflation_->text.error_offset()) + ")"});
  }
  switch (result) {
    case DeflateResult::kOk:
      break;
    case DeflateResult::kTooBig:
      return Fail({kCloseMessageTooBig, "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH",
                   "a compressed message inflates past maxPayload (" +
                       std::to_string(message().max_payload()) +
                       " bytes); nothing more was inflated"});
    case DeflateResult::kInvalidData:
      // RFC 7692 leaves the code open: 1007 (data not consistent with the message's type) for
      // text, as Autobahn expects, and 1002 for binary, which has no content rules to break.
      return Fail({message_opcode_ == kText ? kCloseInvalidPayload : kCloseProtocolError,
                   "WS_ERR_INVALID_COMPRESSED_DATA",
                   "a compressed message is not valid DEFLATE data: " + reason});
    case DeflateResult::kFailed:
      return Fail({kCloseInternalError, "WS_ERR_COMPRESSION_FAILED",
                   "the message could not be inflated: " + reason});
  }
  if (last && message_opcode_ == kText && !inflation_->text.Complete()) {
    return Fail({kCloseInvalidPayload, "WS_ERR_INVALID_UTF8",
                 "a compressed text message ends inside a UTF-8 sequence"});
  }
  return true;
}

bool ProtocolSession::DeliverMessage() {
  bool go_on = OnMessage(Assembly(), message_opcode_ == kBinary);
  // The callback may have let the buffer go (a close releases the session's memory).
  if (message_ != nullptr) {
    if (message_->capacity() > kRetainedCapacity) std::vector<uint8_t>().swap(*message_);
    message_->clear();
  }
  return go_on;
}

bool ProtocolSession::DeliverControl() {
  // The payload's buffer is let go once the frame is reported; a callback that pauses keeps
  // nothing.
  std::unique_ptr<uint8_t[]> buffer = std::move(control_);
  static const uint8_t kEmpty[1] = {0};
  const uint8_t* payload = buffer != nullptr ? buffer.get() : kEmpty;
  switch (frame_opcode_) {
    case kPing:
      // Answered before the ping is reported; after our close frame no pong is due.
      if (!close_sent_) WritePong(payload, control_length_);
      return OnPing(payload, control_length_);
    case kPong:
      return OnPong(payload, control_length_);
    case kClose: {
      ClosePayload close;
      ProtocolError error;
      if (!ParseClosePayload(payload, control_length_, &close, &error)) return Fail(error);
      // Reported before the session counts as finished: the connection may first deliver messages
      // that came before the close frame, and what their handlers send must still go out.
      OnClose(close.code, close.reason, close.reason_length);
      close_received_ = true;
      return false;
    }
  }
  return true;
}

bool ProtocolSession::Fail(const ProtocolError& error) {
  if (failed_) return false;
  // As for the close frame: the messages before the error may still be delivered first.
  OnError(error);
  failed_ = true;
  return false;
}

}  // namespace node_bufferevent::ws
