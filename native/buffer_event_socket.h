// The state only socket bufferevents have, as libevent keeps it apart in bufferevent_sock.c: the
// connect in progress, the write-side shutdown, hostname connects, the binding's fast paths and
// rate limits. BuffereventWrap holds it by value, since most bufferevents are sockets; a pair or a
// filter leaves it unused.
#pragma once

#include <event2/buffer.h>
#include <event2/event.h>

#include <memory>

#include "hostname_connector.h"
#include "rate_limit.h"

namespace node_bufferevent {

// What a socket needs only once it connects by name, shuts down, waits for a rate-limit refill or
// gets a rate limit: made on first use, so that an idle connection pays one pointer for all of it.
struct SocketRareState {
  evbuffer_cb_entry* shutdown_watch = nullptr;  // pending shutdown until the output drains
  event* shutdown_wait = nullptr;     // waits for a connect to finish before shutting down
  event* read_retry_timer = nullptr;  // own reads waiting for a rate-limit refill
  // Own reads' event of their own, under a rate limit or below a filter (socket_own_reads.cc).
  event* own_read_event = nullptr;
  std::unique_ptr<HostnameConnector> hostname_connector;
  std::unique_ptr<RateLimitState> rate_limit;  // from the first setRateLimit or group on
};

// 4 bytes, since every WebSocket connection carries one: it fills the padding after the wrapper's
// small fields. Its rare part is in the wrapper's rare state (SocketRare), which saves the pointer.
struct SocketState {
  // The binding's own reads (socket_own_reads.cc): at most this many bytes per wakeup (at most
  // kMaxReadPerWakeup); 0: libevent's own reads (4096 bytes per wakeup). Their event is the
  // bufferevent's ev_read while it has our callback, else own_read_event; the read timeout is the
  // bufferevent's own (timeout_read, as setTimeouts gave it to libevent).
  static constexpr uint32_t kMaxReadPerWakeup = 64u << 20;
  uint32_t max_read_per_wakeup : 27 = 0;
  bool own_reads_on : 1 = false;  // max_read_per_wakeup > 0
  bool own_read_enabled : 1 =
      false;                    // EV_READ as the user enabled it (libevent's own flag stays off)
  bool connecting : 1 = false;  // between connect() and its CONNECTED or ERROR event
  bool write_through : 1 = false;
  // recv or send said ENOTSOCK: the fast paths use readv and writev on this descriptor.
  bool not_a_socket : 1 = false;
};
static_assert(sizeof(SocketState) == 4, "SocketState fills the wrapper's padding");
static_assert(SocketState::kMaxReadPerWakeup < (1u << 27), "max_read_per_wakeup's width");

}  // namespace node_bufferevent
