// Bufferevent: one JavaScript class for every kind of libevent bufferevent. The kinds differ only
// in how they are created (buffer_event_socket.cc, ...); everything else is libevent's common API.
#pragma once

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <napi.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>

#include "buffer_event_filter.h"
#include "buffer_event_pair.h"
#include "buffer_event_socket.h"
#include "native_class.h"
#include "native_object.h"
#include "read_high_watermark.h"

namespace node_bufferevent {

class EvBufferWrap;
class RateLimitGroupWrap;

enum class BuffereventKind : uint8_t { kSocket, kPair, kFilter };
enum class FilterSide { kInput = 0, kOutput = 1 };

// What a callback reports to src/bufferevent.ts's dispatcher.
enum class BuffereventCallback { kRead = 0, kWrite = 1, kEvent = 2 };

// A native layer that takes a bufferevent's callbacks over from JavaScript (the WebSocket
// connection): every callback goes to it instead of the JavaScript dispatcher.
class BuffereventDelegate {
 public:
  virtual void OnBuffereventCallback(BuffereventCallback which, short events, int err) = 0;
  // The bufferevent was released (freed, or its environment is going away).
  virtual void OnBuffereventReleased() = 0;
  // After a write that went all through write-through, libevent's write event is re-armed only to
  // make the write callback it would have made; a delegate that needs that callback only sometimes
  // says so here, and the two epoll_ctl calls and the wakeup are saved otherwise.
  virtual bool WantsWriteCallback() const { return true; }

 protected:
  ~BuffereventDelegate() = default;
};

class BuffereventWrap : public NativeClass<BuffereventWrap>, public NativeObject {
 public:
  static constexpr ObjectKind kObjectKind = ObjectKind::kBufferevent;
  static Napi::Function Init(Napi::Env env);
  explicit BuffereventWrap(const Napi::CallbackInfo& info);
  ~BuffereventWrap() override;

  bufferevent* bev() const { return bev_; }
  BuffereventKind kind() const { return kind_; }
  // Raises an ERROR event that carries a binding-made error (DNS failure, exhausted addresses).
  void RaiseError(short what, const char* code, const std::string& message, int err);
  // The wrapper behind a JavaScript value, checked by type tag; null (ERR_INVALID_ARG thrown) if
  // the value is not a native Bufferevent.
  static BuffereventWrap* FromJs(Napi::Value value, const char* parameter);

  // For a native layer on top (the WebSocket connection). With a delegate, the read and write
  // callbacks are always installed and nothing reaches JavaScript's dispatcher, for good: the
  // JavaScript owner is forgotten, and the delegate is removed only when the bufferevent is
  // released.
  void SetDelegate(BuffereventDelegate* delegate);
  // Write-through of one message in parts, for a native layer on top (the WebSocket connection's
  // frames): when write-through is on, the output is empty and the rate limit allows all of it,
  // one sendmsg. Returns the bytes the kernel took; 0 means nothing went and the caller queues
  // everything. When all of it went, the write callback is requested as if the bytes had passed
  // through the output.
  size_t WriteThroughParts(const iovec* parts, size_t count);
  // The end of a native layer's cork: `held` goes after whatever the output holds, through one
  // writev at once when write-through is on and the output is empty; what the kernel does not take
  // is moved to the output. False when libevent refused the bytes.
  bool FlushHeld(evbuffer* held);
  bool WriteThroughOn() const { return socket_.write_through; }
  // Shuts the socket's write side down once its output is empty (now, if it is).
  void ShutdownWhenDrained(bool may_wait_for_connect = true);
  // enable()/disable() for JavaScript and for native owners alike: the binding's own reads and the
  // pause at the read high watermark keep `enabled` as the user set it (a bare bufferevent_disable
  // would leave the binding's own read event armed). EnableEvents is false when libevent refused.
  bool EnableEvents(short events);
  void DisableEvents(short events);

 protected:
  void ReleaseNative() override;

 private:
  // Kind-independent views of kind state: false or null for the kinds that do not have it.
  bool OwnReadsOn() const { return socket_.own_reads_on; }
  bool PartnerWasFreed() const { return pair() != nullptr && pair()->partner_freed; }
  BuffereventWrap* underlying() const {
    return filter() != nullptr ? filter()->underlying : nullptr;
  }

  // Creation of each kind (one file each).
  bufferevent* CreateSocket(Napi::Env env, Napi::Object options);
  bufferevent* CreatePair(Napi::Env env, Napi::Object options);
  bufferevent* CreateFilter(Napi::Env env, Napi::Object options);

