// ProtocolSession: the receiving half of one WebSocket connection without Node or sockets. It
// is the FrameParser that parses frames from an evbuffer and applies the connection's policy on
// top: reserved bits (RSV1 marks a compressed message once permessage-deflate is agreed), message
// assembly and inflating, control frames (the automatic pong, close payload checks), one protocol
// error at most, and nothing parsed after the peer's close frame or an error. WebSocketConnection
// drives it from its bufferevent; the connection fuzzer drives it from byte strings split at random
// points.
#pragma once

#include <event2/buffer.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "deflate_codec.h"
#include "frame.h"
#include "frame_parser.h"
#include "utf8.h"

namespace node_bufferevent::ws {

// The class built on a session (the connection, or a fuzzer's recorder) gets what it reports, in
// stream order, through the pure virtual callbacks below: a pointer to a separate sink would cost
// every connection 8 bytes, and its vtable pointer 8 more.
class ProtocolSession : private FrameParser {
 public:
  enum class Result : uint8_t {
    kNeedMore,  // everything available was consumed (at most a partial header is left)
    kStopped,   // a sink callback returned false
    kFinished,  // the peer's close frame came or an error was reported: the input was discarded
  };

  explicit ProtocolSession(const FrameParserOptions& options) : FrameParser(options) {}
  ProtocolSession(const ProtocolSession&) = delete;
  ProtocolSession& operator=(const ProtocolSession&) = delete;

  // permessage-deflate was agreed: a data message whose first frame has RSV1 is inflated with
  // these settings (maxPayload then bounds the inflated size too). Call before the first Feed.
  // With context takeover a message is inflated as its pieces arrive (the connection keeps its
  // context anyway), so a bad one fails early. Without, it is kept compressed until its last
  // frame and inflated in one step: a zlib context is then held only inside that call, never
  // between reads, so no number of connections in the middle of a message holds more than one.
  void EnableInflate(DecompressSettings settings, ZlibContextPool* pool);
  bool inflates() const { return inflation_ != nullptr; }

  // Parses frames from the start of `input` (which must own its chains, see FrameParser::Parse).
  // Once finished, every call discards whatever `input` holds: after a close frame or a protocol
  // error nothing the peer sends matters (RFC 6455 §5.5.1).
  Result Feed(evbuffer* input);

  // Our close frame was queued: pings are no longer answered from here on (RFC 6455 §5.5.1).
  void CloseSent() { close_sent_ = true; }
  bool finished() const { return failed_ || close_received_; }
  bool close_sent() const { return close_sent_; }
  // Frees the assembly buffer and the inflater (the connection is being released).
  void ReleaseMemory();

 protected:
  // Frees what the session holds; the class built on it is destroyed through its own type.
  ~ProtocolSession();

  // What the session reports, in stream order. The callbacks returning bool return true to go on
  // parsing, or false to make Feed() return kStopped right after (paused or closed by the user);
  // the next Feed() resumes where this one stopped. No callback may touch the input evbuffer or
  // destroy the session.
  //
  // A complete data message. The callee may take the bytes by swapping `data` with an empty vector.
  virtual bool OnMessage(std::vector<uint8_t>& data, bool binary) = 0;
  virtual bool OnPing(const uint8_t* data, size_t length) = 0;
  virtual bool OnPong(const uint8_t* data, size_t length) = 0;
  // The peer's close frame, already checked (code kCloseNoStatus when it had no payload). Final.
  virtual void OnClose(uint16_t code, const uint8_t* reason, size_t reason_length) = 0;
  // The first protocol error; the peer is owed a close frame with error.close_code. Final.
  virtual void OnError(const ProtocolError& error) = 0;
  // A ping must be answered with this payload; called before OnPing reports that ping.
  virtual void WritePong(const uint8_t* data, size_t length) = 0;

 private:
  bool OnFrameStart(const FrameHeader& header) override;
  bool OnPayload(const uint8_t* data, size_t length) override;
  bool OnFrameEnd() override;

  bool DeliverMessage();
  // The assembly buffer between reads (see SpareAssemblyBuffer in the .cc).
  static std::unique_ptr<std::vector<uint8_t>>& SpareAssemblyBuffer();
  void LendAssemblyBuffer();
  // The message being assembled, borrowing the spare (or a new buffer) when there is none.
  std::vector<uint8_t>& Assembly();
  // Inflates one piece of a compressed message into message_, checking text as it comes out;
  // `last` ends the message.
  bool Inflate(const uint8_t* data, size_t length, bool last);
  bool DeliverControl();
  // Reports a protocol error once and stops parsing for good.
  bool Fail(const ProtocolError& error);

  // permessage-deflate's receiving half, when agreed; it inflates straight into message_.
  struct Inflation {
    Inflation(DecompressSettings settings, ZlibContextPool* pool) : inflater(settings, pool) {}
    MessageInflater inflater;
    Utf8Validator text;  // a compressed text message, checked as it comes out
  };
  std::unique_ptr<Inflation> inflation_;

  // The message being assembled (null while it is empty and lent out: see Assembly) and the
  // control frame being read.
  std::unique_ptr<std::vector<uint8_t>> message_;
  // Only while a control frame with a payload is being read: an idle connection holds none.
  std::unique_ptr<uint8_t[]> control_;
  // The small fields last and in three bytes: the connection built on a session keeps its flags in
  // the padding after them.
  uint8_t control_length_ = 0;  // at most kMaxControlPayload
  uint8_t message_opcode_ : 4 = 0;
  uint8_t frame_opcode_ : 4 = 0;
  bool message_compressed_ : 1 = false;
  bool frame_fin_ : 1 = false;
  bool failed_ : 1 = false;          // a protocol error was reported
  bool close_received_ : 1 = false;  // the peer's close frame was reported
  bool close_sent_ : 1 = false;      // our close frame is queued; pings are no longer answered
};

}  // namespace node_bufferevent::ws
