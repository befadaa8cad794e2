// Resolution with evdns_getaddrinfo and connection attempts over every resolved address.
#include "hostname_connector.h"

#include <event2/bufferevent.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "buffer_event.h"
#include "event_loop.h"
#include "filters/native_filter.h"
#include "util/errors.h"

namespace node_bufferevent {

struct HostnameConnector::Lookup {
  HostnameConnector* connector;  // null once the connector is gone: the answer is then dropped
  evdns_getaddrinfo_request* request = nullptr;
};

HostnameConnector::~HostnameConnector() {
  if (lookup_ != nullptr) {
    Lookup* lookup = lookup_;
    lookup_ = nullptr;
    lookup->connector = nullptr;
    // Cancel answers (with EVUTIL_EAI_CANCEL), which frees the Lookup in OnResolved.
    if (lookup->request != nullptr) {
      evdns_getaddrinfo_cancel(lookup->request);
    } else {
      delete lookup;  // libevent returned no request and never called back
    }
  }
}

void HostnameConnector::Start(const std::string& host, int port, int family) {
  host_ = host;
  evutil_addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  std::string service = std::to_string(port);
  lookup_ = new Lookup{this};
  // May answer synchronously (numeric hosts, the hosts file): OnResolved has then cleared lookup_.
  evdns_getaddrinfo_request* request =
      evdns_getaddrinfo(dns_, host.c_str(), service.c_str(), &hints, OnResolved, lookup_);
  if (lookup_ == nullptr) return;  // answered already (numeric host or hosts file)
  lookup_->request = request;
  // libevent queues a request forever when it has no name server; fail it now instead.
  if (evdns_base_count_nameservers(dns_) == 0) {
    Lookup* lookup = lookup_;
    lookup_ = nullptr;
    lookup->connector = nullptr;
    if (request != nullptr)
      evdns_getaddrinfo_cancel(request);
    else
      delete lookup;
    wrap_->RaiseError(BEV_EVENT_ERROR, "ERR_DNS",
                      "cannot resolve '" + host +
                          "': no DNS name servers are configured "
                          "(see /etc/resolv.conf or EventBase.configureDns)",
                      0);
  }
}

void HostnameConnector::OnResolved(int result, evutil_addrinfo* addresses, void* arg) {
  auto* lookup = static_cast<Lookup*>(arg);
  HostnameConnector* connector = lookup->connector;
  delete lookup;
  if (connector != nullptr) {
    connector->lookup_ = nullptr;
    connector->Resolved(result, addresses);
  }
  if (addresses != nullptr) evutil_freeaddrinfo(addresses);
}

void HostnameConnector::Resolved(int result, evutil_addrinfo* addresses) {
  if (result != 0) {
    if (result == EVUTIL_EAI_CANCEL) return;
    wrap_->RaiseError(BEV_EVENT_ERROR, "ERR_DNS",
                      "cannot resolve '" + host_ + "': " + evutil_gai_strerror(result), 0);
    return;
  }
  for (evutil_addrinfo* entry = addresses; entry != nullptr; entry = entry->ai_next) {
    sockaddr_storage storage{};
    std::memcpy(&storage, entry->ai_addr, entry->ai_addrlen);
    addresses_.push_back(storage);
    lengths_.push_back(static_cast<int>(entry->ai_addrlen));
  }
  if (!ConnectToNext())
    wrap_->RaiseError(BEV_EVENT_ERROR, "ERR_CONNECT", FinalFailure(), last_error_);
}

std::string HostnameConnector::FinalFailure() const {
  std::string prefix = "cannot connect to any address of '" + host_ + "': ";
  if (local_.set() && attempts_ == 0) {
    return prefix + "none is " + local_.family_name() + ", the family of localAddress " +
           local_.text;
  }
  std::string call = last_syscall_;
  if (call == "bind") call += " to local address " + local_.text;
  return prefix + call + ": " + std::strerror(last_error_);
}

// Starts a connect to the next address that libevent accepts; false when none is left.
bool HostnameConnector::ConnectToNext() {
  bufferevent* bev = wrap_->bev();
  while (next_ < addresses_.size()) {
    size_t index = next_++;
    int old_fd = bufferevent_getfd(bev);
    if (old_fd >= 0) {
      // The failed attempt's socket: a socket whose connect failed cannot be reused portably.
      bufferevent_setfd(bev, -1);
      close(old_fd);
    }
    if (local_.set()) {
      if (addresses_[index].ss_family != local_.family()) {
        if (attempts_ == 0) last_error_ = EAFNOSUPPORT;
        continue;  // an IPv6 address cannot be reached from an IPv4 local address, nor conversely
      }
      ++attempts_;
      if (!BindForAttempt()) continue;
    } else {
      ++attempts_;
    }
    if (bufferevent_socket_connect(bev, reinterpret_cast<sockaddr*>(&addresses_[index]),
                                   lengths_[index]) == 0) {
      return true;
    }
    last_error_ = errno;
    last_syscall_ = "connect";
    // libevent closes a socket it made when the connect cannot start, but leaves ours set.
    int bound_fd = bufferevent_getfd(bev);
    if (local_.set() && bound_fd >= 0) {
      bufferevent_setfd(bev, -1);
      close(bound_fd);
    }
  }
  return false;
}

bool HostnameConnector::BindForAttempt() {
  int err = 0;
  const char* syscall = "bind";
  int fd = OpenBoundSocket(local_, &err, &syscall);
  if (fd < 0) {
    last_error_ = err;
    last_syscall_ = syscall;
    return false;
  }
  bufferevent_setfd(wrap_->bev(), fd);
  return true;
}

bool HostnameConnector::TryNextAfterFailure(int err) {
  last_error_ = err;
  last_syscall_ = "connect";
  if (next_ >= addresses_.size()) return false;
  return ConnectToNext();
}

}  // namespace node_bufferevent
