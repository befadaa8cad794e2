// Incremental RFC 6455 frame parser over an evbuffer: no I/O, no copy of the payload (it is
// unmasked in place in libevent's chains and handed out piece by piece), any split of the input.
#pragma once

#include <event2/buffer.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "frame.h"
#include "message_tracker.h"

namespace node_bufferevent::ws {

// What the parser finds, for the class built on it (a FrameParser calls its own overrides: a
// pointer to a separate handler would cost every connection 8 bytes). Each callback returns true
// to go on, or false to make Parse() return kPaused right after it; the bytes that callback was
// given are consumed, and the next Parse() resumes exactly where this one stopped. Callbacks must
// not touch the input evbuffer.
class FrameHandler {
 public:
  virtual bool OnFrameStart(const FrameHeader& header) = 0;
  // Unmasked payload of the current frame, in one or more pieces; valid only during the call.
  virtual bool OnPayload(const uint8_t* data, size_t length) = 0;
  virtual bool OnFrameEnd() = 0;

 protected:
  ~FrameHandler() = default;
};

enum class Role : uint8_t {
  kServer,  // parses what a client sent: every frame must be masked
  kClient,  // parses what a server sent: no frame may be masked
};

struct FrameParserOptions {
  Role role = Role::kServer;
  MessageLimits limits;
};

// The parser is built on its message tracker (rather than holding one) so that its own small
// fields sit in the padding after the tracker's: every connection carries a parser.
class FrameParser : public FrameHandler, private MessageTracker {
 public:
  enum class State : uint8_t {
    kHeader,            // waiting for the two fixed header bytes
    kExtendedLength16,  // waiting for a 16-bit payload length
    kExtendedLength64,  // waiting for a 64-bit payload length
    kMaskKey,           // waiting for the 4-byte masking key
    kPayload,           // handing out payload as it arrives
    kFrameEnd,          // payload complete, OnFrameEnd not yet called
    kFailed,            // a protocol error was found; error() says which
  };
  enum class Result : uint8_t {
    kNeedMore,  // everything available was consumed (at most a partial header is left)
    kPaused,    // a callback returned false
    kFailed,    // protocol error: send a close frame with error().close_code, parse no more
  };

  explicit FrameParser(const FrameParserOptions& options)
      : MessageTracker(options.limits), role_(options.role) {}
  FrameParser(const FrameParser&) = delete;
  FrameParser& operator=(const FrameParser&) = delete;

  // Consumes frames from the start of `input`. Payload bytes are unmasked inside the evbuffer's own
  // memory, so `input` must own its chains (a socket's input does; never a buffer holding
  // references to memory shared with others, such as evbuffer_add_reference chains).
  Result Parse(evbuffer* input);

  State state() const { return state_; }
  static const char* StateName(State state);
  // The error once Parse() returned kFailed (an empty one before).
  const ProtocolError& error() const;
  const FrameHeader& header() const { return header_; }  // the frame being parsed
  uint64_t payload_remaining() const { return payload_remaining_; }
  const MessageTracker& message() const { return *this; }

 protected:
  ~FrameParser() = default;

 private:
  // What one state function achieved: Parse() loops while it is kContinue.
  enum class Step : uint8_t { kContinue, kShortOfInput, kPaused, kFailed };
  Step ParseHeader(evbuffer* input);
  // The two fixed bytes: everything they decide is checked, then the length's size is known.
  Step AcceptFirstBytes(const uint8_t bytes[2]);
  // The whole header (fixed bytes, extended length, mask key) when all of it is in the input's
  // first chain, as it nearly always is: read in place and drained at once, where the state by
  // state path takes it out in two or three pieces. kShortOfInput when it is not all there.
  Step ParseWholeHeader(evbuffer* input);
  Step ParseExtendedLength(evbuffer* input, size_t size);
  Step ParseMaskKey(evbuffer* input);
  // The payload length, checked (the 64-bit rule, the limits); then the mask key, unless the
  // whole-header path has read it already, or the payload.
  Step AcceptLength(uint64_t payload_length, bool mask_key_read = false);
  Step StartFrame();
  Step ParsePayload(evbuffer* input);
  // One piece of the current frame's payload, in memory the input owns: unmasked in place,
  // checked and handed on; *taken is how much of it was (less only before invalid UTF-8).
  Step TakePayload(uint8_t* data, size_t length, size_t* taken);
  Step EndFrame();
  Step Fail(uint16_t close_code, const char* code, std::string message);
  Step FailWith(const ProtocolError& error);

  Role role_;
  State state_ = State::kHeader;
  FrameHeader header_;
  uint64_t payload_remaining_ = 0;
  // Only after a failure: a connection that never fails carries no error text.
  std::unique_ptr<ProtocolError> error_;
};

}  // namespace node_bufferevent::ws
