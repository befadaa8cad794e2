// Write-through, the opt-in socket fast path for writing (docs/api.md, fast paths): when nothing is
// queued, write() sends at once and queues only what the kernel did not take; write callbacks and
// the write low watermark behave as if the bytes had passed through the output. (Larger reads:
// socket_own_reads.cc.)
#include <event2/buffer.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

#include "buffer_event.h"
#include "evbuffer.h"
#include "event_loop.h"
#include "filters/native_filter.h"

namespace node_bufferevent {

namespace {

// One send for the parts of a write, never SIGPIPE, never blocking. send, not sendmsg, when there
// is one part (a reply that fit one chain, the usual case): no message header to copy into the
// kernel (measured: 2 to 9% more messages a second on a 1-in-flight small-message echo).
ssize_t SendParts(int fd, const iovec* parts, size_t count) {
  if (count == 1) return send(fd, parts[0].iov_base, parts[0].iov_len, MSG_NOSIGNAL | MSG_DONTWAIT);
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(parts);
  message.msg_iovlen = count;
  return sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace

// Re-adding libevent's write event makes its own write callback run when the socket is writable,
// finding the output empty: exactly one write callback, deferred or not per the bufferevent's
// options, as if the bytes had gone through the output. Without a write callback (or when the
// delegate has no use for this one) it would only cost two epoll_ctl calls and a wakeup, so it is
// skipped.
void BuffereventWrap::RequestWriteCallback() {
  if (!(callback_mask_ & 2)) return;
  if (delegate_ != nullptr && !delegate_->WantsWriteCallback()) return;
  bufferevent_enable(bev_, EV_WRITE);
}

bool BuffereventWrap::WriteThroughPossible() const {
  return kind_ == BuffereventKind::kSocket && !socket_.connecting && bufferevent_getfd(bev_) >= 0 &&
         evbuffer_get_length(bufferevent_get_output(bev_)) == 0 &&
         (bufferevent_get_enabled(bev_) & EV_WRITE);
}

bool BuffereventWrap::TryWriteThroughBuffer(evbuffer* source) {
  if (!WriteThroughPossible() || evbuffer_get_length(source) == 0) return false;
  ev_ssize_t allowance = bufferevent_get_max_to_write(bev_);
  size_t most = allowance < 0 ? evbuffer_get_length(source) : static_cast<size_t>(allowance);
  ssize_t sent = SendChains(bufferevent_getfd(bev_), source, most);
  loop()->CountWriteThrough();
  if (sent <= 0) return false;  // would block, or an error libevent's own write will report
  ChargeWrite(static_cast<size_t>(sent));
  // As in TryWriteThrough: when everything went, re-arm libevent's write event for the callback;
  // otherwise the caller queues the rest and libevent writes it and calls back itself.
  if (evbuffer_get_length(source) == 0) RequestWriteCallback();
  loop()->MarkDirty();
  return true;
}

bool BuffereventWrap::TryWriteThrough(Napi::Env env, Napi::Buffer<uint8_t> data) {
  evbuffer* output = bufferevent_get_output(bev_);
  int fd = bufferevent_getfd(bev_);
  // Not a socket: send() cannot write it; libevent's own write can (and TryWriteThroughBuffer).
  if (!WriteThroughPossible() || socket_.not_a_socket) return false;
  if (data.Length() == 0) return true;
  ev_ssize_t rate_allowance = bufferevent_get_max_to_write(bev_);
  size_t want = data.Length();
  if (rate_allowance >= 0 && static_cast<size_t>(rate_allowance) < want)
    want = static_cast<size_t>(rate_allowance);
  if (want == 0) return false;
  ssize_t sent = send(fd, data.Data(), want, MSG_NOSIGNAL | MSG_DONTWAIT);
  loop()->CountWriteThrough();
  if (sent < 0) {
    if (errno == ENOTSOCK) socket_.not_a_socket = true;
    // Would block, or an error: queue everything and let libevent's own write find and report it.
    return false;
  }
  ChargeWrite(static_cast<size_t>(sent));
  if (static_cast<size_t>(sent) < data.Length()) {
    EvBufferWrap::AddJsBufferRange(env, output, data, static_cast<size_t>(sent));
  } else {
    // Nothing passed through the output: ask for the write callback libevent would have made.
    RequestWriteCallback();
  }
  loop()->MarkDirty();
  return true;
}

size_t BuffereventWrap::WriteThroughParts(const iovec* parts, size_t count) {
  if (!WriteThroughOn() || !WriteThroughPossible() || socket_.not_a_socket) return 0;
  size_t total = 0;
  for (size_t i = 0; i < count; i++) total += parts[i].iov_len;
  ev_ssize_t allowance = bufferevent_get_max_to_write(bev_);
  if (allowance >= 0 && static_cast<size_t>(allowance) < total) return 0;
  ssize_t result = SendParts(bufferevent_getfd(bev_), parts, count);
  loop()->CountWriteThrough();
  if (result < 0 && errno == ENOTSOCK) socket_.not_a_socket = true;
  // Would block, or an error: libevent's own write finds and reports it once the bytes are queued.
  if (result <= 0) return 0;
  auto sent = static_cast<size_t>(result);
  ChargeWrite(sent);
  if (sent == total) RequestWriteCallback();
  loop()->MarkDirty();
  return sent;
}

ssize_t BuffereventWrap::SendChains(int fd, evbuffer* source, size_t most) {
  if (socket_.not_a_socket) return evbuffer_write_atmost(source, fd, static_cast<ev_ssize_t>(most));
  // A batch of replies is one or two chains; a payload kept by reference is a chain of its own.
  constexpr int kMaxParts = 64;
  evbuffer_iovec chains[kMaxParts];
  int count = evbuffer_peek(source, static_cast<ev_ssize_t>(most), nullptr, chains, kMaxParts);
  if (count <= 0) return 0;
  if (count > kMaxParts) count = kMaxParts;
  iovec parts[kMaxParts];
  size_t offered = 0;
  for (int i = 0; i < count; i++) {
    parts[i].iov_base = chains[i].iov_base;
    parts[i].iov_len = std::min(chains[i].iov_len, most - offered);
    offered += parts[i].iov_len;
  }
  ssize_t sent = SendParts(fd, parts, static_cast<size_t>(count));
  if (sent < 0 && errno == ENOTSOCK) {
    socket_.not_a_socket = true;
    return evbuffer_write_atmost(source, fd, static_cast<ev_ssize_t>(most));
  }
  if (sent > 0) evbuffer_drain(source, static_cast<size_t>(sent));
  return sent;
}

bool BuffereventWrap::FlushHeld(evbuffer* held) {
  if (evbuffer_get_length(held) == 0) return true;
  if (WriteThroughOn()) TryWriteThroughBuffer(held);
  if (evbuffer_get_length(held) == 0) return true;
  // Moving the chains (no copy) arms libevent's write event through the output's callback.
  int status = evbuffer_add_buffer(bufferevent_get_output(bev_), held);
  loop()->MarkDirty();
  return status == 0;
}

}  // namespace node_bufferevent
