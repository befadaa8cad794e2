#include "zlib_context_pool.h"

#include <utility>

namespace node_bufferevent::ws {

std::unique_ptr<ZlibStream> ZlibContextPool::Create(const ZlibContextKey& key, std::string* error) {
  auto stream = std::make_unique<ZlibStream>();
  // Negative window bits: raw deflate, no zlib header or checksum (RFC 7692 §7.2.1).
  if (!stream->Init(key.direction, key.level, -key.window_bits, key.mem_level, key.strategy,
                    error)) {
    return nullptr;
  }
  return stream;
}

std::unique_ptr<ZlibStream> ZlibContextPool::Acquire(const ZlibContextKey& key,
                                                     std::string* error) {
  for (Slot& slot : slots_) {
    if (slot.key == key && !slot.idle.empty()) {
      std::unique_ptr<ZlibStream> stream = std::move(slot.idle.back());
      slot.idle.pop_back();
      return stream;
    }
  }
  std::unique_ptr<ZlibStream> stream = Create(key, error);
  if (stream) created_count_++;
  return stream;
}

void ZlibContextPool::Release(const ZlibContextKey& key, std::unique_ptr<ZlibStream> stream) {
  if (!stream) return;
  for (Slot& slot : slots_) {
    if (slot.key == key) {
      if (slot.idle.size() >= max_idle_per_key_) return;  // freed when `stream` goes out of scope
      stream->Reset();
      slot.idle.push_back(std::move(stream));
      return;
    }
  }
  if (max_idle_per_key_ == 0) return;
  stream->Reset();
  slots_.push_back(Slot{key, {}});
  slots_.back().idle.push_back(std::move(stream));
}

size_t ZlibContextPool::idle_count() const {
  size_t count = 0;
  for (const Slot& slot : slots_) count += slot.idle.size();
  return count;
}

}  // namespace node_bufferevent::ws
