// MessageBatch: the small data messages one read of a WebSocket connection yields, handed to
// JavaScript in one call instead of one call (and one Buffer allocation) each. The payloads are
// copied side by side into one slab Buffer, followed by an index of (offset, length | binary bit)
// pairs; src/websocket/websocket.ts turns each entry into a Buffer view of the slab as it delivers
// it. One batch per thread is enough: a connection hands its batch over (Take) before it calls
// JavaScript, so the batch is always empty while JavaScript runs, whichever connection it reads.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace node_bufferevent::ws {

class MessageBatch {
 public:
  // A message larger than this gets its own Buffer: a slab kept alive by one small message the
  // user holds on to should stay small too.
  static constexpr size_t kMaxMessageBytes = 16 * 1024;
  static constexpr size_t kMaxBytes = 64 * 1024;
  static constexpr size_t kMaxMessages = 1024;
  static constexpr uint32_t kBinaryBit = 0x80000000u;

  static MessageBatch& ForThisThread();

  bool empty() const { return index_.empty(); }
  size_t count() const { return index_.size() / 2; }
  // Whether a message of `length` bytes still fits (one always fits an empty batch).
  bool Fits(size_t length) const {
    return empty() || (bytes_.size() + length <= kMaxBytes && count() < kMaxMessages);
  }
  void Add(const uint8_t* data, size_t length, bool binary);
  // The slab for JavaScript (payloads, then the index at `*index_offset`, 4-byte aligned) and the
  // batch emptied; an empty Buffer when napi refused it (the batch is emptied all the same).
  Napi::Buffer<uint8_t> Take(Napi::Env env, size_t* index_offset);
  void Clear();

 private:
  std::vector<uint8_t> bytes_;
  std::vector<uint32_t> index_;
};

}  // namespace node_bufferevent::ws
