// The socket kind: bufferevent_socket_new on an existing fd or a new one, numeric connect and
// hostname connect (through hostname_connector.cc, which tries every resolved address).
#include <event2/util.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "buffer_event.h"
#include "event_loop.h"
#include "filters/native_filter.h"
#include "hostname_connector.h"
#include "local_address.h"
#include "util/errors.h"
#include "util/napi_checked.h"
#include "util/watchable_fd.h"

namespace node_bufferevent {

namespace {
constexpr size_t kWriteThroughMaxSingleWrite = 4 * 1024 * 1024;
}  // namespace

// options: { fd: number (-1 for none), closeOnFree: boolean, deferCallbacks: boolean }
bufferevent* BuffereventWrap::CreateSocket(Napi::Env env, Napi::Object options) {
  int fd = GetInt32(options, "fd", -1);
  if (fd >= 0) {
    if (int err = UnwatchableFdError(fd); err != 0) {
      ThrowSystemError(env, "ERR_INVALID_FD", err, "fstat",
                       err == EPERM ? "fd " + std::to_string(fd) +
                                          " is a regular file or directory, which libevent cannot "
                                          "watch; pass a socket or pipe"
                                    : "fd " + std::to_string(fd) + " is not open");
      return nullptr;
    }
    // libevent requires non-blocking fds; an fd handed over from elsewhere may not be.
    evutil_make_socket_nonblocking(fd);
  }
  int flags = 0;
  if (GetFlag(options, "closeOnFree")) flags |= BEV_OPT_CLOSE_ON_FREE;
  if (GetFlag(options, "deferCallbacks")) flags |= BEV_OPT_DEFER_CALLBACKS;
  // src/bufferevent.ts refuses what is out of range; a caller of the native class directly gets it
  // clamped (NaN reads 0).
  double max_read = GetNumber(options, "maxReadPerWakeup", 0);
  socket_.max_read_per_wakeup =
      max_read >= 1
          ? static_cast<uint32_t>(std::min<double>(max_read, SocketState::kMaxReadPerWakeup))
          : 0;
  socket_.write_through = GetFlag(options, "writeThrough");
  bufferevent* bev = bufferevent_socket_new(loop()->base(), fd, flags);
  // libevent caps each read at max_single_read (16 KiB by default) when computing rate limits;
  // raise it so bufferevent_get_max_to_read reports the larger budget.
  if (bev != nullptr && socket_.max_read_per_wakeup > 0)
    bufferevent_set_max_single_read(bev, socket_.max_read_per_wakeup);
  // Without a rate limit, bufferevent_get_max_to_write is max_single_write (16 KiB by default),
  // which would cut every write-through to 16 KiB; a rate limit still caps it.
  if (bev != nullptr && socket_.write_through)
    bufferevent_set_max_single_write(bev, kWriteThroughMaxSingleWrite);
  return bev;
}

// Everything a socket holds besides the bufferevent itself, released before the bufferevent is
// freed (ReleaseNative).
void BuffereventWrap::ReleaseSocket() {
  if (socket_rare() != nullptr) socket_rare()->hostname_connector.reset();
  ReleaseRateLimit();
  ReleaseOwnReads();
  SocketRareState* rare = socket_rare();
  if (rare == nullptr) return;
  if (rare->shutdown_watch != nullptr && bev_ != nullptr)
    evbuffer_remove_cb_entry(bufferevent_get_output(bev_), rare->shutdown_watch);
  rare->shutdown_watch = nullptr;
  if (rare->shutdown_wait != nullptr) event_free(rare->shutdown_wait);
  rare->shutdown_wait = nullptr;
}

bool BuffereventWrap::CheckSocket(Napi::Env env) {
  if (kind_ == BuffereventKind::kSocket) return true;
  ThrowError(env, "ERR_NOT_SOCKET",
             "only socket bufferevents connect or shut down sockets; this one is a " +
                 std::string(kind_ == BuffereventKind::kPair ? "pair" : "filter"));
  return false;
}

// connect(family, address, port, localAddress?, localPort?): family 4 or 6 with a numeric address
// (and optionally a numeric local address of the same family to bind to first), or 0 with a Unix
// socket path.
Napi::Value BuffereventWrap::Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  if (!CheckSocket(env)) return Napi::Value();
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
      return ThrowError(env, "ERR_INVALID_PATH",
                        "the Unix socket path is longer than the system allows");
    }
    sun->sun_family = AF_UNIX;
    std::memcpy(sun->sun_path, address.c_str(), address.size() + 1);
    length = sizeof(sockaddr_un);
  }
  LocalAddress local;
  if (info.Length() > 3 && info[3].IsString()) {
    int local_port = info[4].As<Napi::Number>().Int32Value();
    if (!ParseLocalAddress(info[3].As<Napi::String>().Utf8Value(), local_port, &local) ||
        local.family() != storage.ss_family) {
      return ThrowError(env, "ERR_INVALID_HOST",
                        "localAddress must be a numeric address of the family of " + address);
    }
  }
  if (socket_rare() != nullptr) socket_rare()->hostname_connector.reset();
  // With a local address: bind the bufferevent's socket, made here when it has none (libevent then
  // connects the fd it finds). A socket made here and not connecting is closed again.
  int made_fd = -1;
  if (local.set()) {
    int fd = bufferevent_getfd(bev_);
    if (fd < 0) {
      int err = 0;
      const char* syscall = "bind";
      fd = OpenBoundSocket(local, &err, &syscall);
      if (fd < 0) {
        return ThrowSystemError(env, "ERR_CONNECT", err, syscall,
                                "cannot bind to local address " + local.text);
      }
      made_fd = fd;
      bufferevent_setfd(bev_, fd);
    } else if (bind(fd, reinterpret_cast<const sockaddr*>(&local.storage), local.length) != 0) {
      return ThrowSystemError(env, "ERR_CONNECT", errno, "bind",
                              "cannot bind to local address " + local.text);
    }
  }
  socket_.connecting = true;
  if (bufferevent_socket_connect(bev_, reinterpret_cast<sockaddr*>(&storage),
                                 static_cast<int>(length)) != 0) {
    int err = errno;
    socket_.connecting = false;
    // libevent closes a socket it made itself when the connect cannot start; ours it leaves set.
    if (made_fd >= 0) {
      bufferevent_setfd(bev_, -1);
      close(made_fd);
    }
    return ThrowSystemError(env, "ERR_CONNECT", err, "connect",
                            "cannot start connecting to " + address);
  }
  loop()->MarkDirty();
  return env.Undefined();
}

