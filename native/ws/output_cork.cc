// Holding a batch's frames and sending them in one writev (see output_cork.h).
#include "output_cork.h"

namespace node_bufferevent::ws {

void OutputCork::Begin(bool write_through) {
  if (!write_through) return;
  if (held_ == nullptr) held_ = evbuffer_new();
  // Refused (out of memory): frames are written through as before.
  holding_ = held_ != nullptr;
}

bool OutputCork::Flush(BuffereventWrap* bufferevent) {
  if (held_ == nullptr || evbuffer_get_length(held_) == 0) return true;
  return bufferevent->FlushHeld(held_);
}

bool OutputCork::End(BuffereventWrap* bufferevent) {
  holding_ = false;
  return Flush(bufferevent);
}

void OutputCork::Release() {
  holding_ = false;
  // Freeing runs the cleanups of chains held by reference (JavaScript buffers, shared frames).
  if (held_ != nullptr) evbuffer_free(held_);
  held_ = nullptr;
}

}  // namespace node_bufferevent::ws
