// The kind-independent Bufferevent methods: callbacks, enable/disable, watermarks, timeouts, I/O,
// flush, priority, trigger and free. A freed wrapper is dead before libevent's deferred free runs,
// so no callback reaches JavaScript after free() returns.
#include "buffer_event.h"

#include <event2/buffer.h>

#include "addon.h"
#include "evbuffer.h"
#include "event_loop.h"
#include "filters/native_filter.h"
#include "hostname_connector.h"
#include "rate_limit.h"
#include "util/errors.h"
#include "util/js_callback.h"
#include "util/milliseconds.h"
#include "util/napi_checked.h"

namespace node_bufferevent {

Napi::Function BuffereventWrap::Init(Napi::Env env) {
  return DefineClass(
      env, "Bufferevent",
      {
          InstanceMethod<&BuffereventWrap::SetCallbackMask>("setCallbackMask"),
          InstanceMethod<&BuffereventWrap::KeepAlive>("keepAlive"),
          InstanceMethod<&BuffereventWrap::Enable>("enable"),
          InstanceMethod<&BuffereventWrap::Disable>("disable"),
          InstanceMethod<&BuffereventWrap::Enabled>("enabled"),
          InstanceMethod<&BuffereventWrap::SetWatermark>("setWatermark"),
          InstanceMethod<&BuffereventWrap::GetWatermark>("getWatermark"),
          InstanceMethod<&BuffereventWrap::SetTimeouts>("setTimeouts"),
          InstanceMethod<&BuffereventWrap::Write>("write"),
          InstanceMethod<&BuffereventWrap::WriteBuffer>("writeBuffer"),
          InstanceMethod<&BuffereventWrap::Read>("read"),
          InstanceMethod<&BuffereventWrap::Input>("input"),
          InstanceMethod<&BuffereventWrap::Output>("output"),
          InstanceMethod<&BuffereventWrap::Flush>("flush"),
          InstanceMethod<&BuffereventWrap::GetPriority>("getPriority"),
          InstanceMethod<&BuffereventWrap::SetPriority>("setPriority"),
          InstanceMethod<&BuffereventWrap::Fd>("fd"),
          InstanceMethod<&BuffereventWrap::Trigger>("trigger"),
          InstanceMethod<&BuffereventWrap::TriggerEvent>("triggerEvent"),
          InstanceMethod<&BuffereventWrap::Free>("free"),
          InstanceMethod<&BuffereventWrap::Connect>("connect"),
          InstanceMethod<&BuffereventWrap::ConnectHostname>("connectHostname"),
          InstanceMethod<&BuffereventWrap::ShutdownWrite>("shutdownWrite"),
          InstanceMethod<&BuffereventWrap::FilterBuffers>("filterBuffers"),
          InstanceMethod<&BuffereventWrap::SetRateLimit>("setRateLimit"),
          InstanceMethod<&BuffereventWrap::GetReadLimit>("getReadLimit"),
          InstanceMethod<&BuffereventWrap::GetWriteLimit>("getWriteLimit"),
          InstanceMethod<&BuffereventWrap::DecrementReadLimit>("decrementReadLimit"),
          InstanceMethod<&BuffereventWrap::DecrementWriteLimit>("decrementWriteLimit"),
      });
}

// new Bufferevent(owner, kind, options)
BuffereventWrap::BuffereventWrap(const Napi::CallbackInfo& info)
    : NativeObject(info, ObjectKind::kBufferevent) {
  if (loop() == nullptr) return;  // ERR_LOOP_INIT is pending
  Napi::Env env = info.Env();
  SetOwner(info[0].As<Napi::Object>(), env, "Bufferevent");
  std::string kind = info[1].As<Napi::String>().Utf8Value();
  Napi::Object options = info[2].As<Napi::Object>();
  if (kind == "socket") {
    bev_ = CreateSocket(env, options);
    if (bev_ != nullptr && socket_.max_read_per_wakeup > 0) SetUpOwnReads();
  } else if (kind == "pair") {
    Rare().pair = std::make_unique<PairState>();
    bev_ = CreatePair(env, options);
  } else if (kind == "filter") {
    Rare().filter = std::make_unique<FilterState>();
    bev_ = CreateFilter(env, options);
  }
  if (bev_ == nullptr) {
    Close();
    if (!env.IsExceptionPending())
      ThrowError(env, "ERR_CREATE", "libevent could not create the bufferevent");
    return;
  }
  InstallCallbacks();
  loop()->MarkDirty();
}

BuffereventWrap::~BuffereventWrap() { Close(); }

void BuffereventWrap::ReleaseNative() {
  // A filter owns its underlying bufferevent's fate: release the filter first.
  if (filtered_by() != nullptr) filtered_by()->Close();
  if (rare_ != nullptr && rare_->input_view != nullptr) rare_->input_view->Invalidate();
  if (rare_ != nullptr && rare_->output_view != nullptr) rare_->output_view->Invalidate();
  ReleaseReadHighWatermark();
  if (kind_ == BuffereventKind::kSocket) ReleaseSocket();
  // A filter that frees its underlying socket takes the socket's rate limit down with it first,
  // while the socket is still valid.
  if (filter() != nullptr && filter()->close_underlying_on_free &&
      filter()->underlying != nullptr) {
    filter()->underlying->ReleaseRateLimit();
  }
  if (bev_ != nullptr) {
    // libevent finishes the free in a later pass; clearing the callbacks first means nothing it
    // still has queued can reach us.
    bufferevent_setcb(bev_, nullptr, nullptr, nullptr, nullptr);
    bufferevent_free(bev_);
    bev_ = nullptr;
  }
  if (filter() != nullptr) ReleaseFilter();
  if (pair() != nullptr) UnlinkPartner();
  if (delegate_ != nullptr) {
    BuffereventDelegate* delegate = delegate_;
    delegate_ = nullptr;
    delegate->OnBuffereventReleased();
  }
}

BuffereventWrap* BuffereventWrap::FromJs(Napi::Value value, const char* parameter) {
  return UnwrapChecked<BuffereventWrap>(value.Env(), value, parameter);
}

void BuffereventWrap::SetDelegate(BuffereventDelegate* delegate) {
  delegate_ = delegate;
  // A delegate keeps the callbacks until the bufferevent is released: the JavaScript owner will not
  // hear from it again, and an open connection should not keep its reference and async context.
  if (delegate != nullptr) DropOwner();
  if (bev_ == nullptr) return;
  // The delegate needs the read callback to parse and the write callback to learn of drains.
  callback_mask_ = delegate != nullptr ? 3 : 0;
  InstallCallbacks();
  loop()->MarkDirty();
}

bool BuffereventWrap::CheckUsable(Napi::Env env) {
  if (bev_ != nullptr) return true;
  ThrowError(env, "ERR_FREED", "this bufferevent was freed; create a new one");
  return false;
}

void BuffereventWrap::InstallCallbacks() {
  if (filtered_by() != nullptr)
    return;  // libevent routes this bufferevent's callbacks to the filter
  // libevent's behaviour depends on which callbacks exist (no readcb: data just accumulates), so a
  // callback JavaScript did not set is not installed. The event callback is always installed: the
  // binding itself needs it for hostname connects.
  // With larger reads the binding needs the read callback itself, to read on after libevent.
  bufferevent_setcb(bev_, (callback_mask_ & 1) ? OnRead : nullptr,
                    (callback_mask_ & 2) ? OnWrite : nullptr, OnEvent, this);
}

void BuffereventWrap::Deliver(BuffereventCallback which, short events, int err) {
  EventLoop* event_loop = loop();
  if (closed() || event_loop == nullptr || event_loop->shutting_down()) return;
  event_loop->NoteCallback();
  if (delegate_ != nullptr) {
    delegate_->OnBuffereventCallback(which, events, err);
    return;
  }
  Napi::Env env(event_loop->env());
  Napi::HandleScope scope(env);
  Napi::Value owner = OwnerValue(env);
  if (owner.IsUndefined()) return;
  Napi::Value code = env.Undefined();
  Napi::Value message = env.Undefined();
  if (which == BuffereventCallback::kEvent && rare_ != nullptr && rare_->pending_error != nullptr) {
    code = Napi::String::New(env, rare_->pending_error->code);
    message = Napi::String::New(env, rare_->pending_error->message);
    rare_->pending_error.reset();
  }
  CallIntoJs(env, async_context(), Addon::Of(env).bufferevent_dispatch.Value(),
             {owner, Napi::Number::New(env, static_cast<int>(which)),
              Napi::Number::New(env, events), Napi::Number::New(env, err), code, message});
}

void BuffereventWrap::OnRead(bufferevent*, void* self) {
  auto* wrap = static_cast<BuffereventWrap*>(self);
  ReadHighWatermarkState* mark = wrap->high_watermark();
  if (mark != nullptr) mark->input_drained = false;
  wrap->Deliver(BuffereventCallback::kRead, EV_READ, 0);
  // The read callback may have removed the mark, or freed the bufferevent.
  mark = wrap->high_watermark();
  if (mark != nullptr && mark->high > 0) wrap->AfterReadCallback();  // read_high_watermark.cc
}

void BuffereventWrap::OnWrite(bufferevent*, void* self) {
  static_cast<BuffereventWrap*>(self)->Deliver(BuffereventCallback::kWrite, EV_WRITE, 0);
}

void BuffereventWrap::OnEvent(bufferevent*, short what, void* self) {
  int err = EVUTIL_SOCKET_ERROR();  // libevent restores the errno of the failure before calling us
  auto* wrap = static_cast<BuffereventWrap*>(self);
  if (what & (BEV_EVENT_CONNECTED | BEV_EVENT_ERROR)) {
    // A filter receives its underlying socket's connect outcome in place of the socket's wrapper.
    for (BuffereventWrap* below = wrap; below != nullptr; below = below->underlying()) {
      if (below->kind_ == BuffereventKind::kSocket) below->socket_.connecting = false;
    }
    wrap->SyncOwnRead();  // reading can start on the connected socket
  }
  SocketRareState* rare = wrap->socket_rare();
  if (rare != nullptr && rare->hostname_connector != nullptr) {
    HostnameConnector* connector = rare->hostname_connector.get();
    if (what & BEV_EVENT_CONNECTED) {
      rare->hostname_connector.reset();
    } else if ((what & BEV_EVENT_ERROR) && connector->TryNextAfterFailure(err)) {
      return;  // another resolved address is being tried; the user hears only the final outcome
    }
  }
  if (wrap->FilterInterceptsEvent(what)) return;
  if (!(what & BEV_EVENT_ERROR)) err = 0;
  wrap->Deliver(BuffereventCallback::kEvent, what, err);
}

void BuffereventWrap::RaiseError(short what, const char* code, const std::string& message,
                                 int err) {
  if (bev_ == nullptr) return;
  Rare().pending_error =
      std::make_unique<RareState::PendingError>(RareState::PendingError{code, message});
  EVUTIL_SET_SOCKET_ERROR(err);
  bufferevent_trigger_event(bev_, what, BEV_TRIG_DEFER_CALLBACKS);
  loop()->MarkDirty();
}

Napi::Value BuffereventWrap::SetCallbackMask(const Napi::CallbackInfo& info) {
  if (!CheckUsable(info.Env())) return Napi::Value();
  if (filtered_by() != nullptr) {
    return ThrowError(info.Env(), "ERR_FILTERED",
                      "this bufferevent is the underlying of a filter, which owns its callbacks; "
                      "set them on the filter");
  }
  callback_mask_ = static_cast<uint8_t>(info[0].As<Napi::Number>().Int32Value() & 7);
  InstallCallbacks();
  loop()->MarkDirty();
  return info.Env().Undefined();
}

Napi::Value BuffereventWrap::KeepAlive(const Napi::CallbackInfo& info) {
  if (!closed()) KeepOwnerAlive(info[0].As<Napi::Boolean>().Value());
  return info.Env().Undefined();
}

Napi::Value BuffereventWrap::Enable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  if (!EnableEvents(static_cast<short>(info[0].As<Napi::Number>().Int32Value()))) {
    return ThrowError(env, "ERR_ENABLE", "libevent could not enable the bufferevent");
  }
  return env.Undefined();
}

