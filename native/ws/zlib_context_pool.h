// Idle zlib contexts kept for reuse. A permessage-deflate end that resets its context after every
// message (no_context_takeover) needs one only while a message is being compressed or inflated;
// between messages it gives it back here, so idle connections hold no zlib memory and a busy
// thread needs about as many contexts as messages it handles at once (one, for whole messages on
// the loop thread). One pool per addon instance (thread): nothing here is synchronised.
//
// Memory per context. Stock zlib's formula (zconf.h), plus the z_stream and its internal state:
//   deflate: (1 << (windowBits + 2)) + (1 << (memLevel + 9)) bytes + ~6 KiB
//   inflate: (1 << windowBits) bytes, allocated at the first inflated byte, + ~7 KiB of state
// Node's bundled zlib (Chromium's) keeps a hash table of at least 2^15 entries whatever memLevel,
// so small deflate windows save less. Measured with Node 20's zlib (zlibContextMemory in the test
// module, test/ws/deflate-codec.limits.test.ts), bytes zlib holds per context:
//   deflate, memLevel 8: windowBits 15: 284 704; 12: 170 016; 10: 157 728; 9: 155 680
//   deflate windowBits 15 memLevel 9: 432 160; windowBits 9 memLevel 1: 74 400
//   inflate: windowBits 15: 41 976; 12: 13 304; 10: 10 232; 9: 9 720
// With context takeover a connection holds one of each for its life (~320 KiB at the defaults);
// without it, an idle connection holds none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../util/zlib_stream.h"

namespace node_bufferevent::ws {

// Everything a context is initialised with: only contexts made with the same key are
// interchangeable.
struct ZlibContextKey {
  ZlibStream::Direction direction = ZlibStream::Direction::kDeflate;
  int window_bits = 15;  // 9..15 (raw deflate; deflate is never asked for 8)
  int level = -1;        // deflate only
  int mem_level = 8;     // deflate only
  int strategy = 0;      // deflate only

  bool operator==(const ZlibContextKey& other) const = default;
};

class ZlibContextPool {
 public:
  // At most `max_idle_per_key` idle contexts of one key are kept; more are freed on release.
  explicit ZlibContextPool(size_t max_idle_per_key = 4) : max_idle_per_key_(max_idle_per_key) {}
  ZlibContextPool(const ZlibContextPool&) = delete;
  ZlibContextPool& operator=(const ZlibContextPool&) = delete;

  // An idle context of this key (already reset), or a new one; null with *error when zlib fails.
  std::unique_ptr<ZlibStream> Acquire(const ZlibContextKey& key, std::string* error);
  // Takes a context back: it is reset (its history forgotten) and kept idle, or freed.
  void Release(const ZlibContextKey& key, std::unique_ptr<ZlibStream> stream);
  void Clear() { slots_.clear(); }

  size_t idle_count() const;
  uint64_t created_count() const { return created_count_; }

  // A new context outside any pool (the codecs use it when they have no pool).
  static std::unique_ptr<ZlibStream> Create(const ZlibContextKey& key, std::string* error);

 private:
  struct Slot {
    ZlibContextKey key;
    std::vector<std::unique_ptr<ZlibStream>> idle;
  };
  // Few distinct keys per process (one per configuration in use): a linear search is enough.
  std::vector<Slot> slots_;
  size_t max_idle_per_key_;
  uint64_t created_count_ = 0;
};

}  // namespace node_bufferevent::ws