// connectHostname(host, port, family, localAddress?, localPort?): family 0 (any), 4 or 6; each
// attempt binds a fresh socket to the numeric local address, if one is given.
Napi::Value BuffereventWrap::ConnectHostname(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  if (!CheckSocket(env)) return Napi::Value();
  evdns_base* dns = loop()->dns();
  if (dns == nullptr)
    return ThrowError(env, "ERR_DNS", "libevent could not create its DNS resolver");
  int family = info[2].As<Napi::Number>().Int32Value();
  LocalAddress local;
  if (info.Length() > 3 && info[3].IsString() &&
      !ParseLocalAddress(info[3].As<Napi::String>().Utf8Value(),
                         info[4].As<Napi::Number>().Int32Value(), &local)) {
    return ThrowError(env, "ERR_INVALID_HOST", "localAddress must be a numeric IP address");
  }
  HostnameConnector* connector =
      (SocketRare().hostname_connector =
           std::make_unique<HostnameConnector>(this, dns, std::move(local)))
          .get();
  socket_.connecting = true;
  connector->Start(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Number>().Int32Value(),
                   family == 4   ? AF_INET
                   : family == 6 ? AF_INET6
                                 : AF_UNSPEC);
  loop()->MarkDirty();
  return env.Undefined();
}

// Ends the write side. Socket: shutdown(SHUT_WR), the peer reads EOF (callers wait until the output
// is empty). Pair: flush with BEV_FINISHED, the partner reads EOF. Filter: flush with BEV_FINISHED
// (an output filter ends its stream), then shut the socket at the bottom of the chain down once its
// output has drained, since libevent's flush of a socket does nothing.
Napi::Value BuffereventWrap::ShutdownWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  if (kind_ != BuffereventKind::kSocket) {
    if (PartnerWasFreed()) {
      return ThrowError(env, "ERR_PARTNER_FREED",
                        "the other half of this pair was freed; there is nothing to end");
    }
    bufferevent_flush(bev_, EV_WRITE, BEV_FINISHED);
    BuffereventWrap* bottom = underlying();
    while (bottom != nullptr && bottom->kind_ == BuffereventKind::kFilter)
      bottom = bottom->underlying();
    if (bottom != nullptr && bottom->kind_ == BuffereventKind::kSocket)
      bottom->ShutdownWhenDrained();
    loop()->MarkDirty();
    return env.Undefined();
  }
  if (bufferevent_getfd(bev_) < 0)
    return ThrowError(env, "ERR_NOT_CONNECTED", "the bufferevent has no socket to shut down");
  ShutdownWhenDrained();
  return env.Undefined();
}

