// What deflate_session_fuzz.cc checks the session's events against: the close code each WS_ERR_*
// code implies, and, in message mode, what deflate_peer.h sent. Written from RFC 6455, RFC 7692
// and the documented error codes, not from the production classes.
//
// For what was sent the oracle is exact where the outcome is determined: a message compressed
// intact within maxPayload, maxFragments and UTF-8 comes back byte-identical; one that breaks a
// limit or the rules must fail with one of the codes that limit or rule allows (when it breaks
// several, any of them: which is found first depends on where the inflated bytes cross a limit).
// Damaged compressed data may fail with a compression, UTF-8 or size error or be delivered as
// anything within the limits; after such a delivery an inflater with context takeover has a
// history the peer does not, so the later compressed messages are judged the same way.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../message_tracker.h"
#include "deflate_peer.h"
#include "reference_connection.h"
#include "reference_utf8.h"

namespace node_bufferevent::ws::fuzz {

using Event = reference::ConnectionEvent;

// The stream being checked, printed when a check fails (set by the fuzz target).
inline const std::string*& StreamInCheck() {
  static const std::string* stream = nullptr;
  return stream;
}

// The peer's bytes, for a report (long streams are cut).
inline void PrintStream(const std::string& stream) {
  std::fprintf(stderr, "the peer's %zu bytes:", stream.size());
  for (size_t i = 0; i < stream.size() && i < 1024; ++i) {
    std::fprintf(stderr, "%s%02x", i % 32 == 0 ? "\n  " : " ", static_cast<uint8_t>(stream[i]));
  }
  std::fprintf(stderr, "%s\n", stream.size() > 1024 ? " ..." : "");
}

[[noreturn]] inline void Die(const char* what) {
  std::fprintf(stderr, "permessage-deflate session contract broken: %s\n", what);
  if (StreamInCheck() != nullptr) PrintStream(*StreamInCheck());
  std::abort();
}

inline bool IsUtf8(const std::string& text) {
  auto verdict = reference::CheckUtf8(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  return verdict.valid && verdict.complete;
}

inline std::string Describe(const Event& event) {
  static const char* const kNames[] = {"text",  "binary", "ping",    "pong",
                                       "close", "error",  "pong-out"};
  std::string out = std::string(kNames[event.kind]) + " " + std::to_string(event.data.size()) +
                    " bytes, code " + std::to_string(event.code) + " " + event.error;
  return out;
}

// For each frame that starts a data message (opcode text or binary), in stream order: text?
inline std::vector<bool> MessageStartsAreText(const std::string& stream) {
  std::vector<bool> text;
  auto byte = [&](size_t at) { return static_cast<uint8_t>(stream[at]); };
  size_t at = 0;
  while (stream.size() - at >= 2) {
    const uint8_t opcode = byte(at) & 0xF;
    const bool masked = byte(at + 1) & 0x80;
    uint64_t length = byte(at + 1) & 0x7F;
    at += 2;
    const size_t extended = length == 126 ? 2 : length == 127 ? 8 : 0;
    if (stream.size() - at < extended + (masked ? 4 : 0)) break;
    if (extended > 0) {
      length = 0;
      for (size_t i = 0; i < extended; ++i) length = (length << 8) | byte(at + i);
    }
    at += extended + (masked ? 4 : 0);
    if (opcode == 0x1 || opcode == 0x2) text.push_back(opcode == 0x1);
    if (length > stream.size() - at) break;
    at += static_cast<size_t>(length);
  }
  return text;
}

// An error's close code must be the one its code implies; for invalid compressed data that
// depends on the type of the message being inflated (1007 text, 1002 binary).
inline void CheckErrorCloseCode(const std::vector<Event>& events, const std::string& stream) {
  if (events.empty() || events.back().kind != Event::kError) return;
  const Event& error = events.back();
  const std::string& code = error.error;
  uint16_t expected = 1002;
  if (code == "WS_ERR_INVALID_COMPRESSED_DATA") {
    size_t delivered = 0;
    for (const Event& event : events) {
      delivered += event.kind == Event::kText || event.kind == Event::kBinary;
    }
    std::vector<bool> starts = MessageStartsAreText(stream);
    if (delivered >= starts.size()) Die("invalid compressed data outside any message");
    expected = starts[delivered] ? 1007 : 1002;
  } else if (code == "WS_ERR_INVALID_UTF8") {
    expected = 1007;
  } else if (code == "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH" || code == "WS_ERR_TOO_MANY_FRAGMENTS") {
    expected = 1009;
  } else if (code == "WS_ERR_COMPRESSION_FAILED") {
    Die("zlib reported a failure while memory was plentiful");
  } else {
    static const char* const kProtocolErrors[] = {"WS_ERR_INVALID_OPCODE",
                                                  "WS_ERR_EXPECTED_FIN",
                                                  "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH",
                                                  "WS_ERR_EXPECTED_MASK",
                                                  "WS_ERR_UNEXPECTED_MASK",
                                                  "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH",
                                                  "WS_ERR_UNEXPECTED_CONTINUATION",
                                                  "WS_ERR_EXPECTED_CONTINUATION",
                                                  "WS_ERR_UNEXPECTED_RSV_1",
                                                  "WS_ERR_UNEXPECTED_RSV_2_3",
                                                  "WS_ERR_INVALID_CLOSE_CODE"};
    bool known = false;
    for (const char* name : kProtocolErrors) known = known || code == name;
    if (!known) {
      std::fprintf(stderr, "error code %s\n", code.c_str());
      Die("an error code this fuzzer does not know");
    }
  }
  if (error.code != expected) {
    std::fprintf(stderr, "%s with close code %u, expected %u\n", code.c_str(), error.code,
                 expected);
    Die("an error's close code is not the one its code implies");
  }
}

struct OracleSettings {
  MessageLimits limits;
  bool inflater_takeover = true;
  // The peer compressed with a larger window than agreed, or kept history the inflater drops:
  // its back references may reach too far, so invalid data is allowed (a delivery is still exact).
  bool peer_exceeds_agreement = false;
};

// What may come of one message.
struct MessageVerdict {
  bool must_fail = false;
  bool content_known = true;
  std::vector<std::string> allowed_errors;
};

inline MessageVerdict Judge(const SentItem& item, const OracleSettings& settings, bool tainted) {
  MessageVerdict verdict;
  const uint64_t max_payload = settings.limits.max_payload;
  auto must = [&](const char* code) {
    verdict.must_fail = true;
    verdict.allowed_errors.push_back(code);
  };
  if (item.rsv1_violation) must("WS_ERR_UNEXPECTED_RSV_1");
  if (settings.limits.max_fragments > 0 && item.fragments > settings.limits.max_fragments) {
    must("WS_ERR_TOO_MANY_FRAGMENTS");
  }
  if (max_payload > 0 && item.wire_bytes > max_payload) must("WS_ERR_UNSUPPORTED_MESSAGE_LENGTH");
  if (item.compressed && (item.damaged || tainted)) {
    verdict.content_known = false;
    for (const char* code : {"WS_ERR_INVALID_COMPRESSED_DATA", "WS_ERR_INVALID_UTF8",
                             "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH"}) {
      verdict.allowed_errors.push_back(code);
    }
    return verdict;
  }
  if (item.compressed && settings.peer_exceeds_agreement) {
    verdict.allowed_errors.push_back("WS_ERR_INVALID_COMPRESSED_DATA");
  }
  if (max_payload > 0 && item.payload.size() > max_payload) {
    must("WS_ERR_UNSUPPORTED_MESSAGE_LENGTH");
  }
  if (!item.binary && !IsUtf8(item.payload)) must("WS_ERR_INVALID_UTF8");
  return verdict;
}

class SentChecker {
 public:
  SentChecker(const std::vector<Event>& events, const OracleSettings& settings)
      : events_(events), settings_(settings) {}

  void Check(const std::vector<SentItem>& sent) {
    for (size_t index = 0; index < sent.size(); ++index) {
      index_ = index;
      if (!CheckItem(sent[index])) return;  // ended by an error or the close frame
    }
    if (at_ != events_.size()) Fail("events after everything sent was reported");
  }

 private:
  // Returns false once the item ended the conversation.
  bool CheckItem(const SentItem& item) {
    if (item.rsv1_violation && item.kind != SentItem::kMessage) {
      return ExpectError({"WS_ERR_UNEXPECTED_RSV_1"});
    }
    switch (item.kind) {
      case SentItem::kPing:
        Expect({Event::kPongWritten, item.payload, 0, ""});
        Expect({Event::kPing, item.payload, 0, ""});
        return true;
      case SentItem::kPong:
        Expect({Event::kPong, item.payload, 0, ""});
        return true;
      case SentItem::kClose:
        Expect({Event::kClose, item.payload, item.close_code, ""});
        if (at_ != events_.size()) Fail("events after the close frame");
        return false;
      case SentItem::kMessage:
        return CheckMessage(item);
    }
    return false;
  }

  bool CheckMessage(const SentItem& item) {
    MessageVerdict verdict = Judge(item, settings_, tainted_);
    // An error may come at any frame of the message: before any of the pings between them.
    for (const std::string& ping : item.pings_between) {
      if (NextIsError()) return ExpectError(verdict.allowed_errors);
      Expect({Event::kPongWritten, ping, 0, ""});
      Expect({Event::kPing, ping, 0, ""});
    }
    if (NextIsError()) return ExpectError(verdict.allowed_errors);
    if (at_ == events_.size()) Fail("a message sent was neither delivered nor failed");
    const Event& event = events_[at_++];
    if (event.kind != (item.binary ? Event::kBinary : Event::kText)) {
      Fail("a message delivered as the wrong kind of event");
    }
    if (verdict.must_fail) Fail("a message delivered that had to fail");
    if (verdict.content_known && event.data != item.payload) {
      std::fprintf(stderr, "sent %zu bytes, delivered %zu\n", item.payload.size(),
                   event.data.size());
      Fail("a message compressed intact was delivered with other bytes");
    }
    if (item.compressed && !verdict.content_known && settings_.inflater_takeover) tainted_ = true;
    return true;
  }

  bool NextIsError() const { return at_ < events_.size() && events_[at_].kind == Event::kError; }

  void Expect(const Event& expected) {
    if (at_ == events_.size()) Fail(("missing " + Describe(expected)).c_str());
    if (!(events_[at_] == expected)) {
      std::fprintf(stderr, "got %s\n", Describe(events_[at_]).c_str());
      Fail(("expected " + Describe(expected)).c_str());
    }
    ++at_;
  }

  bool ExpectError(const std::vector<std::string>& allowed) {
    if (!NextIsError()) Fail("an error was due");
    const std::string& code = events_[at_].error;
    bool found = false;
    for (const std::string& name : allowed) found = found || name == code;
    if (!found) {
      std::fprintf(stderr, "error %s; allowed:", code.c_str());
      for (const std::string& name : allowed) std::fprintf(stderr, " %s", name.c_str());
      std::fprintf(stderr, "\n");
      Fail("an error this message cannot cause");
    }
    if (++at_ != events_.size()) Fail("events after the error");
    return false;
  }

  [[noreturn]] void Fail(const char* what) const {
    std::fprintf(stderr, "at sent item %zu, event %zu of %zu:\n", index_, at_, events_.size());
    for (const Event& event : events_) std::fprintf(stderr, "  %s\n", Describe(event).c_str());
    Die(what);
  }

  const std::vector<Event>& events_;
  OracleSettings settings_;
  size_t at_ = 0;
  size_t index_ = 0;
  bool tainted_ = false;
};

inline void CheckAgainstSent(const std::vector<Event>& events, const std::vector<SentItem>& sent,
                             const OracleSettings& settings) {
  SentChecker(events, settings).Check(sent);
}

}  // namespace node_bufferevent::ws::fuzz
