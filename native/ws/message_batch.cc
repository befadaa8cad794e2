// Collecting a read's small messages and copying them into the receive pool.
#include "message_batch.h"

#include <algorithm>
#include <cstring>

#include "../util/napi_checked.h"

namespace node_bufferevent::ws {

namespace {

// Capacity kept between batches; a batch of large messages gives back what it grew beyond this.
constexpr size_t kRetainedBytes = MessageBatch::kMaxBytes + MessageBatch::kMaxMessageBytes;

constexpr size_t AlignUp(size_t value, size_t alignment) {
  return (value + alignment - 1) & ~(alignment - 1);
}

}  // namespace

void MessageBatch::Add(const uint8_t* data, size_t length, bool binary) {
  index_.push_back(static_cast<uint32_t>(bytes_.size()));
  index_.push_back(static_cast<uint32_t>(length) | (binary ? kBinaryBit : 0));
  bytes_.insert(bytes_.end(), data, data + length);
}

bool MessageBatch::Reserve(Napi::Env env, size_t bytes) {
  if (pool_data_ != nullptr && pool_used_ + bytes <= pool_size_) return true;
  // The old pool lives on in JavaScript as long as a message viewing it does.
  pool_.Reset();
  pool_data_ = nullptr;
  Napi::Buffer<uint8_t> pool = NewBuffer(env, std::max(bytes, kPoolBytes));
  if (pool.IsEmpty()) return false;
  pool_ = Napi::Reference<Napi::Buffer<uint8_t>>::New(pool, 1);
  pool_data_ = pool.Data();
  pool_size_ = pool.Length();
  // A message's `buffer` is the whole pool: what it shows beyond the messages (the padding, the
  // unused rest) must not be stale heap memory. Other messages of the thread are visible there, as
  // in Node's own Buffer pool.
  std::memset(pool_data_, 0, pool_size_);
  pool_used_ = 0;
  return true;
}

bool MessageBatch::Take(Napi::Env env, napi_value* pool, size_t* index_at) {
  size_t payload = AlignUp(bytes_.size(), 8);
  size_t needed = payload + index_.size() * sizeof(uint32_t);
  bool taken = Reserve(env, needed);
  if (taken) {
    size_t start = pool_used_;
    uint8_t* out = pool_data_ + start;
    if (!bytes_.empty()) std::memcpy(out, bytes_.data(), bytes_.size());
    // Offsets in the pool: the index of one batch is read without knowing where the batch starts.
    auto* index = reinterpret_cast<uint32_t*>(out + payload);
    for (size_t i = 0; i < index_.size(); i += 2) {
      index[i] = index_[i] + static_cast<uint32_t>(start);
      index[i + 1] = index_[i + 1];
    }
    pool_used_ = AlignUp(start + needed, 8);
    *pool = pool_.Value();
    *index_at = start + payload;
    taken = *pool != nullptr;
  }
  Clear();
  return taken;
}

void MessageBatch::Clear() {
  if (bytes_.capacity() > kRetainedBytes) std::vector<uint8_t>().swap(bytes_);
  bytes_.clear();
  index_.clear();
}

}  // namespace node_bufferevent::ws
