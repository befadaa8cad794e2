// Collecting a read's small messages and building the slab JavaScript receives them in.
#include "message_batch.h"

#include <cstring>

#include "../util/napi_checked.h"

namespace node_bufferevent::ws {

namespace {

// Capacity kept between batches; a batch of large messages gives back what it grew beyond this.
constexpr size_t kRetainedBytes = MessageBatch::kMaxBytes + MessageBatch::kMaxMessageBytes;

}  // namespace

MessageBatch& MessageBatch::ForThisThread() {
  // One per thread: worker threads have their own environments and loops.
  static thread_local MessageBatch batch;
  return batch;
}

void MessageBatch::Add(const uint8_t* data, size_t length, bool binary) {
  index_.push_back(static_cast<uint32_t>(bytes_.size()));
  index_.push_back(static_cast<uint32_t>(length) | (binary ? kBinaryBit : 0));
  bytes_.insert(bytes_.end(), data, data + length);
}

Napi::Buffer<uint8_t> MessageBatch::Take(Napi::Env env, size_t* index_offset) {
  size_t payload = (bytes_.size() + 3) & ~static_cast<size_t>(3);
  size_t index_bytes = index_.size() * sizeof(uint32_t);
  Napi::Buffer<uint8_t> slab = NewBuffer(env, payload + index_bytes);
  if (!slab.IsEmpty()) {
    uint8_t* out = slab.Data();
    if (!bytes_.empty()) std::memcpy(out, bytes_.data(), bytes_.size());
    std::memset(out + bytes_.size(), 0, payload - bytes_.size());
    std::memcpy(out + payload, index_.data(), index_bytes);
  }
  *index_offset = payload;
  Clear();
  return slab;
}

void MessageBatch::Clear() {
  if (bytes_.capacity() > kRetainedBytes) std::vector<uint8_t>().swap(bytes_);
  bytes_.clear();
  index_.clear();
}

}  // namespace node_bufferevent::ws
