// Shared vocabulary of the WebSocket codec (RFC 6455 §5.2): opcodes, a parsed frame header, and the
// protocol error every layer reports (a close code for the peer plus a WS_ERR_* code for users).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace node_bufferevent::ws {

enum Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

inline bool IsControlOpcode(uint8_t opcode) { return (opcode & 0x8) != 0; }
// 3–7 and B–F are reserved for future use (RFC 6455 §5.2) and fail the connection.
inline bool IsKnownOpcode(uint8_t opcode) {
  return opcode <= kBinary || (opcode >= kClose && opcode <= kPong);
}

// Close codes the codec itself sends (RFC 6455 §7.4.1).
enum CloseCode : uint16_t {
  kCloseProtocolError = 1002,
  kCloseInvalidPayload = 1007,  // text that is not UTF-8
  kCloseMessageTooBig = 1009,
  kCloseInternalError = 1011,  // the server could not go on (zlib out of memory)
};

// The flags as bits and the mask key ahead of the length: 16 bytes, part of every connection.
struct FrameHeader {
  bool fin : 1 = false;
  bool rsv1 : 1 = false;
  bool rsv2 : 1 = false;
  bool rsv3 : 1 = false;
  bool masked : 1 = false;
  uint8_t opcode = 0;
  uint8_t mask_key[4] = {0, 0, 0, 0};  // meaningful only when masked
  uint64_t payload_length = 0;
};

// RFC 6455 §5.5: a control frame carries at most 125 bytes of payload.
constexpr size_t kMaxControlPayload = 125;

struct ProtocolError {
  uint16_t close_code = 0;  // what to put in the close frame sent to the peer
  const char* code = "";    // WS_ERR_*, listed in docs/errors.md (a static string)
  std::string message;      // for humans, with the numbers that mattered
};

}  // namespace node_bufferevent::ws
