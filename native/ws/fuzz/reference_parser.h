// Fuzzing oracle for FrameParser: the same RFC 6455 rules (and the same order of checks) applied in
// one straight pass over contiguous bytes, with naive unmasking and the reference UTF-8 check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../frame.h"
#include "reference_utf8.h"

namespace node_bufferevent::ws::reference {

struct ParsedFrame {
  bool fin, rsv1, rsv2, rsv3, masked;
  uint8_t opcode;
  uint64_t length;
  std::string payload;  // joined, unmasked
  bool ended;
  bool operator==(const ParsedFrame&) const = default;
};

struct Outcome {
  std::vector<ParsedFrame> frames;
  uint16_t close_code = 0;  // 0 while no error
  std::string code;
  bool operator==(const Outcome&) const = default;
};

struct Settings {
  bool server;
  uint64_t max_payload;
  uint32_t max_fragments;
};

inline Outcome Parse(const uint8_t* data, size_t size, const Settings& settings) {
  Outcome outcome;
  auto fail = [&](uint16_t close_code, const char* code) {
    outcome.close_code = close_code;
    outcome.code = code;
    return outcome;
  };
  bool open = false, compressed = false;
  uint8_t message_opcode = 0;
  uint32_t fragments = 0;
  uint64_t message_bytes = 0;
  std::string message;  // text so far, for the UTF-8 check
  size_t pos = 0;
  while (size - pos >= 2) {
    ParsedFrame frame{};
    frame.fin = data[pos] & 0x80;
    frame.rsv1 = data[pos] & 0x40;
    frame.rsv2 = data[pos] & 0x20;
    frame.rsv3 = data[pos] & 0x10;
    frame.opcode = data[pos] & 0x0F;
    frame.masked = data[pos + 1] & 0x80;
    uint64_t length = data[pos + 1] & 0x7F;
    bool control = frame.opcode >= 8;
    if (!(frame.opcode <= 2 || (frame.opcode >= 8 && frame.opcode <= 10))) {
      return fail(1002, "WS_ERR_INVALID_OPCODE");
    }
    if (control && !frame.fin) return fail(1002, "WS_ERR_EXPECTED_FIN");
    if (control && length > 125) return fail(1002, "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH");
    if (settings.server && !frame.masked) return fail(1002, "WS_ERR_EXPECTED_MASK");
    if (!settings.server && frame.masked) return fail(1002, "WS_ERR_UNEXPECTED_MASK");
    if (!control && frame.opcode == 0 && !open) return fail(1002, "WS_ERR_UNEXPECTED_CONTINUATION");
    if (!control && frame.opcode == 0 && settings.max_fragments != 0 &&
        fragments >= settings.max_fragments) {
      return fail(1009, "WS_ERR_TOO_MANY_FRAGMENTS");
    }
    if (!control && frame.opcode != 0 && open) return fail(1002, "WS_ERR_EXPECTED_CONTINUATION");
    pos += 2;
    size_t extended = length == 126 ? 2 : length == 127 ? 8 : 0;
    if (size - pos < extended) return outcome;
    if (extended > 0) {
      length = 0;
      for (size_t i = 0; i < extended; ++i) length = length * 256 + data[pos + i];
      pos += extended;
      if (length >= (uint64_t{1} << 63))
        return fail(1002, "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH");
    }
    uint64_t before = frame.opcode == 0 ? message_bytes : 0;
    if (!control && settings.max_payload != 0 && before + length > settings.max_payload) {
      return fail(1009, "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH");
    }
    uint8_t key[4] = {0, 0, 0, 0};
    if (frame.masked) {
      if (size - pos < 4) return outcome;
      for (int i = 0; i < 4; ++i) key[i] = data[pos + i];
      pos += 4;
    }
    frame.length = length;
    if (!control) {
      if (frame.opcode != 0) {
        message_opcode = frame.opcode;
        compressed = frame.rsv1;
        fragments = 0;
        message_bytes = 0;
        message.clear();
      }
      ++fragments;
      message_bytes += length;
      open = !frame.fin;
    }
    size_t available = length < size - pos ? static_cast<size_t>(length) : size - pos;
    for (size_t i = 0; i < available; ++i)
      frame.payload += static_cast<char>(data[pos + i] ^ key[i % 4]);
    pos += available;
    bool checks_utf8 = !control && message_opcode == kText && !compressed;
    Utf8Verdict verdict;
    if (checks_utf8) {
      size_t message_before = message.size();
      message += frame.payload;
      verdict = CheckUtf8(reinterpret_cast<const uint8_t*>(message.data()), message.size());
      if (!verdict.valid) {
        frame.payload.resize(verdict.error_offset - message_before);
        outcome.frames.push_back(frame);
        return fail(1007, "WS_ERR_INVALID_UTF8");
      }
    }
    if (available < length) {
      outcome.frames.push_back(frame);
      return outcome;
    }
    if (checks_utf8 && frame.fin && !verdict.complete) {
      outcome.frames.push_back(frame);
      return fail(1007, "WS_ERR_INVALID_UTF8");
    }
    frame.ended = true;
    outcome.frames.push_back(frame);
  }
  return outcome;
}

}  // namespace node_bufferevent::ws::reference
