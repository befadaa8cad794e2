// Listener: libevent's evconnlistener. Accepted fds go to JavaScript; on EMFILE and other accept
// errors it disables itself, reports the error and retries after a growing back-off instead of
// spinning (libevent alone would keep calling accept on the still-readable socket).
#pragma once

#include <event2/event.h>
#include <event2/listener.h>
#include <napi.h>

#include "native_class.h"
#include "native_object.h"

namespace node_bufferevent {

class ListenerWrap : public NativeClass<ListenerWrap>, public NativeObject {
 public:
  static constexpr ObjectKind kObjectKind = ObjectKind::kListener;
  static Napi::Function Init(Napi::Env env);
  explicit ListenerWrap(const Napi::CallbackInfo& info);
  ~ListenerWrap() override;

 protected:
  void ReleaseNative() override;

 private:
  bool CheckUsable(Napi::Env env);
  static void OnAccept(evconnlistener* listener, evutil_socket_t fd, sockaddr* address, int length,
                       void* self);
  static void OnAcceptError(evconnlistener* listener, void* self);
  static void OnRetry(evutil_socket_t fd, short what, void* self);
  static void ResumeAfterBudget(NativeObject* self);

  Napi::Value Address(const Napi::CallbackInfo& info);
  Napi::Value Enable(const Napi::CallbackInfo& info);
  Napi::Value Disable(const Napi::CallbackInfo& info);
  Napi::Value Fd(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  evconnlistener* listener_ = nullptr;
  event* retry_timer_ = nullptr;
  double backoff_ms_;
  bool user_enabled_ =
      true;  // the user's wish; the back-off only pauses a listener the user enabled
  bool paused_for_budget_ = false;  // until the next round of passes (event_loop.h)
};

}  // namespace node_bufferevent