  // Sockets (buffer_event_socket.cc): the connect, hostname and shutdown state.
  void ReleaseSocket();
  static void OnWritableForShutdown(evutil_socket_t fd, short what, void* self);
  bool StillConnecting(int fd) const;
  static void OnOutputChangedForShutdown(evbuffer* output, const evbuffer_cb_info* info,
                                         void* self);
  // Pairs (buffer_event_pair.cc): libevent tells a partner nothing when its other half is freed.
  void UnlinkPartner();
  void PartnerFreed();
  // Filters (buffer_event_filter.cc).
  static bufferevent_filter_result InputFilter(evbuffer* src, evbuffer* dst, ev_ssize_t limit,
                                               bufferevent_flush_mode mode, void* self);
  static bufferevent_filter_result OutputFilter(evbuffer* src, evbuffer* dst, ev_ssize_t limit,
                                                bufferevent_flush_mode mode, void* self);
  bufferevent_filter_result RunFilter(FilterSide side, evbuffer* src, evbuffer* dst,
                                      ev_ssize_t limit, bufferevent_flush_mode mode);
  // The filter's handling of an event from the underlying bufferevent; true when it consumed it.
  bool FilterInterceptsEvent(short what);
  void ReleaseFilter();
  // The underlying bufferevent of a filter that owned it was freed by libevent with the filter.
  void DetachFreedByOwner();
  // Rate limits (rate_limit.cc).
  void ReleaseRateLimit();
  // Charges bytes the fast paths moved themselves to the bufferevent's and its group's buckets.
  void ChargeRead(size_t bytes);
  void ChargeWrite(size_t bytes);
  friend class RateLimitGroupWrap;

  // Larger reads (socket_own_reads.cc): with maxReadPerWakeup the binding reads the socket itself,
  // through the bufferevent's ev_read given our callback (or an event of its own under a rate
  // limit), and libevent's EV_READ stays off; `enabled` reports the user's view. libevent's own
  // read costs an ioctl and a 4096-byte readv per wakeup; ours is one readv.
  void SetUpOwnReads();
  void ReleaseOwnReads();
  void SyncOwnRead(bool rearm_timeout = false);
  bool OwnReadEventReady();
  // The bufferevent's ev_read has our callback (see socket_own_reads.cc).
  bool LibeventReadTakenOver() const;
  // The event own reads watch the fd with: ev_read taken over, else our own (or none yet).
  event* OwnReadEvent() const;
  short ReadOwn(int fd, int* err, size_t* got);
  static void OnOwnReadable(evutil_socket_t fd, short what, void* self);
  static void OnReadRetry(evutil_socket_t fd, short what, void* self);
  // The read high watermark (read_high_watermark.cc): libevent 2.1 calls a read callback that
  // leaves the input at or above the mark again at once, forever; the binding holds reading off
  // instead while the input is full, and `enabled` still reports EV_READ.
  void WatchReadHighWatermark(size_t high);
  void ReleaseReadHighWatermark();
  void SyncReadPause();
  bool HoldReadAtWatermark();
  bool ReadPausedAtWatermark() const {
    return high_watermark() != nullptr && high_watermark()->paused;
  }
  void AfterReadCallback();
  static void OnInputForHighWatermark(evbuffer* input, const evbuffer_cb_info* info, void* self);
  static void OnPauseSettled(evutil_socket_t fd, short what, void* self);
  // Sends directly when the output is empty; returns false when the data must be queued instead.
  bool TryWriteThrough(Napi::Env env, Napi::Buffer<uint8_t> data);
  // The same for the contents of an evbuffer (sent straight from its chains); the rest, if any, is
  // still in `source` for the caller to queue.
  bool TryWriteThroughBuffer(evbuffer* source);
  // The fast paths' system calls (socket_fast_paths.cc): send and receive with the socket calls,
  // which skip the file layer readv and writev go through; on a descriptor that is not a socket
  // (a pipe), readv and writev, as libevent's own reads and writes use.
  ssize_t SendChains(int fd, evbuffer* source, size_t most);
  ssize_t ReceiveInto(int fd, iovec* parts, int count);
  bool WriteThroughPossible() const;
  void RequestWriteCallback();

  bool CheckUsable(Napi::Env env);
  bool CheckSocket(Napi::Env env);
  void InstallCallbacks();
  void Deliver(BuffereventCallback which, short events, int err);
  static void OnRead(bufferevent* bev, void* self);
  static void OnWrite(bufferevent* bev, void* self);
  static void OnEvent(bufferevent* bev, short what, void* self);

