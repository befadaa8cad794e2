// Masking keys for client frames (RFC 6455 §5.3: unpredictable, from a strong source of entropy):
// the kernel's CSPRNG through getrandom(), drawn a page at a time so a frame costs no system call.
// One pool per thread serves every client connection of that thread (ThreadMaskKeys): a key is
// handed out once, so what one peer sees of its keys tells it nothing about another's, and a
// connection carries no pool of its own (a server's never masks).
#pragma once

#include <sys/random.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace node_bufferevent::ws {

class MaskKeySource {
 public:
  // Fills key[0..4). Returns false only if the kernel refuses randomness (never after boot).
  bool Next(uint8_t* key) {
    if (used_ + 4 > sizeof pool_ && !Refill()) return false;
    std::memcpy(key, pool_ + used_, 4);
    std::memset(pool_ + used_, 0, 4);  // a key is never handed out twice
    used_ += 4;
    return true;
  }

 private:
  bool Refill() {
    size_t filled = 0;
    while (filled < sizeof pool_) {
      ssize_t got = getrandom(pool_ + filled, sizeof pool_ - filled, 0);
      if (got < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      filled += static_cast<size_t>(got);
    }
    used_ = 0;
    return true;
  }

  uint8_t pool_[4096];
  size_t used_ = sizeof pool_;
};

// The calling thread's pool (each worker thread has its own environment and its own pool).
inline MaskKeySource& ThreadMaskKeys() {
  thread_local MaskKeySource keys;
  return keys;
}

}  // namespace node_bufferevent::ws
