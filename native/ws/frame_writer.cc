// Frame encoding into an evbuffer; masking writes straight into space reserved in the evbuffer, so
// a masked payload is copied exactly once.
#include "frame_writer.h"

#include <algorithm>

#include "frame.h"
#include "mask.h"

namespace node_bufferevent::ws {

bool IsWritableFrame(const FrameSpec& spec, uint64_t payload_length) {
  if (!IsKnownOpcode(spec.opcode)) return false;
  if (IsControlOpcode(spec.opcode) && (!spec.fin || payload_length > 125)) return false;
  return payload_length >> 63 == 0;
}

size_t EncodeFrameHeader(const FrameSpec& spec, uint64_t payload_length, uint8_t* out) {
  if (!IsWritableFrame(spec, payload_length)) return 0;
  out[0] = static_cast<uint8_t>((spec.fin ? 0x80 : 0) | (spec.rsv1 ? 0x40 : 0) | spec.opcode);
  uint8_t mask_bit = spec.mask_key != nullptr ? 0x80 : 0;
  size_t size = 2;
  if (payload_length <= 125) {
    out[1] = static_cast<uint8_t>(mask_bit | payload_length);
  } else if (payload_length <= 0xFFFF) {
    out[1] = mask_bit | 126;
    out[2] = static_cast<uint8_t>(payload_length >> 8);
    out[3] = static_cast<uint8_t>(payload_length);
    size = 4;
  } else {
    out[1] = mask_bit | 127;
    for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<uint8_t>(payload_length >> (56 - 8 * i));
    size = 10;
  }
  if (spec.mask_key != nullptr) {
    std::copy(spec.mask_key, spec.mask_key + 4, out + size);
    size += 4;
  }
  return size;
}

int WriteFrameHeader(evbuffer* output, const FrameSpec& spec, uint64_t payload_length) {
  if (spec.mask_key != nullptr) return -1;
  uint8_t header[kMaxFrameHeaderSize];
  size_t size = EncodeFrameHeader(spec, payload_length, header);
  if (size == 0) return -1;
  return evbuffer_add(output, header, size);
}

int WriteFrame(evbuffer* output, const FrameSpec& spec, const uint8_t* payload, size_t length) {
  uint8_t header[kMaxFrameHeaderSize];
  size_t header_size = EncodeFrameHeader(spec, length, header);
  if (header_size == 0) return -1;
  if (spec.mask_key == nullptr) {
    if (evbuffer_expand(output, header_size + length) != 0) return -1;
    evbuffer_add(output, header, header_size);
    return length == 0 ? 0 : evbuffer_add(output, payload, length);
  }
  // Header and masked payload go into one reservation (at most two chains), so a failure leaves
  // the output untouched.
  evbuffer_iovec vectors[2];
  int count =
      evbuffer_reserve_space(output, static_cast<ev_ssize_t>(header_size + length), vectors, 2);
  if (count < 1) return -1;
  size_t written = 0;  // of header_size + length
  for (int i = 0; i < count; ++i) {
    auto* target = static_cast<uint8_t*>(vectors[i].iov_base);
    size_t room = vectors[i].iov_len;
    size_t used = 0;
    if (written < header_size) {
      size_t part = std::min(room, header_size - written);
      std::copy(header + written, header + written + part, target);
      used = part;
      written += part;
    }
    size_t payload_offset = written - std::min(written, header_size);
    size_t part = std::min(room - used, length - payload_offset);
    if (written >= header_size && part > 0) {
      MaskCopy(target + used, payload + payload_offset, part, spec.mask_key, payload_offset);
      used += part;
      written += part;
    }
    vectors[i].iov_len = used;
  }
  return evbuffer_commit_space(output, vectors, count);
}

}  // namespace node_bufferevent::ws
