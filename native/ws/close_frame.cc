#include "close_frame.h"

#include <string>

#include "utf8.h"

namespace node_bufferevent::ws {

bool ParseClosePayload(const uint8_t* payload, size_t length, ClosePayload* out,
                       ProtocolError* error) {
  *out = ClosePayload();
  if (length == 0) return true;
  if (length == 1) {
    *error = {kCloseProtocolError, "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH",
              "a close frame's payload is empty or at least 2 bytes (a status code), not 1"};
    return false;
  }
  uint16_t code = static_cast<uint16_t>(payload[0] << 8 | payload[1]);
  if (!IsSendableCloseCode(code)) {
    *error = {kCloseProtocolError, "WS_ERR_INVALID_CLOSE_CODE",
              "the peer's close frame carries status code " + std::to_string(code) +
                  ", which may not be sent (valid: 1000-1003, 1007-1014, 3000-4999)"};
    return false;
  }
  if (!IsValidUtf8(payload + 2, length - 2)) {
    *error = {kCloseInvalidPayload, "WS_ERR_INVALID_UTF8",
              "the peer's close frame carries a reason that is not valid UTF-8"};
    return false;
  }
  out->code = code;
  out->reason = payload + 2;
  out->reason_length = length - 2;
  return true;
}

}  // namespace node_bufferevent::ws
