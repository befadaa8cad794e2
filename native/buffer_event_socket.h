// The state only socket bufferevents have, as libevent keeps it apart in bufferevent_sock.c: the
// connect in progress, the write-side shutdown, hostname connects, the binding's fast paths and
// rate limits. BuffereventWrap holds one only when it is a socket.
#pragma once

#include <event2/buffer.h>
#include <event2/event.h>

#include <memory>

#include "hostname_connector.h"
#include "rate_limit.h"
#include "socket_own_reads.h"

namespace node_bufferevent {

struct SocketState {
  bool connecting = false;  // between connect() and its CONNECTED or ERROR event
  bool write_through = false;
  evbuffer_cb_entry* shutdown_watch = nullptr;  // pending shutdown until the output drains
  event* shutdown_wait = nullptr;  // waits for a connect to finish before shutting down
  std::unique_ptr<HostnameConnector> hostname_connector;
  OwnReadState own_reads;
  // From the first setRateLimit or group on: most sockets never have one.
  std::unique_ptr<RateLimitState> rate_limit;
  RateLimitState& Limits() {
    if (rate_limit == nullptr) rate_limit = std::make_unique<RateLimitState>();
    return *rate_limit;
  }
};

}  // namespace node_bufferevent