Napi::Value BuffereventWrap::Disable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  DisableEvents(static_cast<short>(info[0].As<Napi::Number>().Int32Value()));
  return env.Undefined();
}

bool BuffereventWrap::EnableEvents(short events) {
  if (bev_ == nullptr) return false;
  if (OwnReadsOn() && (events & EV_READ)) {
    socket_.own_read_enabled = true;
    SyncOwnRead();
    events = static_cast<short>(events & ~EV_READ);
  }
  // At or above the read high watermark, reading stays paused (and counts as enabled).
  if ((events & EV_READ) && HoldReadAtWatermark()) events = static_cast<short>(events & ~EV_READ);
  loop()->MarkDirty();
  return events == 0 || bufferevent_enable(bev_, events) == 0;
}

void BuffereventWrap::DisableEvents(short events) {
  if (bev_ == nullptr) return;
  if (OwnReadsOn() && (events & EV_READ)) {
    socket_.own_read_enabled = false;
    SyncOwnRead();
    events = static_cast<short>(events & ~EV_READ);
  }
  // The user's wish ends a pause at the mark.
  if ((events & EV_READ) && high_watermark() != nullptr) high_watermark()->paused = false;
  if (events != 0) bufferevent_disable(bev_, events);
  loop()->MarkDirty();
}

