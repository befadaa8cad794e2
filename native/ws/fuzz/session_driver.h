// What the ProtocolSession fuzz targets share: a small deterministic random source for chunk
// sizes and pauses, and the loop that feeds a session the way WebSocketConnection::ParseInput
// does, checking the session's contract after every Feed.
#pragma once

#include <event2/buffer.h>

#include <cstddef>
#include <cstdint>

#include "../protocol_session.h"

namespace node_bufferevent::ws::fuzz {

class Xorshift {
 public:
  explicit Xorshift(uint32_t seed) : state_(seed | 1) {}
  uint32_t Next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }

 private:
  uint32_t state_;
};

// A header part not yet taken is at most 7 bytes (of a 64-bit length).
constexpr size_t kMostBytesLeft = 7;

// Feeds until the session needs more or is finished; after kStopped it feeds again. `Recorder`
// says whether its last callback asked to pause and how many final events (close, error) it saw;
// `die` reports a broken contract and does not return.
template <typename Recorder, typename DieFunction>
void FeedUntilDry(ProtocolSession& session, evbuffer* input, const Recorder& recorder,
                  DieFunction die) {
  for (;;) {
    switch (session.Feed(input)) {
      case ProtocolSession::Result::kStopped:
        if (!recorder.last_callback_paused()) die("stopped without a callback asking");
        continue;
      case ProtocolSession::Result::kNeedMore:
        if (session.finished() || recorder.finals() > 0) die("needs more after the end");
        if (evbuffer_get_length(input) > kMostBytesLeft) die("bytes stuck in the input");
        return;
      case ProtocolSession::Result::kFinished:
        if (!session.finished() || recorder.finals() != 1) die("finished without one final event");
        if (evbuffer_get_length(input) != 0) die("input kept after the end");
        return;
    }
  }
}

}  // namespace node_bufferevent::ws::fuzz
