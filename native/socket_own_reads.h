// The state of the binding's own reads (maxReadPerWakeup) on a socket bufferevent; the reading
// itself is in socket_own_reads.cc.
#pragma once

#include <event2/event.h>

#include <cstdint>

namespace node_bufferevent {

// The read timeout is the bufferevent's own (timeout_read, as setTimeouts gave it to libevent), and
// the fd is the one read_event watches. 16 bytes: every WebSocket connection carries one.
struct OwnReadState {
  event* read_event = nullptr;  // the bufferevent's ev_read taken over, or our own (see the .cc)
  uint32_t max_per_wakeup = 0;  // 0: libevent's own reads (at most 4096 bytes per wakeup)
  bool on = false;              // max_per_wakeup > 0
  bool user_enabled = false;    // EV_READ as the user enabled it (libevent's own flag stays off)
};

}  // namespace node_bufferevent
