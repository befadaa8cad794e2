// The connect policy for host names: resolve through libevent's asynchronous resolver (never the
// blocking path), then try each resolved address in turn (libevent's own connect_hostname tries
// only the first) and report only the final outcome. With a local address, each attempt gets a
// fresh socket bound to it, and addresses of the other family are skipped.
#pragma once

#include <event2/dns.h>
#include <event2/util.h>
#include <napi.h>
#include <sys/socket.h>

#include <string>
#include <utility>
#include <vector>

#include "local_address.h"

namespace node_bufferevent {

class BuffereventWrap;

class HostnameConnector {
 public:
  HostnameConnector(BuffereventWrap* wrap, evdns_base* dns, LocalAddress local)
      : wrap_(wrap), dns_(dns), local_(std::move(local)) {}
  ~HostnameConnector();
  HostnameConnector(const HostnameConnector&) = delete;
  HostnameConnector& operator=(const HostnameConnector&) = delete;

  void Start(const std::string& host, int port, int family);
  // The current attempt failed with `err`: starts the next address and returns true, or returns
  // false when none is left (the failure then goes to the user).
  bool TryNextAfterFailure(int err);

 private:
  struct Lookup;  // outlives us if libevent calls back after we are gone
  static void OnResolved(int result, evutil_addrinfo* addresses, void* arg);
  void Resolved(int result, evutil_addrinfo* addresses);
  bool ConnectToNext();
  // Gives the bufferevent a fresh socket bound to local_ for an attempt; false (last_error_ set)
  // when that fails.
  bool BindForAttempt();
  std::string FinalFailure() const;

  BuffereventWrap* wrap_;
  evdns_base* dns_;
  LocalAddress local_;  // not set: libevent makes each attempt's socket
  std::string host_;
  Lookup* lookup_ = nullptr;
  std::vector<sockaddr_storage> addresses_;
  std::vector<int> lengths_;
  size_t next_ = 0;
  int last_error_ = 0;
  const char* last_syscall_ = "connect";
  size_t attempts_ = 0;  // addresses of local_'s family (all, without local_)
};

}  // namespace node_bufferevent