void BuffereventWrap::ShutdownWhenDrained(bool may_wait_for_connect) {
  if (bev_ == nullptr || kind_ != BuffereventKind::kSocket || shutdown_watch() != nullptr) return;
  int fd = bufferevent_getfd(bev_);
  if (fd >= 0 && StillConnecting(fd)) {
    // After one wait the socket is writable yet not connected: the connect failed, and libevent
    // reports that as an ERROR event; there is nothing to shut down.
    if (!may_wait_for_connect) return;
    // shutdown() on a socket still connecting aborts the connect: wait until it is writable
    // (connected). An event of our own, because under a filter this wrapper sees no events.
    SocketRareState& rare = SocketRare();
    if (rare.shutdown_wait == nullptr)
      rare.shutdown_wait = event_new(loop()->base(), fd, EV_WRITE, OnWritableForShutdown, this);
    event_add(rare.shutdown_wait, nullptr);
    loop()->MarkDirty();
    return;
  }
  evbuffer* output = bufferevent_get_output(bev_);
  if (evbuffer_get_length(output) == 0) {
    int fd = bufferevent_getfd(bev_);
    if (fd >= 0) shutdown(fd, SHUT_WR);
    return;
  }
  SocketRare().shutdown_watch = evbuffer_add_cb(output, OnOutputChangedForShutdown, this);
}

// connect() was called and no CONNECTED/ERROR has been seen, and the kernel agrees (no peer yet).
bool BuffereventWrap::StillConnecting(int fd) const {
  if (!socket_.connecting) return false;
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  return getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0 && errno == ENOTCONN;
}

void BuffereventWrap::OnWritableForShutdown(evutil_socket_t, short, void* self) {
  static_cast<BuffereventWrap*>(self)->ShutdownWhenDrained(/*may_wait_for_connect=*/false);
}

void BuffereventWrap::OnOutputChangedForShutdown(evbuffer* output, const evbuffer_cb_info*,
                                                 void* self) {
  auto* wrap = static_cast<BuffereventWrap*>(self);
  if (evbuffer_get_length(output) != 0) return;
  evbuffer_remove_cb_entry(output, wrap->socket_rare()->shutdown_watch);
  wrap->socket_rare()->shutdown_watch = nullptr;
  int fd = wrap->bev_ == nullptr ? -1 : bufferevent_getfd(wrap->bev_);
  if (fd >= 0) shutdown(fd, SHUT_WR);
}

}  // namespace node_bufferevent
