// Publication: one publish on its way to a topic's subscribers. Every subscriber that does not
// compress shares its uncompressed frame. With permessage-deflate, a subscriber whose compressor
// resets after every message (no context takeover on our side) produces the same bytes for the
// same message as any other with the same settings: those share one compressed frame, made on
// first need for each distinct setting. A subscriber that keeps its context compresses the message
// itself, since its output depends on its history.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "deflate_codec.h"
#include "topics.h"

namespace node_bufferevent::ws {

class Publication {
 public:
  // `plain` is the uncompressed frame (this takes one reference); the payload must outlive this.
  // `compressible` false: every subscriber gets the uncompressed frame.
  Publication(SharedFrame* plain, uint8_t opcode, const uint8_t* payload, size_t length,
              ZlibContextPool* pool, bool compressible);
  ~Publication();
  Publication(const Publication&) = delete;
  Publication& operator=(const Publication&) = delete;

  SharedFrame& plain() { return *plain_; }
  uint8_t opcode() const { return opcode_; }
  const uint8_t* payload() const { return payload_; }
  size_t length() const { return length_; }
  bool compressible() const { return compressible_; }

  // The message compressed as one frame under `settings` (which must reset after each message),
  // made on the first call for those settings; null when zlib failed (the subscriber then gets the
  // uncompressed frame, which is always allowed).
  SharedFrame* CompressedFor(const CompressSettings& settings);

 private:
  SharedFrame* plain_;
  uint8_t opcode_;
  const uint8_t* payload_;
  size_t length_;
  ZlibContextPool* pool_;
  bool compressible_;
  // Few distinct settings per process: a linear search is enough. A null frame records a failure.
  std::vector<std::pair<CompressSettings, SharedFrame*>> compressed_;
};

}  // namespace node_bufferevent::ws
