#include "zlib_context_pool.h"

#include <chrono>
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

uint64_t ZlibContextPool::NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

void ZlibContextPool::Touch(HistoryHolder* holder) {
  holder->last_used_ms_ = NowMs();
  if (newest_ == holder) return;
  bool listed = holder->listed_;
  if (listed) Forget(holder);
  holder->older_ = newest_;
  holder->newer_ = nullptr;
  if (newest_ != nullptr) newest_->newer_ = holder;
  newest_ = holder;
  if (oldest_ == nullptr) oldest_ = holder;
  holder->listed_ = true;
  ++holder_count_;
  if (!listed && sweep_request_) sweep_request_();
}

void ZlibContextPool::Forget(HistoryHolder* holder) {
  if (!holder->listed_) return;
  (holder->newer_ != nullptr ? holder->newer_->older_ : newest_) = holder->older_;
  (holder->older_ != nullptr ? holder->older_->newer_ : oldest_) = holder->newer_;
  holder->newer_ = holder->older_ = nullptr;
  holder->listed_ = false;
  --holder_count_;
}

size_t ZlibContextPool::ParkIdle(uint64_t idle_ms) {
  uint64_t now = NowMs();
  size_t parked = 0;
  // From the least recently used on; the first one used too recently ends the walk.
  for (HistoryHolder* holder = oldest_; holder != nullptr;) {
    if (now - holder->last_used_ms_ < idle_ms) break;
    HistoryHolder* newer = holder->newer_;
    if (holder->Park()) ++parked;
    holder = newer;
  }
  return parked;
}

size_t ZlibContextPool::idle_count() const {
  size_t count = 0;
  for (const Slot& slot : slots_) count += slot.idle.size();
  return count;
}

}  // namespace node_bufferevent::ws