Napi::Value BuffereventWrap::Enabled(const Napi::CallbackInfo& info) {
  if (!CheckUsable(info.Env())) return Napi::Value();
  // What the user asked for: EV_READ stays on while the binding's own reads or a pause at the read
  // high watermark keep libevent's flag off.
  bool own_read_on = OwnReadsOn() && socket_.own_read_enabled;
  int enabled =
      bufferevent_get_enabled(bev_) | (own_read_on || ReadPausedAtWatermark() ? EV_READ : 0);
  return Napi::Number::New(info.Env(), enabled);
}

Napi::Value BuffereventWrap::SetWatermark(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  auto events = static_cast<short>(info[0].As<Napi::Number>().Int32Value());
  auto low = static_cast<size_t>(info[1].As<Napi::Number>().DoubleValue());
  auto high = static_cast<size_t>(info[2].As<Napi::Number>().DoubleValue());
  bufferevent_setwatermark(bev_, events, low, high);
  if (events & EV_READ) WatchReadHighWatermark(high);
  loop()->MarkDirty();
  return env.Undefined();
}

Napi::Value BuffereventWrap::GetWatermark(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  size_t low = 0;
  size_t high = 0;
  bufferevent_getwatermark(bev_, static_cast<short>(info[0].As<Napi::Number>().Int32Value()), &low,
                           &high);
  Napi::Object result = Napi::Object::New(env);
  SetProperty(result, "low", static_cast<double>(low));
  SetProperty(result, "high", static_cast<double>(high));
  return result;
}

