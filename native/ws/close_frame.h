// Close frames (RFC 6455 §5.5.1, §7.4): which status codes may appear on the wire, and the checks
// on a received close frame's payload (a 2-byte code, then a UTF-8 reason).
#pragma once

#include <cstddef>
#include <cstdint>

#include "frame.h"

namespace node_bufferevent::ws {

// 1005 (no status), 1006 (abnormal closure) and 1015 (TLS failure) are for reporting only; 1004 is
// reserved, 1016–2999 are unassigned or for extensions, 5000 and up do not exist.
inline bool IsSendableCloseCode(uint32_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

constexpr uint16_t kCloseNoStatus = 1005;

struct ClosePayload {
  uint16_t code = kCloseNoStatus;  // kCloseNoStatus when the frame had no payload
  const uint8_t* reason = nullptr;
  size_t reason_length = 0;
};

// Splits and checks a received close frame's payload; on failure fills *error (1002 for a bad
// length or code, 1007 for a reason that is not UTF-8).
bool ParseClosePayload(const uint8_t* payload, size_t length, ClosePayload* out,
                       ProtocolError* error);

}  // namespace node_bufferevent::ws
