// The frame parser's states, one function each. A header that is all in the input's first chain is
// read in place at once; otherwise its bytes are taken from the evbuffer part by part, each once it
// is whole. Payload is read with evbuffer_peek and drained as it is handed out.
#include "frame_parser.h"

#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "mask.h"

namespace node_bufferevent::ws {

namespace {

// How many chains one evbuffer_peek looks at; more just takes another round.
constexpr int kPeekVectors = 16;

uint64_t ReadBigEndian(const uint8_t* bytes, size_t size) {
  uint64_t value = 0;
  for (size_t i = 0; i < size; ++i) value = (value << 8) | bytes[i];
  return value;
}

}  // namespace

const char* FrameParser::StateName(State state) {
  switch (state) {
    case State::kHeader:
      return "header";
    case State::kExtendedLength16:
      return "extended-length-16";
    case State::kExtendedLength64:
      return "extended-length-64";
    case State::kMaskKey:
      return "mask-key";
    case State::kPayload:
      return "payload";
    case State::kFrameEnd:
      return "frame-end";
    case State::kFailed:
      return "failed";
  }
  return "unknown";
}

FrameParser::Result FrameParser::Parse(evbuffer* input) {
  for (;;) {
    Step step = Step::kFailed;
    switch (state_) {
      case State::kHeader:
        step = ParseHeader(input);
        break;
      case State::kExtendedLength16:
        step = ParseExtendedLength(input, 2);
        break;
      case State::kExtendedLength64:
        step = ParseExtendedLength(input, 8);
        break;
      case State::kMaskKey:
        step = ParseMaskKey(input);
        break;
      case State::kPayload:
        step = ParsePayload(input);
        break;
      case State::kFrameEnd:
        step = EndFrame();
        break;
      case State::kFailed:
        break;
    }
    switch (step) {
      case Step::kContinue:
        continue;
      case Step::kShortOfInput:
        return Result::kNeedMore;
      case Step::kPaused:
        return Result::kPaused;
      case Step::kFailed:
        return Result::kFailed;
    }
  }
}

FrameParser::Step FrameParser::ParseHeader(evbuffer* input) {
  Step whole = ParseWholeHeader(input);
  if (whole != Step::kShortOfInput) return whole;
  uint8_t bytes[2];
  if (evbuffer_get_length(input) < sizeof bytes) return Step::kShortOfInput;
  evbuffer_remove(input, bytes, sizeof bytes);
  Step step = AcceptFirstBytes(bytes);
  if (step != Step::kContinue) return step;
  uint8_t short_length = bytes[1] & 0x7F;
  if (short_length == 126) {
    state_ = State::kExtendedLength16;
    return Step::kContinue;
  }
  if (short_length == 127) {
    state_ = State::kExtendedLength64;
    return Step::kContinue;
  }
  return AcceptLength(short_length);
}

FrameParser::Step FrameParser::ParseWholeHeader(evbuffer* input) {
  evbuffer_iovec first;
  if (evbuffer_peek(input, -1, nullptr, &first, 1) < 1 || first.iov_len < 2)
    return Step::kShortOfInput;
  const auto* bytes = static_cast<const uint8_t*>(first.iov_base);
  uint8_t short_length = bytes[1] & 0x7F;
  size_t length_size = short_length == 126 ? 2 : short_length == 127 ? 8 : 0;
  size_t mask_size = (bytes[1] & 0x80) != 0 ? sizeof header_.mask_key : 0;
  size_t header_size = 2 + length_size + mask_size;
  if (first.iov_len < header_size) return Step::kShortOfInput;
  Step step = AcceptFirstBytes(bytes);
  if (step == Step::kContinue) {
    uint64_t payload_length =
        length_size > 0 ? ReadBigEndian(bytes + 2, length_size) : short_length;
    if (mask_size > 0) std::memcpy(header_.mask_key, bytes + 2 + length_size, mask_size);
    step = AcceptLength(payload_length, /*mask_key_read=*/true);
  }
  // A small frame is usually whole in the chain its header is in: its payload is taken there too,
  // and header and payload leave the input in one drain (three libevent calls fewer per frame).
  if (step == Step::kContinue && state_ == State::kPayload &&
      first.iov_len - header_size >= payload_remaining_) {
    size_t taken = 0;
    step = TakePayload(const_cast<uint8_t*>(bytes) + header_size,
                       static_cast<size_t>(payload_remaining_), &taken);
    evbuffer_drain(input, header_size + taken);
    if (payload_remaining_ == 0 && state_ == State::kPayload) state_ = State::kFrameEnd;
    return step;
  }
  evbuffer_drain(input, header_size);
  return step;
}

FrameParser::Step FrameParser::AcceptFirstBytes(const uint8_t bytes[2]) {
  header_ = FrameHeader();
  header_.fin = (bytes[0] & 0x80) != 0;
  header_.rsv1 = (bytes[0] & 0x40) != 0;
  header_.rsv2 = (bytes[0] & 0x20) != 0;
  header_.rsv3 = (bytes[0] & 0x10) != 0;
  header_.opcode = bytes[0] & 0x0F;
  header_.masked = (bytes[1] & 0x80) != 0;
  uint8_t short_length = bytes[1] & 0x7F;

  // Everything decidable from these two bytes is decided now, before any more input is awaited.
  if (!IsKnownOpcode(header_.opcode)) {
    return Fail(kCloseProtocolError, "WS_ERR_INVALID_OPCODE",
                "reserved opcode " + std::to_string(header_.opcode));
  }
  if (IsControlOpcode(header_.opcode)) {
    if (!header_.fin) {
      return Fail(kCloseProtocolError, "WS_ERR_EXPECTED_FIN", "fragmented control frame");
    }
    if (short_length > kMaxControlPayload) {
      return Fail(kCloseProtocolError, "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH",
                  "control frame payload longer than 125 bytes");
    }
  }
  if (role_ == Role::kServer && !header_.masked) {
    return Fail(kCloseProtocolError, "WS_ERR_EXPECTED_MASK", "client frame is not masked");
  }
  if (role_ == Role::kClient && header_.masked) {
    return Fail(kCloseProtocolError, "WS_ERR_UNEXPECTED_MASK", "server frame is masked");
  }
  ProtocolError error;
  if (!CheckOpcode(header_.opcode, &error)) return FailWith(error);
  return Step::kContinue;
}

// RFC 6455 asks for the shortest length encoding, but says nothing of rejecting longer ones, so a
// 16- or 64-bit length below its range is accepted.
FrameParser::Step FrameParser::ParseExtendedLength(evbuffer* input, size_t size) {
  uint8_t bytes[8];
  if (evbuffer_get_length(input) < size) return Step::kShortOfInput;
  evbuffer_remove(input, bytes, size);
  return AcceptLength(ReadBigEndian(bytes, size));
}

FrameParser::Step FrameParser::AcceptLength(uint64_t payload_length, bool mask_key_read) {
  if (payload_length >> 63 != 0) {
    return Fail(kCloseProtocolError, "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH",
                "64-bit payload length with the most significant bit set");
  }
  ProtocolError error;
  if (!CheckLength(header_.opcode, payload_length, &error)) return FailWith(error);
  header_.payload_length = payload_length;
  if (header_.masked && !mask_key_read) {
    state_ = State::kMaskKey;
    return Step::kContinue;
  }
  return StartFrame();
}

FrameParser::Step FrameParser::ParseMaskKey(evbuffer* input) {
  if (evbuffer_get_length(input) < sizeof header_.mask_key) return Step::kShortOfInput;
  evbuffer_remove(input, header_.mask_key, sizeof header_.mask_key);
  return StartFrame();
}

FrameParser::Step FrameParser::StartFrame() {
  BeginFrame(header_);
  payload_remaining_ = header_.payload_length;
  state_ = payload_remaining_ > 0 ? State::kPayload : State::kFrameEnd;
  return OnFrameStart(header_) ? Step::kContinue : Step::kPaused;
}

FrameParser::Step FrameParser::ParsePayload(evbuffer* input) {
  size_t available = evbuffer_get_length(input);
  if (available == 0) return Step::kShortOfInput;
  size_t wanted = static_cast<size_t>(std::min<uint64_t>(payload_remaining_, available));
  evbuffer_iovec vectors[kPeekVectors];
  int filled = std::min(
      evbuffer_peek(input, static_cast<ev_ssize_t>(wanted), nullptr, vectors, kPeekVectors),
      kPeekVectors);
  size_t consumed = 0;
  Step step = Step::kContinue;
  for (int i = 0; i < filled && consumed < wanted; ++i) {
    size_t length = std::min(vectors[i].iov_len, wanted - consumed);
    if (length == 0) continue;
    size_t taken = 0;
    step = TakePayload(static_cast<uint8_t*>(vectors[i].iov_base), length, &taken);
    consumed += taken;
    if (step != Step::kContinue) break;
  }
  evbuffer_drain(input, consumed);
  // Only an evbuffer of empty chains could give nothing; wait for real bytes then.
  if (consumed == 0 && step == Step::kContinue) return Step::kShortOfInput;
  if (payload_remaining_ == 0 && state_ == State::kPayload) state_ = State::kFrameEnd;
  return step;
}

FrameParser::Step FrameParser::TakePayload(uint8_t* data, size_t length, size_t* taken) {
  if (header_.masked) {
    uint64_t offset = header_.payload_length - payload_remaining_;
    MaskInPlace(data, length, header_.mask_key, offset);
  }
  size_t valid = length;
  ProtocolError error;
  bool utf8_ok = CheckPayload(data, length, &valid, &error);
  bool go_on = true;
  *taken = valid;
  if (valid > 0) {
    payload_remaining_ -= valid;
    go_on = OnPayload(data, valid);
  }
  // Invalid UTF-8 wins over a pause: the valid bytes before it were still handed on.
  if (!utf8_ok) return FailWith(error);
  return go_on ? Step::kContinue : Step::kPaused;
}

FrameParser::Step FrameParser::EndFrame() {
  state_ = State::kHeader;
  ProtocolError error;
  if (!MessageTracker::EndFrame(&error)) return FailWith(error);
  return OnFrameEnd() ? Step::kContinue : Step::kPaused;
}

const ProtocolError& FrameParser::error() const {
  static const ProtocolError kNone;
  return error_ != nullptr ? *error_ : kNone;
}

FrameParser::Step FrameParser::Fail(uint16_t close_code, const char* code, std::string message) {
  state_ = State::kFailed;
  error_ = std::make_unique<ProtocolError>(ProtocolError{close_code, code, std::move(message)});
  return Step::kFailed;
}

FrameParser::Step FrameParser::FailWith(const ProtocolError& error) {
  state_ = State::kFailed;
  error_ = std::make_unique<ProtocolError>(error);
  return Step::kFailed;
}

}  // namespace node_bufferevent::ws
