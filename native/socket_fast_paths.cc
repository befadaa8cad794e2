// The opt-in socket fast paths (DESIGN §4): reading more than libevent's 4096 bytes per wakeup, and
// writing straight to the socket when nothing is queued. Both use only public libevent API and keep
// libevent's semantics: watermarks, rate limits, callbacks and event flags look as if libevent had
// done the I/O itself.
#include <event2/buffer.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

#include "buffer_event.h"
#include "evbuffer.h"
#include "event_loop.h"
#include "filters/native_filter.h"

namespace node_bufferevent {

namespace {

// libevent has just read up to this much itself before calling the read callback.
constexpr size_t kLibeventReadChunk = 4096;
constexpr int kReserveVectors = 2;

bool WouldBlock(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

}  // namespace

short BuffereventWrap::ReadAhead(int* err) {
  evbuffer* input = bufferevent_get_input(bev_);
  int fd = bufferevent_getfd(bev_);
  if (fd < 0 || !(bufferevent_get_enabled(bev_) & EV_READ)) return 0;
  size_t budget =
      max_read_per_wakeup_ > kLibeventReadChunk ? max_read_per_wakeup_ - kLibeventReadChunk : 0;
  size_t high = 0;
  bufferevent_getwatermark(bev_, EV_READ, nullptr, &high);
  // Without a rate limit this is max_single_read, which CreateSocket raised to our budget.
  ev_ssize_t rate_allowance = bufferevent_get_max_to_read(bev_);
  if (rate_allowance >= 0 && static_cast<size_t>(rate_allowance) < budget)
    budget = static_cast<size_t>(rate_allowance);
  short ending = 0;
  // The input of a socket bufferevent is frozen at its end so that only libevent appends to it.
  evbuffer_unfreeze(input, 0);
  while (budget > 0) {
    size_t length = evbuffer_get_length(input);
    size_t want = budget;
    if (high > 0) {
      if (length >= high) break;  // reading is suspended at the high watermark, as libevent does
      if (high - length < want) want = high - length;
    }
    evbuffer_iovec vectors[kReserveVectors];
    int count =
        evbuffer_reserve_space(input, static_cast<ev_ssize_t>(want), vectors, kReserveVectors);
    if (count <= 0) break;
    iovec io[kReserveVectors];
    size_t offered = 0;
    for (int i = 0; i < count; i++) {
      io[i].iov_base = vectors[i].iov_base;
      io[i].iov_len = vectors[i].iov_len;
      if (offered + io[i].iov_len > want) io[i].iov_len = want - offered;
      offered += io[i].iov_len;
    }
    ssize_t got = readv(fd, io, count);
    if (got <= 0) {
      evbuffer_commit_space(input, vectors, 0);
      if (got == 0) {
        ending = BEV_EVENT_EOF;
      } else if (!WouldBlock(errno)) {
        *err = errno;
        ending = BEV_EVENT_ERROR;
      }
      break;
    }
    size_t remaining = static_cast<size_t>(got);
    for (int i = 0; i < count; i++) {
      vectors[i].iov_len = remaining < io[i].iov_len ? remaining : io[i].iov_len;
      remaining -= vectors[i].iov_len;
    }
    evbuffer_commit_space(input, vectors, count);
    ChargeRead(static_cast<size_t>(got));
    budget -= static_cast<size_t>(got);
    if (static_cast<size_t>(got) < offered) break;  // the socket is drained for now
  }
  evbuffer_freeze(input, 0);
  return ending;
}

bool BuffereventWrap::WriteThroughPossible() const {
  return kind_ == BuffereventKind::kSocket && !connecting_ && bufferevent_getfd(bev_) >= 0 &&
         evbuffer_get_length(bufferevent_get_output(bev_)) == 0 &&
         (bufferevent_get_enabled(bev_) & EV_WRITE);
}

bool BuffereventWrap::TryWriteThroughBuffer(evbuffer* source) {
  if (!WriteThroughPossible() || evbuffer_get_length(source) == 0) return false;
  ev_ssize_t allowance = bufferevent_get_max_to_write(bev_);
  int sent = evbuffer_write_atmost(source, bufferevent_getfd(bev_), allowance);
  if (sent <= 0) return false;  // would block, or an error libevent's own write will report
  ChargeWrite(static_cast<size_t>(sent));
  // As in TryWriteThrough: when everything went, re-arm libevent's write event for the callback;
  // otherwise the caller queues the rest and libevent writes it and calls back itself.
  if (evbuffer_get_length(source) == 0) bufferevent_enable(bev_, EV_WRITE);
  loop()->MarkDirty();
  return true;
}

bool BuffereventWrap::TryWriteThrough(Napi::Env env, Napi::Buffer<uint8_t> data) {
  evbuffer* output = bufferevent_get_output(bev_);
  int fd = bufferevent_getfd(bev_);
  if (!WriteThroughPossible()) return false;
  if (data.Length() == 0) return true;
  ev_ssize_t rate_allowance = bufferevent_get_max_to_write(bev_);
  size_t want = data.Length();
  if (rate_allowance >= 0 && static_cast<size_t>(rate_allowance) < want)
    want = static_cast<size_t>(rate_allowance);
  ssize_t sent = want == 0 ? -1 : send(fd, data.Data(), want, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent < 0) {
    // Would block, or an error: queue everything and let libevent's own write find and report it.
    return false;
  }
  ChargeWrite(static_cast<size_t>(sent));
  if (static_cast<size_t>(sent) < data.Length()) {
    EvBufferWrap::AddJsBufferRange(env, output, data, static_cast<size_t>(sent));
  } else {
    // Nothing passed through the output. Re-adding libevent's write event makes its own write
    // callback run when the socket is writable, finding the output empty: exactly one write
    // callback, deferred or not per the bufferevent's options, as if the bytes had gone through the
    // output.
    bufferevent_enable(bev_, EV_WRITE);
  }
  loop()->MarkDirty();
  return true;
}

}  // namespace node_bufferevent
