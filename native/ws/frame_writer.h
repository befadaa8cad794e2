// Frame encoding (RFC 6455 §5.2): a header with the shortest payload length encoding, and for
// client frames the masking key and a masked copy of the payload.
#pragma once

#include <event2/buffer.h>

#include <cstddef>
#include <cstdint>

namespace node_bufferevent::ws {

constexpr size_t kMaxFrameHeaderSize = 14;  // 2 + 8-byte length + 4-byte key

struct FrameSpec {
  uint8_t opcode = 0;
  bool fin = true;
  bool rsv1 = false;                  // set by permessage-deflate on a message's first frame
  const uint8_t* mask_key = nullptr;  // 4 bytes for client frames (crypto-quality), else null
};

// The frames the codec refuses to produce: unknown opcodes, control frames over 125 bytes or not
// final, and lengths of 2^63 or more.
bool IsWritableFrame(const FrameSpec& spec, uint64_t payload_length);

// Encodes the header into out[0..kMaxFrameHeaderSize) and returns its size, or 0 when
// !IsWritableFrame.
size_t EncodeFrameHeader(const FrameSpec& spec, uint64_t payload_length, uint8_t* out);

// Appends the header and the payload (copied, masked when spec.mask_key is set). Returns 0, or -1
// when the frame is not writable or libevent cannot allocate (nothing is appended then).
int WriteFrame(evbuffer* output, const FrameSpec& spec, const uint8_t* payload, size_t length);

// Appends only the header of an unmasked frame; the caller appends the payload itself (by
// reference, to share it among many sockets). Returns 0, or -1 as WriteFrame (or when masked).
int WriteFrameHeader(evbuffer* output, const FrameSpec& spec, uint64_t payload_length);

}  // namespace node_bufferevent::ws
