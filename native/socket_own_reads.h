// The state of the binding's own reads (maxReadPerWakeup) on a socket bufferevent; the reading
// itself is in socket_own_reads.cc.
#pragma once

#include <event2/buffer.h>
#include <event2/event.h>

#include <cstddef>

namespace node_bufferevent {

// The read timeout is the bufferevent's own (timeout_read, as setTimeouts gave it to libevent).
struct OwnReadState {
  size_t max_per_wakeup = 0;     // 0: libevent's own reads (at most 4096 bytes per wakeup)
  event* read_event = nullptr;   // the bufferevent's ev_read taken over, or our own (see the .cc)
  event* retry_timer = nullptr;  // waits for a rate-limit refill; made on the first wait
  int fd = -1;                   // the fd read_event watches
  bool on = false;               // max_per_wakeup > 0
  bool user_enabled = false;     // EV_READ as the user enabled it (libevent's own flag stays off)
};

}  // namespace node_bufferevent
