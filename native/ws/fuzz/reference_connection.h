// Fuzzing oracle for ProtocolSession, written from RFC 6455 §5 (framing), §5.5 (control frames),
// §7.4 (close codes) and the library's documented limits, not from the production classes: one
// pass over the whole byte string that lists what a connection must report, in order.
//
// When a rule is judged matters for streams that stop early, so the oracle states it:
//  - from the first two header bytes: the opcode, the control frame rules (FIN, at most 125
//    bytes), masking by role, then the message rules (continuation, maxFragments);
//  - once the length is complete: the 64-bit length's top bit, then maxPayload;
//  - once the whole header is there: the reserved bits (no extension is negotiated);
//  - as soon as a payload byte is there: whether a text message is still UTF-8;
//  - when a frame is complete: a final text frame must end on a character boundary, and a close
//    frame's payload is checked.
// Only the first failure counts; after it, or after a valid close frame, nothing is reported.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "reference_utf8.h"

namespace node_bufferevent::ws::reference {

struct ConnectionEvent {
  enum Kind : uint8_t { kText, kBinary, kPing, kPong, kClose, kError, kPongWritten } kind;
  std::string data;   // the message, ping/pong payload, close reason or written pong payload
  uint16_t code = 0;  // kClose: the peer's status code; kError: the close code owed the peer
  std::string error;  // kError: the WS_ERR_* code
  bool operator==(const ConnectionEvent&) const = default;
};

struct ConnectionSettings {
  bool server;             // parsing what a client sent (frames must be masked)
  uint64_t max_payload;    // per data message, 0 = no limit
  uint32_t max_fragments;  // data frames per message, 0 = no limit
  // Our close frame is queued from within the report of event number `close_sent_after` (counting
  // reported events from 0, written pongs not counted); later pings get no pong. -1: never.
  int close_sent_after;
};

namespace detail {

// Status codes a close frame may carry: RFC 6455 §7.4.1 plus the IANA registry's 1012–1014, and the
// ranges §7.4.2 leaves to libraries (3000–3999) and applications (4000–4999).
inline bool CloseCodeAllowedOnTheWire(unsigned code) {
  switch (code) {
    case 1000:  // normal closure
    case 1001:  // going away
    case 1002:  // protocol error
    case 1003:  // unacceptable data
    case 1007:  // inconsistent data
    case 1008:  // policy violation
    case 1009:  // message too big
    case 1010:  // missing extension
    case 1011:  // internal error
    case 1012:  // service restart
    case 1013:  // try again later
    case 1014:  // bad gateway
      return true;
    default:
      return code >= 3000 && code < 5000;
  }
}

inline bool Utf8Whole(const std::string& text) {
  Utf8Verdict verdict = CheckUtf8(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  return verdict.valid && verdict.complete;
}

}  // namespace detail

inline std::vector<ConnectionEvent> ExpectedEvents(const uint8_t* bytes, size_t size,
                                                   const ConnectionSettings& settings) {
  using Event = ConnectionEvent;
  std::vector<Event> out;
  int reported = 0;  // events reported so far (what close_sent_after counts)
  auto report = [&](Event event) {
    out.push_back(std::move(event));
    ++reported;
  };
  auto fail = [&](uint16_t close_code, const char* error) {
    report({Event::kError, "", close_code, error});
    return out;
  };

  // The data message in progress (§5.4): its type, bytes so far and frame count.
  bool in_message = false;
  bool message_is_text = false;
  std::string message;
  uint64_t message_wire_bytes = 0;
  uint32_t message_frames = 0;

  size_t at = 0;
  auto have = [&](size_t count) { return size - at >= count; };
  while (have(2)) {
    const uint8_t b0 = bytes[at], b1 = bytes[at + 1];
    const bool fin = b0 >> 7;
    const bool rsv1 = (b0 >> 6) & 1, rsv2 = (b0 >> 5) & 1, rsv3 = (b0 >> 4) & 1;
    const unsigned opcode = b0 & 0xF;
    const bool masked = b1 >> 7;
    const unsigned length7 = b1 & 0x7F;
    const bool is_control = opcode == 8 || opcode == 9 || opcode == 10;
    const bool is_data = opcode == 0 || opcode == 1 || opcode == 2;
    at += 2;

    if (!is_control && !is_data) return fail(1002, "WS_ERR_INVALID_OPCODE");
    if (is_control && !fin) return fail(1002, "WS_ERR_EXPECTED_FIN");
    if (is_control && length7 > 125) return fail(1002, "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH");
    if (settings.server && !masked) return fail(1002, "WS_ERR_EXPECTED_MASK");
    if (!settings.server && masked) return fail(1002, "WS_ERR_UNEXPECTED_MASK");
    if (opcode == 0 && !in_message) return fail(1002, "WS_ERR_UNEXPECTED_CONTINUATION");
    if (opcode == 0 && settings.max_fragments > 0 && message_frames == settings.max_fragments) {
      return fail(1009, "WS_ERR_TOO_MANY_FRAGMENTS");
    }
    if ((opcode == 1 || opcode == 2) && in_message) {
      return fail(1002, "WS_ERR_EXPECTED_CONTINUATION");
    }

    uint64_t length = length7;
    const size_t length_bytes = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
    if (!have(length_bytes)) break;
    if (length_bytes > 0) {
      length = 0;
      for (size_t i = 0; i < length_bytes; ++i) length = (length << 8) | bytes[at + i];
      at += length_bytes;
    }
    if (length_bytes == 8 && (length >> 63) != 0) {
      return fail(1002, "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH");
    }
    if (is_data && settings.max_payload > 0) {
      uint64_t total = (opcode == 0 ? message_wire_bytes : 0) + length;
      if (total > settings.max_payload) return fail(1009, "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH");
    }

    uint8_t key[4] = {0, 0, 0, 0};
    if (masked) {
      if (!have(4)) break;
      for (int i = 0; i < 4; ++i) key[i] = bytes[at + i];
      at += 4;
    }
    if (rsv2 || rsv3) return fail(1002, "WS_ERR_UNEXPECTED_RSV_2_3");
    if (rsv1) return fail(1002, "WS_ERR_UNEXPECTED_RSV_1");

    if (is_data) {
      if (opcode != 0) {
        in_message = true;
        message_is_text = opcode == 1;
        message.clear();
        message_wire_bytes = 0;
        message_frames = 0;
      }
      ++message_frames;
      message_wire_bytes += length;
    }
    const size_t present = size - at < length ? size - at : static_cast<size_t>(length);
    std::string payload(present, '\0');
    for (size_t i = 0; i < present; ++i) payload[i] = static_cast<char>(bytes[at + i] ^ key[i & 3]);
    at += present;

    if (is_data) {
      message += payload;
      if (message_is_text) {
        Utf8Verdict verdict =
            CheckUtf8(reinterpret_cast<const uint8_t*>(message.data()), message.size());
        if (!verdict.valid) return fail(1007, "WS_ERR_INVALID_UTF8");
        if (present == length && fin && !verdict.complete) return fail(1007, "WS_ERR_INVALID_UTF8");
      }
      if (present < length) break;
      if (fin) {
        report({message_is_text ? Event::kText : Event::kBinary, message, 0, ""});
        in_message = false;
      }
      continue;
    }

    if (present < length) break;
    if (opcode == 9) {
      const bool close_already_sent =
          settings.close_sent_after >= 0 && reported > settings.close_sent_after;
      if (!close_already_sent) out.push_back({Event::kPongWritten, payload, 0, ""});
      report({Event::kPing, payload, 0, ""});
    } else if (opcode == 10) {
      report({Event::kPong, payload, 0, ""});
    } else {
      // §5.5.1: empty, or a 2-byte status code followed by a UTF-8 reason.
      if (payload.size() == 1) return fail(1002, "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH");
      if (payload.empty()) {
        report({Event::kClose, "", 1005, ""});
        return out;
      }
      const unsigned code =
          static_cast<uint8_t>(payload[0]) * 256u + static_cast<uint8_t>(payload[1]);
      if (!detail::CloseCodeAllowedOnTheWire(code)) return fail(1002, "WS_ERR_INVALID_CLOSE_CODE");
      std::string reason = payload.substr(2);
      if (!detail::Utf8Whole(reason)) return fail(1007, "WS_ERR_INVALID_UTF8");
      report({Event::kClose, reason, static_cast<uint16_t>(code), ""});
      return out;
    }
  }
  return out;
}

}  // namespace node_bufferevent::ws::reference