// setTimeouts(readMs | null, writeMs | null): null clears that timeout.
Napi::Value BuffereventWrap::SetTimeouts(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  timeval read_timeout{};
  timeval write_timeout{};
  bool has_read = info[0].IsNumber();
  bool has_write = info[1].IsNumber();
  if (has_read) read_timeout = MillisecondsToTimeval(info[0].As<Napi::Number>().DoubleValue());
  if (has_write) write_timeout = MillisecondsToTimeval(info[1].As<Napi::Number>().DoubleValue());
  bufferevent_set_timeouts(bev_, has_read ? &read_timeout : nullptr,
                           has_write ? &write_timeout : nullptr);
  if (kind_ == BuffereventKind::kSocket)
    SyncOwnRead(/*rearm_timeout=*/true);  // libevent keeps timeout_read
  loop()->MarkDirty();
  return env.Undefined();
}

Napi::Value BuffereventWrap::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  auto data = info[0].As<Napi::Buffer<uint8_t>>();
  if (PartnerWasFreed()) {
    return ThrowError(env, "ERR_PARTNER_FREED",
                      "the other half of this pair was freed; nothing can be written to it");
  }
  if (WriteThroughOn() && TryWriteThrough(env, data)) return env.Undefined();
  if (EvBufferWrap::AddJsBuffer(env, bufferevent_get_output(bev_), data) != 0) {
    return ThrowError(env, "ERR_WRITE", "libevent refused the write (the output buffer is frozen)");
  }
  loop()->MarkDirty();
  return env.Undefined();
}

// writeBuffer(evbuffer): bufferevent_write_buffer, moving all of `source` to the output.
Napi::Value BuffereventWrap::WriteBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  EvBufferWrap* source = UnwrapChecked<EvBufferWrap>(env, info[0], "data");
  if (source == nullptr) return Napi::Value();
  if (source->buffer() == nullptr)
    return ThrowError(env, "ERR_FREED", "the source EvBuffer was freed");
  if (PartnerWasFreed()) {
    return ThrowError(env, "ERR_PARTNER_FREED",
                      "the other half of this pair was freed; nothing can be written to it");
  }
  evbuffer* output = bufferevent_get_output(bev_);
  if (source->buffer() == output)
    return ThrowError(env, "ERR_INVALID_ARG", "cannot write a bufferevent's output to itself");
  if (WriteThroughOn()) TryWriteThroughBuffer(source->buffer());
  if (evbuffer_get_length(source->buffer()) > 0 &&
      bufferevent_write_buffer(bev_, source->buffer()) != 0) {
    return ThrowError(env, "ERR_EVBUFFER_FROZEN",
                      "libevent refused to move the data (the source's start is frozen)");
  }
  loop()->MarkDirty();
  return env.Undefined();
}

