// The socket kind: bufferevent_socket_new on an existing fd or a new one, numeric connect and
// hostname connect (through dns.cc, which tries every resolved address).
#include <event2/util.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "buffer_event.h"
#include "filters/native_filter.h"
#include "dns.h"
#include "event_loop.h"
#include "util/errors.h"

namespace node_bufferevent {

// options: { fd: number (-1 for none), closeOnFree: boolean, deferCallbacks: boolean }
bufferevent* BuffereventWrap::CreateSocket(Napi::Env env, Napi::Object options) {
  int fd = options.Get("fd").As<Napi::Number>().Int32Value();
  if (fd >= 0) {
    if (fcntl(fd, F_GETFD) == -1) {
      ThrowSystemError(env, "ERR_INVALID_FD", errno, "fcntl", "fd " + std::to_string(fd) + " is not open");
      return nullptr;
    }
    // libevent requires non-blocking fds; an fd handed over from elsewhere may not be.
    evutil_make_socket_nonblocking(fd);
  }
  int flags = 0;
  if (options.Get("closeOnFree").ToBoolean().Value()) flags |= BEV_OPT_CLOSE_ON_FREE;
  if (options.Get("deferCallbacks").ToBoolean().Value()) flags |= BEV_OPT_DEFER_CALLBACKS;
  max_read_per_wakeup_ = static_cast<size_t>(options.Get("maxReadPerWakeup").As<Napi::Number>().DoubleValue());
  write_through_ = options.Get("writeThrough").ToBoolean().Value();
  bufferevent* bev = bufferevent_socket_new(loop()->base(), fd, flags);
  // libevent caps each read at max_single_read (16 KiB by default) when computing rate limits;
  // raise it so bufferevent_get_max_to_read reports the larger budget.
  if (bev != nullptr && max_read_per_wakeup_ > 0) bufferevent_set_max_single_read(bev, max_read_per_wakeup_);
  return bev;
}

// connect(family, address, port): family 4 or 6 with a numeric address, or 0 with a Unix socket path.
Napi::Value BuffereventWrap::Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  int family = info[0].As<Napi::Number>().Int32Value();
  std::string address = info[1].As<Napi::String>().Utf8Value();
  int port = info[2].As<Napi::Number>().Int32Value();
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (family == 4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    if (evutil_inet_pton(AF_INET, address.c_str(), &sin->sin_addr) != 1) {
      return ThrowError(env, "ERR_INVALID_HOST", "'" + address + "' is not an IPv4 address");
    }
    length = sizeof(sockaddr_in);
  } else if (family == 6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    if (evutil_inet_pton(AF_INET6, address.c_str(), &sin6->sin6_addr) != 1) {
      return ThrowError(env, "ERR_INVALID_HOST", "'" + address + "' is not an IPv6 address");
    }
    length = sizeof(sockaddr_in6);
  } else {
    auto* sun = reinterpret_cast<sockaddr_un*>(&storage);
    if (address.size() >= sizeof(sun->sun_path)) {
      return ThrowError(env, "ERR_INVALID_PATH", "the Unix socket path is longer than the system allows");
    }
    sun->sun_family = AF_UNIX;
    std::memcpy(sun->sun_path, address.c_str(), address.size() + 1);
    length = sizeof(sockaddr_un);
  }
  hostname_connector_.reset();
  connecting_ = true;
  if (bufferevent_socket_connect(bev_, reinterpret_cast<sockaddr*>(&storage), static_cast<int>(length)) != 0) {
    connecting_ = false;
    return ThrowSystemError(env, "ERR_CONNECT", errno, "connect", "cannot start connecting to " + address);
  }
  loop()->MarkDirty();
  return env.Undefined();
}

// connectHostname(host, port, family): family 0 (any), 4 or 6.
Napi::Value BuffereventWrap::ConnectHostname(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  evdns_base* dns = loop()->dns();
  if (dns == nullptr) return ThrowError(env, "ERR_DNS", "libevent could not create its DNS resolver");
  int family = info[2].As<Napi::Number>().Int32Value();
  hostname_connector_ = std::make_unique<HostnameConnector>(this, dns);
  connecting_ = true;
  hostname_connector_->Start(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Number>().Int32Value(),
                             family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC);
  loop()->MarkDirty();
  return env.Undefined();
}

// Half-close: the peer reads EOF, and we can still read. Callers wait until the output is empty.
Napi::Value BuffereventWrap::ShutdownWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  int fd = bufferevent_getfd(bev_);
  if (fd < 0) return ThrowError(env, "ERR_NOT_CONNECTED", "the bufferevent has no socket to shut down");
  if (shutdown(fd, SHUT_WR) != 0 && errno != ENOTCONN) {
    return ThrowSystemError(env, "ERR_SHUTDOWN", errno, "shutdown", "cannot shut down the write side");
  }
  return env.Undefined();
}

}  // namespace node_bufferevent
