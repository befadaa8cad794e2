// The state of the binding's pause at the read high watermark (read_high_watermark.cc explains
// libevent's busy loop it replaces). Every kind has one.
#pragma once

#include <event2/buffer.h>
#include <event2/event.h>

#include <cstddef>

namespace node_bufferevent {

struct ReadHighWatermarkState {
  size_t high = 0;                     // the read high watermark as last set
  evbuffer_cb_entry* watch = nullptr;  // on the input while high > 0
  event* settle = nullptr;             // re-applies a pause after libevent's own code
  bool paused = false;         // EV_READ held off in libevent at the mark; the user's wish is on
  bool input_drained = false;  // something was taken from the input since the last read callback
};

}  // namespace node_bufferevent
