// Whether libevent's epoll backend can watch an fd: epoll refuses regular files and directories
// (EPERM), and libevent would only log that from inside enable()/add(), leaving an object that
// never fires. Checked once when a bufferevent or fd event is created, so the caller gets the
// errno.
#pragma once

#include <sys/stat.h>

#include <cerrno>

namespace node_bufferevent {

// 0 when `fd` is open and of a kind epoll accepts (socket, pipe, FIFO, character device, eventfd,
// timerfd, inotify, ...); otherwise the errno a watch would fail with (EBADF or EPERM).
inline int UnwatchableFdError(int fd) {
  struct stat info;
  if (fstat(fd, &info) != 0) return errno;
  if (S_ISREG(info.st_mode) || S_ISDIR(info.st_mode)) return EPERM;
  return 0;
}

}  // namespace node_bufferevent
