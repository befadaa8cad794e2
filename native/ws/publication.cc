#include "publication.h"

#include <event2/buffer.h>

#include <string>

namespace node_bufferevent::ws {

Publication::Publication(SharedFrame* plain, uint8_t opcode, const uint8_t* payload, size_t length,
                         ZlibContextPool* pool, bool compressible)
    : plain_(plain),
      opcode_(opcode),
      payload_(payload),
      length_(length),
      pool_(pool),
      compressible_(compressible) {
  plain_->Ref();
}

Publication::~Publication() {
  for (auto& [settings, frame] : compressed_) {
    if (frame != nullptr) frame->Unref();
  }
  plain_->Unref();
}

SharedFrame* Publication::CompressedFor(const CompressSettings& settings) {
  for (auto& [made_with, frame] : compressed_) {
    if (made_with == settings) return frame;
  }
  SharedFrame* frame = nullptr;
  if (evbuffer* compressed = evbuffer_new(); compressed != nullptr) {
    // A codec of its own, whose context comes from the pool and goes back at the message's end.
    MessageDeflater deflater(settings, pool_);
    std::string error;
    if (deflater.Compress(payload_, length_, true, compressed, &error) == DeflateResult::kOk) {
      size_t size = evbuffer_get_length(compressed);
      const uint8_t* bytes = evbuffer_pullup(compressed, -1);
      FrameSpec spec;
      spec.opcode = opcode_;
      spec.rsv1 = true;
      if (bytes != nullptr) frame = SharedFrame::Create(spec, bytes, size);
    }
    evbuffer_free(compressed);
  }
  compressed_.emplace_back(settings, frame);
  return frame;
}

}  // namespace node_bufferevent::ws
