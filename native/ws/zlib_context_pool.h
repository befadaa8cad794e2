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
// Without context takeover an idle connection holds none. With it, a connection's contexts hold
// the history its peer relies on (~320 KiB for both at the defaults), but only while it is busy:
// a codec unused for a while is parked (HistoryHolder): its window, at most 2^windowBits bytes of
// plain data (less when less went through), is copied out and the context given back here; the
// next message takes a context again and restores the window as its dictionary, so the bytes on
// the wire are as valid as if the context had been kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
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

class ZlibContextPool;

// A codec with context takeover, listed on its pool while it holds a context, least recently used
// last, so that the idle ones can be parked.
class HistoryHolder {
 public:
  // Parks the context (copies the window out, gives the context back, leaves the list); false
  // when it cannot now (a message is in progress): it stays listed.
  virtual bool Park() = 0;
  bool parked() const { return parked_; }

 protected:
  ~HistoryHolder() = default;
  // The window kept while parked, restored by the next message.
  std::vector<uint8_t> parked_window_;
  bool parked_ = false;

 private:
  friend class ZlibContextPool;
  HistoryHolder* newer_ = nullptr;
  HistoryHolder* older_ = nullptr;
  bool listed_ = false;
  uint64_t last_used_ms_ = 0;
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

  // A holder used its context: it becomes the most recently used (listed if it was not).
  void Touch(HistoryHolder* holder);
  // Takes a holder off the list (it gave its context back, or is being destroyed).
  void Forget(HistoryHolder* holder);
  // Parks every holder unused for at least `idle_ms` that is between messages; how many were.
  size_t ParkIdle(uint64_t idle_ms);
  size_t holder_count() const { return holder_count_; }
  // Called whenever a holder is listed: the event loop arms its sweep (ParkIdle) then.
  void SetSweepRequest(std::function<void()> request) { sweep_request_ = std::move(request); }
  static uint64_t NowMs();

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
  HistoryHolder* newest_ = nullptr;
  HistoryHolder* oldest_ = nullptr;
  size_t holder_count_ = 0;
  std::function<void()> sweep_request_;
};

}  // namespace node_bufferevent::ws
