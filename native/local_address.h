// The client's local address (Node's localAddress/localPort): a socket bound to it before it
// connects. libevent's bufferevent_socket_connect makes its own socket only when the bufferevent
// has none, and never binds it; so for a bound connect the binding makes the socket, binds it and
// hands it to the bufferevent (bufferevent_setfd), and libevent then connects the fd it finds.
#pragma once

#include <event2/util.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

namespace node_bufferevent {

struct LocalAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;  // 0: no local address was asked for
  std::string text;      // as given, for messages

  bool set() const { return length != 0; }
  int family() const { return storage.ss_family; }
  const char* family_name() const { return family() == AF_INET6 ? "IPv6" : "IPv4"; }
};

// Fills `local` from a numeric IPv4 or IPv6 address and a port (0: any); false when `address` is
// neither.
inline bool ParseLocalAddress(const std::string& address, int port, LocalAddress* local) {
  local->text = address;
  auto* sin = reinterpret_cast<sockaddr_in*>(&local->storage);
  if (evutil_inet_pton(AF_INET, address.c_str(), &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    local->length = sizeof(sockaddr_in);
    return true;
  }
  local->storage = {};
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&local->storage);
  if (evutil_inet_pton(AF_INET6, address.c_str(), &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    local->length = sizeof(sockaddr_in6);
    return true;
  }
  local->storage = {};
  local->length = 0;
  return false;
}

// A new non-blocking, close-on-exec stream socket of the local address's family, bound to it; or
// -1 with *err the errno and *syscall the call that failed (a socket made before the failure is
// closed: nothing leaks).
inline int OpenBoundSocket(const LocalAddress& local, int* err, const char** syscall) {
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
  // Both flags at creation: no window in which a concurrent fork/exec inherits the socket.
  int fd = socket(local.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
  int fd = socket(local.family(), SOCK_STREAM, 0);
  if (fd >= 0 &&
      (evutil_make_socket_nonblocking(fd) != 0 || evutil_make_socket_closeonexec(fd) != 0)) {
    *err = errno;
    *syscall = "fcntl";
    close(fd);
    return -1;
  }
#endif
  if (fd < 0) {
    *err = errno;
    *syscall = "socket";
    return -1;
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&local.storage), local.length) != 0) {
    *err = errno;
    *syscall = "bind";
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace node_bufferevent
