// OutputCork: automatic corking of one WebSocket connection's output. While one read's batch of
// frames is being delivered to JavaScript, every frame the connection writes (replies sent from the
// handlers, automatic pongs, close frames, publishes) is held here in order, and the batch's frames
// leave in one writev when it ends instead of one sendmsg each. Outside a batch nothing is held, so
// a lone send still goes out at once through write-through.
#pragma once

#include <event2/buffer.h>

#include <cstddef>

#include "../buffer_event.h"

namespace node_bufferevent::ws {

class OutputCork {
 public:
  OutputCork() = default;
  OutputCork(const OutputCork&) = delete;
  OutputCork& operator=(const OutputCork&) = delete;
  ~OutputCork() { Release(); }

  // Starts holding. Without write-through there is nothing to save (frames already wait in the
  // output for libevent's write event), so nothing is held.
  void Begin(bool write_through);
  // Where a frame goes now: the held buffer, or nullptr to write it through or queue it as usual.
  evbuffer* holder() const { return holding_ ? held_ : nullptr; }
  size_t length() const { return held_ != nullptr ? evbuffer_get_length(held_) : 0; }
  // Sends what is held (it goes after whatever the output holds) and keeps holding: for a write
  // shutdown, which must find the frames in the output. False when libevent refused the bytes.
  bool Flush(BuffereventWrap* bufferevent);
  // Flushes and stops holding.
  bool End(BuffereventWrap* bufferevent);
  // Drops what is held (the connection is being released) and frees the buffer.
  void Release();

 private:
  evbuffer* held_ = nullptr;  // created on the first batch with write-through, then reused
  bool holding_ = false;
};

}  // namespace node_bufferevent::ws
