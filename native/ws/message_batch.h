// MessageBatch: the small data messages one read of a WebSocket connection yields, handed to
// JavaScript in one call instead of one call (and one Buffer allocation) each. A batch is copied
// into the receive pool, a Buffer shared by consecutive batches (a new one when it is full, so a
// batch costs no allocation): the payloads side by side, then an index of (offset in the pool,
// length | binary bit) pairs. src/websocket/message-batch.ts turns each entry into a Buffer view
// of the pool as it is delivered. One batch per environment is enough: a connection hands its
// batch over (Take) before it calls JavaScript, so the batch is always empty while JavaScript
// runs, whichever connection it reads next.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace node_bufferevent::ws {

class MessageBatch {
 public:
  // A message larger than this gets its own Buffer: a pool kept alive by one small message the
  // user holds on to should stay small too.
  static constexpr size_t kMaxMessageBytes = 16 * 1024;
  static constexpr size_t kMaxBytes = 64 * 1024;
  static constexpr size_t kMaxMessages = 1024;
  static constexpr size_t kPoolBytes = 64 * 1024;
  static constexpr uint32_t kBinaryBit = 0x80000000u;

  bool empty() const { return index_.empty(); }
  size_t count() const { return index_.size() / 2; }
  // Whether a message of `length` bytes still fits (one always fits an empty batch).
  bool Fits(size_t length) const {
    return empty() || (bytes_.size() + length <= kMaxBytes && count() < kMaxMessages);
  }
  void Add(const uint8_t* data, size_t length, bool binary);
  // Copies the batch into the pool and empties it: `*pool` is the pool Buffer and the index starts
  // at byte `*index_at` of it (4-byte aligned). False (the batch emptied all the same) when napi
  // refused a new pool.
  bool Take(Napi::Env env, napi_value* pool, size_t* index_at);
  void Clear();

 private:
  bool Reserve(Napi::Env env, size_t bytes);

  std::vector<uint8_t> bytes_;
  std::vector<uint32_t> index_;
  Napi::Reference<Napi::Buffer<uint8_t>> pool_;
  uint8_t* pool_data_ = nullptr;
  size_t pool_size_ = 0;
  size_t pool_used_ = 0;
};

}  // namespace node_bufferevent::ws
