// Raw events. The callback gets (fd, what) with libevent's flags; activation from JavaScript is
// queued for the next pass, never run inside the call.
#include "event.h"

#include <string>

#include "addon.h"
#include "event_loop.h"
#include "util/errors.h"
#include "util/js_callback.h"
#include "util/milliseconds.h"
#include "util/watchable_fd.h"

namespace node_bufferevent {

Napi::Function EventWrap::Init(Napi::Env env) {
  return DefineClass(env, "Event",
                     {
                         InstanceMethod<&EventWrap::Add>("add"),
                         InstanceMethod<&EventWrap::Del>("del"),
                         InstanceMethod<&EventWrap::Activate>("activate"),
                         InstanceMethod<&EventWrap::Pending>("pending"),
                         InstanceMethod<&EventWrap::SetPriority>("setPriority"),
                         InstanceMethod<&EventWrap::GetPriority>("getPriority"),
                         InstanceMethod<&EventWrap::Free>("free"),
                     });
}

// new Event(owner, fd, what): fd -1 and what 0 (or EV_PERSIST) for a timer; fd = signal number with
// EV_SIGNAL.
EventWrap::EventWrap(const Napi::CallbackInfo& info) : NativeObject(info, ObjectKind::kEvent) {
  if (loop() == nullptr) return;  // ERR_LOOP_INIT is pending
  Napi::Env env = info.Env();
  SetOwner(info[0].As<Napi::Object>(), env, "Event");
  int fd = info[1].As<Napi::Number>().Int32Value();
  auto what = static_cast<short>(info[2].As<Napi::Number>().Int32Value());
  if (fd >= 0 && (what & (EV_READ | EV_WRITE | EV_CLOSED)) != 0) {
    if (int err = UnwatchableFdError(fd); err != 0) {
      NativeObject::Close();
      ThrowSystemError(env, "ERR_INVALID_FD", err, "fstat",
                       err == EPERM ? "fd " + std::to_string(fd) +
                                          " is a regular file or directory, which libevent cannot "
                                          "watch"
                                    : "fd " + std::to_string(fd) + " is not open");
      return;
    }
  }
  event_ = event_new(loop()->base(), fd, what, OnFire, this);
  if (event_ == nullptr) {
    NativeObject::Close();
    ThrowError(env, "ERR_CREATE", "libevent could not create the event");
  }
}

EventWrap::~EventWrap() { NativeObject::Close(); }

void EventWrap::ReleaseNative() {
  if (event_ != nullptr) event_free(event_);
  event_ = nullptr;
}

bool EventWrap::CheckUsable(Napi::Env env) {
  if (event_ != nullptr) return true;
  ThrowError(env, "ERR_FREED", "this event was freed");
  return false;
}

void EventWrap::SyncKeepAlive() {
  KeepOwnerAlive(event_ != nullptr &&
                 event_pending(event_, EV_READ | EV_WRITE | EV_SIGNAL | EV_TIMEOUT, nullptr));
}

void EventWrap::OnFire(evutil_socket_t fd, short what, void* arg) {
  auto* self = static_cast<EventWrap*>(arg);
  EventLoop* loop = self->loop();
  if (self->closed() || loop == nullptr || loop->shutting_down()) return;
  loop->NoteCallback();
  Napi::Env env(loop->env());
  Napi::HandleScope scope(env);
  Napi::Value owner = self->OwnerValue(env);
  self->SyncKeepAlive();  // a one-shot event is no longer pending; the handle above keeps it for
                          // the call
  if (owner.IsUndefined()) return;
  CallIntoJs(env, self->async_context(), Addon::Of(env).event_dispatch.Value(),
             {owner, Napi::Number::New(env, fd), Napi::Number::New(env, what)});
}

// add(timeoutMs?)
Napi::Value EventWrap::Add(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  int result;
  if (info[0].IsNumber()) {
    timeval timeout = MillisecondsToTimeval(info[0].As<Napi::Number>().DoubleValue());
    result = event_add(event_, &timeout);
  } else {
    result = event_add(event_, nullptr);
  }
  if (result != 0) return ThrowError(env, "ERR_EVENT_ADD", "libevent could not add the event");
  SyncKeepAlive();
  loop()->MarkDirty();
  return env.Undefined();
}

Napi::Value EventWrap::Del(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  event_del(event_);
  SyncKeepAlive();
  loop()->MarkDirty();
  return env.Undefined();
}

Napi::Value EventWrap::Activate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  event_active(event_, static_cast<short>(info[0].As<Napi::Number>().Int32Value()), 0);
  KeepOwnerAlive(true);
  loop()->MarkDirty();
  return env.Undefined();
}

Napi::Value EventWrap::Pending(const Napi::CallbackInfo& info) {
  if (!CheckUsable(info.Env())) return Napi::Value();
  short what = static_cast<short>(info[0].As<Napi::Number>().Int32Value());
  return Napi::Boolean::New(info.Env(), event_pending(event_, what, nullptr) != 0);
}

Napi::Value EventWrap::SetPriority(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  if (event_priority_set(event_, info[0].As<Napi::Number>().Int32Value()) != 0) {
    return ThrowError(env, "ERR_INVALID_PRIORITY",
                      "libevent refused the priority (is the event pending or active?)");
  }
  return env.Undefined();
}

Napi::Value EventWrap::GetPriority(const Napi::CallbackInfo& info) {
  if (!CheckUsable(info.Env())) return Napi::Value();
  return Napi::Number::New(info.Env(), event_get_priority(event_));
}

Napi::Value EventWrap::Free(const Napi::CallbackInfo& info) {
  NativeObject::Close();
  return info.Env().Undefined();
}

}  // namespace node_bufferevent
