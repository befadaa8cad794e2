// Event: a raw libevent event on an fd, a timer or a signal (the tail engine watches an inotify
// fd).
#pragma once

#include <event2/event.h>
#include <napi.h>

#include "native_class.h"
#include "native_object.h"

namespace node_bufferevent {

class EventWrap : public NativeClass<EventWrap>, public NativeObject {
 public:
  static constexpr ObjectKind kObjectKind = ObjectKind::kEvent;
  static Napi::Function Init(Napi::Env env);
  explicit EventWrap(const Napi::CallbackInfo& info);
  ~EventWrap() override;

 protected:
  void ReleaseNative() override;

 private:
  bool CheckUsable(Napi::Env env);
  // A pending event keeps its JavaScript owner (and so its callback) alive, like a Node timer.
  void SyncKeepAlive();
  static void OnFire(evutil_socket_t fd, short what, void* self);

  Napi::Value Add(const Napi::CallbackInfo& info);
  Napi::Value Del(const Napi::CallbackInfo& info);
  Napi::Value Activate(const Napi::CallbackInfo& info);
  Napi::Value Pending(const Napi::CallbackInfo& info);
  Napi::Value SetPriority(const Napi::CallbackInfo& info);
  Napi::Value GetPriority(const Napi::CallbackInfo& info);
  Napi::Value Free(const Napi::CallbackInfo& info);

  event* event_ = nullptr;
};

}  // namespace node_bufferevent
