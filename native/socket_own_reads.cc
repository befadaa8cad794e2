// Larger reads for socket bufferevents (maxReadPerWakeup). libevent's own read does an ioctl and
// reads at most 4096 bytes per wakeup; here the binding watches the fd itself and reads up to
// maxReadPerWakeup bytes straight into the input (unfreeze its end, reserve, recvmsg, commit,
// freeze), while libevent's EV_READ stays off. The event that watches the fd is the bufferevent's
// own ev_read, given our callback: libevent never adds it while its EV_READ is off, and a second
// event would cost every connection 144 bytes. Under a rate limit it is an event of our own
// instead, since libevent's suspensions (a group's empty bucket, say) delete ev_read behind our
// back and never add it again while its EV_READ is off; so it is below a filter, whose creation
// turns libevent's EV_READ on (libevent then reads with ev_read too, as it always did there).
// Everything else is libevent's: the read
// callback runs through bufferevent_trigger (so the low watermark and deferral hold), EOF, errors
// and timeouts arrive through bufferevent_trigger_event with libevent's flags, reading stops at the
// high watermark and resumes when the input drains, and the rate-limit buckets are charged.
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <atomic>
#include <cerrno>

#include "buffer_event.h"
#include "event_loop.h"
#include "filters/native_filter.h"
#include "rate_limit.h"
#include "util/milliseconds.h"

