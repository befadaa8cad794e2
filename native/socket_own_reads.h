// The state of the binding's own reads (maxReadPerWakeup) on a socket bufferevent; the reading
// itself is in socket_own_reads.cc.
#pragma once

#include <event2/buffer.h>
#include <event2/event.h>
#include <sys/time.h>

#include <cstddef>

namespace node_bufferevent {

struct OwnReadState {
  size_t max_per_wakeup = 0;  // 0: libevent's own reads (at most 4096 bytes per wakeup)
  bool on = false;            // max_per_wakeup > 0
  bool user_enabled = false;  // EV_READ as the user enabled it (libevent's own flag stays off)
  event* read_event = nullptr;
  int fd = -1;                   // the fd read_event watches
  event* retry_timer = nullptr;  // waits for a rate-limit refill; made on the first wait
  bool has_timeout = false;
  timeval timeout{};
};

}  // namespace node_bufferevent