Napi::Value BuffereventWrap::Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  evbuffer* input = bufferevent_get_input(bev_);
  size_t available = evbuffer_get_length(input);
  size_t count = available;
  if (info[0].IsNumber()) {
    double wanted = info[0].As<Napi::Number>().DoubleValue();
    if (wanted < static_cast<double>(available)) count = static_cast<size_t>(wanted);
  }
  auto result = NewBuffer(env, count);
  if (result.IsEmpty()) return Napi::Value();  // refused: the worker is being terminated
  if (count > 0) bufferevent_read(bev_, result.Data(), count);
  loop()->MarkDirty();  // draining below the high watermark may resume reading
  return result;
}

Napi::Value BuffereventWrap::Input(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  // A socket or pair bufferevent's input is frozen at its end: only libevent appends to it.
  return EvBufferWrap::NewView(env, bufferevent_get_input(bev_), &Rare().input_view, false,
                               kind_ != BuffereventKind::kFilter);
}

Napi::Value BuffereventWrap::Output(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  // A socket or pair bufferevent's output is frozen at its start: only libevent takes from it.
  return EvBufferWrap::NewView(env, bufferevent_get_output(bev_), &Rare().output_view,
                               kind_ != BuffereventKind::kFilter, false);
}

Napi::Value BuffereventWrap::Flush(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  if (PartnerWasFreed()) {
    return ThrowError(env, "ERR_PARTNER_FREED",
                      "the other half of this pair was freed; there is nothing to flush to");
  }
  int result = bufferevent_flush(
      bev_, static_cast<short>(info[0].As<Napi::Number>().Int32Value()),
      static_cast<bufferevent_flush_mode>(info[1].As<Napi::Number>().Int32Value()));
  loop()->MarkDirty();
  if (result < 0)
    return ThrowError(env, "ERR_FLUSH", "libevent reported a failure flushing the bufferevent");
  return Napi::Number::New(env, result);
}

Napi::Value BuffereventWrap::GetPriority(const Napi::CallbackInfo& info) {
  if (!CheckUsable(info.Env())) return Napi::Value();
  return Napi::Number::New(info.Env(), bufferevent_get_priority(bev_));
}

Napi::Value BuffereventWrap::SetPriority(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  int priority = info[0].As<Napi::Number>().Int32Value();
  if (bufferevent_priority_set(bev_, priority) != 0) {
    return ThrowError(env, "ERR_INVALID_PRIORITY", "libevent refused the priority");
  }
  if (OwnReadsOn() && OwnReadEvent() != nullptr) event_priority_set(OwnReadEvent(), priority);
  loop()->MarkDirty();
  return env.Undefined();
}

Napi::Value BuffereventWrap::Fd(const Napi::CallbackInfo& info) {
  if (!CheckUsable(info.Env())) return Napi::Value();
  return Napi::Number::New(info.Env(), bufferevent_getfd(bev_));
}

// Always deferred: callbacks reach JavaScript only from the loop, never from inside a method call.
Napi::Value BuffereventWrap::Trigger(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  int options = BEV_TRIG_DEFER_CALLBACKS;
  if (IsTruthy(info[1])) options |= BEV_TRIG_IGNORE_WATERMARKS;
  bufferevent_trigger(bev_, static_cast<short>(info[0].As<Napi::Number>().Int32Value()), options);
  loop()->MarkDirty();
  return env.Undefined();
}

Napi::Value BuffereventWrap::TriggerEvent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  // libevent hands the current errno to the event callback; a user-raised event has none.
  EVUTIL_SET_SOCKET_ERROR(0);
  bufferevent_trigger_event(bev_, static_cast<short>(info[0].As<Napi::Number>().Int32Value()),
                            BEV_TRIG_DEFER_CALLBACKS);
  loop()->MarkDirty();
  return env.Undefined();
}

Napi::Value BuffereventWrap::Free(const Napi::CallbackInfo& info) {
  if (filtered_by() != nullptr) {
    return ThrowError(
        info.Env(), "ERR_FILTERED",
        "this bufferevent is the underlying of a filter; free the filter (closeOnFree frees both)");
  }
  Close();
  return info.Env().Undefined();
}

}  // namespace node_bufferevent