namespace node_bufferevent {

namespace {

constexpr int kReserveVectors = 2;
// One reservation stays below 32 KiB: libevent rounds a new chain up to a power of two with its
// header, and 64 KiB requests would become 128 KiB chains, which malloc maps and unmaps each time.
constexpr size_t kReserveChunk = 32 * 1024 - 256;
constexpr double kDefaultRetryMs = 10;

bool WouldBlock(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

// libevent's read callback for socket bufferevents (static in bufferevent_sock.c), taken from the
// first ev_read we take over, to give back what we took. Atomic: every worker's loop may be the
// first (they all store the same function).
std::atomic<event_callback_fn> libevent_read_callback{nullptr};

// Puts libevent's callback back on a taken-over ev_read, added if libevent had added it.
void GiveBackLibeventRead(bufferevent* bev) {
  event* read = &bev->ev_read;
  event_callback_fn libevent_callback = libevent_read_callback.load(std::memory_order_relaxed);
  if (libevent_callback == nullptr || event_get_callback(read) == libevent_callback) return;
  bool added = event_pending(read, EV_READ, nullptr) != 0;
  event_del(read);
  event_assign(read, event_get_base(read), event_get_fd(read), EV_READ | EV_PERSIST | EV_FINALIZE,
               libevent_callback, bev);
  event_priority_set(read, bufferevent_get_priority(bev));
  if (added) event_add(read, evutil_timerisset(&bev->timeout_read) ? &bev->timeout_read : nullptr);
}

}  // namespace

void BuffereventWrap::SetUpOwnReads() {
  socket_.own_reads_on = true;
  // No callback on the input: its length matters only against a read high watermark, whose own
  // input callback (read_high_watermark.cc) re-syncs the read event. One here would run on every
  // drain, once per frame a WebSocket parses, and cost each connection an evbuffer_cb_entry.
  // The retry timer is made when a rate limit first makes a read wait (OnOwnReadable): most
  // sockets never have one, and an idle connection should not carry it.
}

bool BuffereventWrap::LibeventReadTakenOver() const {
  return bev_ != nullptr && event_get_callback(&bev_->ev_read) == OnOwnReadable;
}

event* BuffereventWrap::OwnReadEvent() const {
  return LibeventReadTakenOver() ? &bev_->ev_read : own_read_event();
}

void BuffereventWrap::ReleaseOwnReads() {
  // Nothing may call this wrapper through libevent's event again.
  if (LibeventReadTakenOver()) GiveBackLibeventRead(bev_);
  if (SocketRareState* rare = socket_rare()) {
    if (rare->own_read_event != nullptr) event_free(rare->own_read_event);
    rare->own_read_event = nullptr;
    if (rare->read_retry_timer != nullptr) event_free(rare->read_retry_timer);
    rare->read_retry_timer = nullptr;
  }
  socket_.own_read_enabled = false;
}

// Adds or removes our read event to match the user's wish, the socket, the high watermark and a
// pending rate-limit wait. Cheap when nothing changes; called whenever any of those may have.
void BuffereventWrap::SyncOwnRead(bool rearm_timeout) {
  if (!OwnReadsOn() || bev_ == nullptr) return;
  if (!OwnReadEventReady()) return;
  bool want = socket_.own_read_enabled && !socket_.connecting &&
              (read_retry_timer() == nullptr || !evtimer_pending(read_retry_timer(), nullptr));
  if (want) {
    size_t high = 0;
    bufferevent_getwatermark(bev_, EV_READ, nullptr, &high);
    if (high > 0 && evbuffer_get_length(bufferevent_get_input(bev_)) >= high) want = false;
  }
  event* read = OwnReadEvent();
  bool pending = event_pending(read, EV_READ, nullptr);
  if (want && (!pending || rearm_timeout)) {
    event_add(read, evutil_timerisset(&bev_->timeout_read) ? &bev_->timeout_read : nullptr);
    loop()->MarkDirty();
  } else if (!want && pending) {
    event_del(read);
  }
}

// Makes OwnReadEvent() watch the socket's current fd: ev_read taken over, or our own event under a
// rate limit or while libevent reads too (see the top of this file). False while there is no fd.
bool BuffereventWrap::OwnReadEventReady() {
  event* libevent_read = &bev_->ev_read;
  int fd = bufferevent_getfd(bev_);
  const RateLimitState* limits = rate_limit();
  bool rate_limited = limits != nullptr && (limits->config != nullptr || limits->group != nullptr);
  // A filter's creation turns libevent's EV_READ on for the socket below it: libevent reads then
  // too, with its own callback, as it always did.
  bool libevent_reads = (bufferevent_get_enabled(bev_) & EV_READ) != 0;
  event* own_event = own_read_event();
  if (!rate_limited && !libevent_reads) {
    if (own_event != nullptr) {
      event_free(own_event);
      socket_rare()->own_read_event = nullptr;
    }
    // libevent assigns ev_read again with its own callback when the fd changes (a connect).
    if (LibeventReadTakenOver()) return true;
    if (fd < 0) return false;
    if (libevent_read_callback.load(std::memory_order_relaxed) == nullptr)
      libevent_read_callback.store(event_get_callback(libevent_read), std::memory_order_relaxed);
    event_del(libevent_read);  // not added: libevent's EV_READ is off
    event_assign(libevent_read, loop()->base(), fd, EV_READ | EV_PERSIST | EV_FINALIZE,
                 OnOwnReadable, this);
    event_priority_set(libevent_read, bufferevent_get_priority(bev_));
    return true;
  }
  if (LibeventReadTakenOver()) GiveBackLibeventRead(bev_);
  if (own_event == nullptr || event_get_fd(own_event) != fd) {
    if (own_event != nullptr) event_free(own_event);
    own_event = nullptr;
    if (fd >= 0) {
      own_event = event_new(loop()->base(), fd, EV_READ | EV_PERSIST, OnOwnReadable, this);
      if (own_event != nullptr) event_priority_set(own_event, bufferevent_get_priority(bev_));
    }
    if (own_event != nullptr || socket_rare() != nullptr) SocketRare().own_read_event = own_event;
  }
  return own_event != nullptr;
}

short BuffereventWrap::ReadOwn(int fd, int* err, size_t* got_total) {
  evbuffer* input = bufferevent_get_input(bev_);
  size_t budget = socket_.max_read_per_wakeup;
  ev_ssize_t allowance = bufferevent_get_max_to_read(bev_);  // the rate limit, or max_single_read
  if (allowance >= 0 && static_cast<size_t>(allowance) < budget)
    budget = static_cast<size_t>(allowance);
  size_t high = 0;
  bufferevent_getwatermark(bev_, EV_READ, nullptr, &high);
  short ending = 0;
  evbuffer_unfreeze(input, 0);
  while (budget > 0) {
    size_t length = evbuffer_get_length(input);
    size_t want = budget < kReserveChunk ? budget : kReserveChunk;
    if (high > 0) {
      if (length >= high) break;
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
    ssize_t got = ReceiveInto(fd, io, count);
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
    *got_total += static_cast<size_t>(got);
    budget -= static_cast<size_t>(got);
    if (static_cast<size_t>(got) < offered) break;  // the socket is drained for now
  }
  evbuffer_freeze(input, 0);
  if (*got_total > 0) ChargeRead(*got_total);
  return ending;
}

void BuffereventWrap::OnOwnReadable(evutil_socket_t fd, short what, void* self) {
  auto* wrap = static_cast<BuffereventWrap*>(self);
  if (wrap->bev_ == nullptr) return;
  if (!wrap->socket_.own_read_enabled) {
    // Only we add our event, and only while reading is enabled: this is a taken-over ev_read that
    // libevent added on its own (its EV_READ turned on since the last sync). Reading stays off.
    event_del(wrap->OwnReadEvent());
    return;
  }
  if (what & EV_TIMEOUT) {
    // libevent's read timeout: reading stops until enable(EV_READ), the event callback is told.
    wrap->socket_.own_read_enabled = false;
    wrap->SyncOwnRead();
    EVUTIL_SET_SOCKET_ERROR(0);
    bufferevent_trigger_event(wrap->bev_, BEV_EVENT_TIMEOUT | BEV_EVENT_READING, 0);
    return;
  }
  if (bufferevent_get_max_to_read(wrap->bev_) <= 0) {
    // The rate-limit bucket is empty: wait a tick, as libevent suspends reading until its refill.
    SocketRareState& rare = wrap->SocketRare();
    if (rare.read_retry_timer == nullptr) {
      rare.read_retry_timer = evtimer_new(wrap->loop()->base(), OnReadRetry, wrap);
      // No timer: the read event stays armed, and the bucket is checked on its next call.
      if (rare.read_retry_timer == nullptr) return;
    }
    event_del(wrap->OwnReadEvent());
    const RateLimitState* limits = wrap->rate_limit();
    timeval delay = MillisecondsToTimeval(
        limits != nullptr && limits->tick_ms > 0 ? limits->tick_ms : kDefaultRetryMs);
    evtimer_add(rare.read_retry_timer, &delay);
    return;
  }
  int err = 0;
  size_t got = 0;
  short ending = wrap->ReadOwn(fd, &err, &got);
  // Through libevent, so its low watermark and deferral apply and a filter on top gets the data.
  if (got > 0) bufferevent_trigger(wrap->bev_, EV_READ, 0);
  if (ending != 0 && wrap->bev_ != nullptr) {
    wrap->socket_.own_read_enabled = false;
    wrap->SyncOwnRead();
    EVUTIL_SET_SOCKET_ERROR(err);
    bufferevent_trigger_event(wrap->bev_, static_cast<short>(ending | BEV_EVENT_READING), 0);
  }
}

void BuffereventWrap::OnReadRetry(evutil_socket_t, short, void* self) {
  static_cast<BuffereventWrap*>(self)->SyncOwnRead();
}

ssize_t BuffereventWrap::ReceiveInto(int fd, iovec* parts, int count) {
  if (!socket_.not_a_socket) {
    ssize_t got;
    if (count == 1) {
      // recv, not recvmsg, for one buffer (the usual read): no message header to copy in.
      got = recv(fd, parts[0].iov_base, parts[0].iov_len, MSG_DONTWAIT);
    } else {
      msghdr message{};
      message.msg_iov = parts;
      message.msg_iovlen = static_cast<size_t>(count);
      got = recvmsg(fd, &message, MSG_DONTWAIT);
    }
    if (got >= 0 || errno != ENOTSOCK) return got;
    socket_.not_a_socket = true;
  }
  return readv(fd, parts, count);
}

}  // namespace node_bufferevent
