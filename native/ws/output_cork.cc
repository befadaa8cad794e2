// Holding a connection's frames and sending them in one writev (see output_cork.h).
#include "output_cork.h"

namespace node_bufferevent::ws {

evbuffer* OutputCork::holder() {
  if (!batch_ && !pass_) return nullptr;
  if (held_ == nullptr) held_ = evbuffer_new();
  return held_;
}

bool OutputCork::Flush(BuffereventWrap* bufferevent) {
  if (held_ == nullptr) return true;
  bool accepted = bufferevent->FlushHeld(held_);
  // Emptied (everything went to the socket or moved to the output): the buffer goes with it. When
  // libevent refused the bytes, they stay held, in order, for the next flush.
  if (evbuffer_get_length(held_) == 0) {
    evbuffer_free(held_);
    held_ = nullptr;
  }
  return accepted;
}

bool OutputCork::End(BuffereventWrap* bufferevent) {
  batch_ = false;
  return pass_ || Flush(bufferevent);
}

bool OutputCork::EndPass(BuffereventWrap* bufferevent) {
  pass_ = false;
  return batch_ || Flush(bufferevent);
}

void OutputCork::Release() {
  batch_ = false;
  pass_ = false;
  // Freeing runs the cleanups of chains held by reference (JavaScript buffers, shared frames).
  if (held_ != nullptr) evbuffer_free(held_);
  held_ = nullptr;
}

}  // namespace node_bufferevent::ws
