// OutputCork: automatic corking of one WebSocket connection's output. Frames are held here in
// order, instead of leaving at once through write-through, for two reasons:
// - a batch: while one read's batch of frames is being delivered to JavaScript, every frame the
//   connection writes (replies sent from the handlers, automatic pongs, close frames, publishes)
//   is held, and the batch's frames leave in one writev when it ends;
// - the pass: a publish is held until the end of the current libevent pass (the connection is
//   listed on the loop, see PassEndWriter), so every publish of a pass reaches a subscriber in one
//   writev; whatever the connection sends meanwhile is held behind it, keeping its order.
// Outside both nothing is held, so a lone send still goes out at once through write-through.
// The buffer exists only while something is held: it is created by the first frame held and freed
// when a flush has emptied it and holding has stopped, so an idle connection costs no evbuffer.
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

  // Starts holding a batch. Without write-through there is nothing to save (frames already wait in
  // the output for libevent's write event), so nothing is held.
  void Begin(bool write_through) { batch_ = write_through; }
  bool holding_batch() const { return batch_; }
  // Ends the batch: what is held leaves now, unless the connection holds for the end of the pass
  // too (then it leaves with the pass's publishes). False when libevent refused the bytes.
  bool End(BuffereventWrap* bufferevent);
  // Starts holding until the end of the pass; the caller lists the connection on the loop, and
  // calls EndPass when the pass ends.
  void HoldUntilPassEnd() { pass_ = true; }
  bool holding_until_pass_end() const { return pass_; }
  bool EndPass(BuffereventWrap* bufferevent);
  // Where a frame goes now: the held buffer (created on first use), or nullptr to write it through
  // or queue it as usual (also when libevent could not allocate the buffer: nothing is held then).
  evbuffer* holder();
  size_t length() const { return held_ != nullptr ? evbuffer_get_length(held_) : 0; }
  // Sends what is held (it goes after whatever the output holds) and keeps holding: for a write
  // shutdown, which must find the frames in the output, and for a large publish, which is not
  // worth holding back. False when libevent refused the bytes.
  bool Flush(BuffereventWrap* bufferevent);
  // Drops what is held (the connection is being released) and frees the buffer.
  void Release();

 private:
  evbuffer* held_ = nullptr;  // only while it holds something (see above)
  bool batch_ = false;
  bool pass_ = false;
};

}  // namespace node_bufferevent::ws