  Napi::Value SetCallbackMask(const Napi::CallbackInfo& info);
  Napi::Value KeepAlive(const Napi::CallbackInfo& info);
  Napi::Value Enable(const Napi::CallbackInfo& info);
  Napi::Value Disable(const Napi::CallbackInfo& info);
  Napi::Value Enabled(const Napi::CallbackInfo& info);
  Napi::Value SetWatermark(const Napi::CallbackInfo& info);
  Napi::Value GetWatermark(const Napi::CallbackInfo& info);
  Napi::Value SetTimeouts(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value WriteBuffer(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value Input(const Napi::CallbackInfo& info);
  Napi::Value Output(const Napi::CallbackInfo& info);
  Napi::Value Flush(const Napi::CallbackInfo& info);
  Napi::Value GetPriority(const Napi::CallbackInfo& info);
  Napi::Value SetPriority(const Napi::CallbackInfo& info);
  Napi::Value Fd(const Napi::CallbackInfo& info);
  Napi::Value Trigger(const Napi::CallbackInfo& info);
  Napi::Value TriggerEvent(const Napi::CallbackInfo& info);
  Napi::Value Free(const Napi::CallbackInfo& info);
  // Socket kind (buffer_event_socket.cc).
  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value ConnectHostname(const Napi::CallbackInfo& info);
  Napi::Value ShutdownWrite(const Napi::CallbackInfo& info);
  // Filter kind.
  Napi::Value FilterBuffers(const Napi::CallbackInfo& info);
  // Rate limits (rate_limit.cc).
  Napi::Value SetRateLimit(const Napi::CallbackInfo& info);
  Napi::Value GetReadLimit(const Napi::CallbackInfo& info);
  Napi::Value GetWriteLimit(const Napi::CallbackInfo& info);
  Napi::Value DecrementReadLimit(const Napi::CallbackInfo& info);
  Napi::Value DecrementWriteLimit(const Napi::CallbackInfo& info);
  bool CheckRateLimitable(Napi::Env env);

  // State most wrappers never need, made on first use: every field here costs each idle
  // connection 8 bytes. A pair or a filter makes it at creation for its kind's state.
  struct RareState {
    EvBufferWrap* input_view = nullptr;
    EvBufferWrap* output_view = nullptr;
    BuffereventWrap* filtered_by = nullptr;  // the filter wrapping this one, if any (any kind)
    std::unique_ptr<ReadHighWatermarkState> high_watermark;  // any kind, from the first mark on
    // Set by RaiseError and attached to the next ERROR event delivered; only while one waits.
    struct PendingError {
      std::string code;
      std::string message;
    };
    std::unique_ptr<PendingError> pending_error;
    std::unique_ptr<PairState> pair;      // a pair's
    std::unique_ptr<FilterState> filter;  // a filter's
    SocketRareState socket;               // a socket's (buffer_event_socket.h)
  };
  RareState& Rare() {
    if (rare_ == nullptr) rare_ = std::make_unique<RareState>();
    return *rare_;
  }
  BuffereventWrap* filtered_by() const { return rare_ != nullptr ? rare_->filtered_by : nullptr; }
  ReadHighWatermarkState* high_watermark() const {
    return rare_ != nullptr ? rare_->high_watermark.get() : nullptr;
  }
  PairState* pair() const { return rare_ != nullptr ? rare_->pair.get() : nullptr; }
  // A socket's rare state: null until the wrapper has any rare state.
  SocketRareState* socket_rare() const { return rare_ != nullptr ? &rare_->socket : nullptr; }
  SocketRareState& SocketRare() { return Rare().socket; }
  // Null until the socket first has a rate limit or joins a group.
  RateLimitState* rate_limit() const {
    return rare_ != nullptr ? rare_->socket.rate_limit.get() : nullptr;
  }
  RateLimitState& Limits() {
    SocketRareState& state = SocketRare();
    if (state.rate_limit == nullptr) state.rate_limit = std::make_unique<RateLimitState>();
    return *state.rate_limit;
  }
  evbuffer_cb_entry* shutdown_watch() const {
    return rare_ != nullptr ? rare_->socket.shutdown_watch : nullptr;
  }
  event* read_retry_timer() const {
    return rare_ != nullptr ? rare_->socket.read_retry_timer : nullptr;
  }
  event* own_read_event() const {
    return rare_ != nullptr ? rare_->socket.own_read_event : nullptr;
  }
  FilterState* filter() const { return rare_ != nullptr ? rare_->filter.get() : nullptr; }

  // First, so that they fill the padding after NativeObject's own small fields: with the socket
  // state, eight bytes (every WebSocket connection holds a wrapper, 88 bytes in all).
  BuffereventKind kind_ = BuffereventKind::kSocket;
  uint8_t callback_mask_ = 0;  // bit i set: callback BuffereventCallback(i) has a JS function
  // The socket kind's state, by value: most wrappers are sockets (each WebSocket has one).
  SocketState socket_;
  bufferevent* bev_ = nullptr;
  BuffereventDelegate* delegate_ = nullptr;
  std::unique_ptr<RareState> rare_;
};

}  // namespace node_bufferevent
