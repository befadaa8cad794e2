// The base of every wrapper that owns a libevent object. It links the wrapper into its loop's
// registry (so environment teardown can release what JavaScript never freed), holds the JavaScript
// owner object weakly or strongly, and gives the one idempotent Close() that free(), the finalizer
// and teardown share.
#pragma once

#include <napi.h>

namespace node_bufferevent {

class EventLoop;

enum class ObjectKind { kBufferevent, kListener, kEvent, kEvBuffer, kRateLimitGroup, kWebSocket };

class NativeObject {
 public:
  NativeObject(EventLoop* loop, ObjectKind kind);
  virtual ~NativeObject();
  NativeObject(const NativeObject&) = delete;
  NativeObject& operator=(const NativeObject&) = delete;

  // Releases the libevent object. Idempotent. Never calls JavaScript, so it is safe from a
  // finalizer.
  void Close();
  bool closed() const { return closed_; }
  ObjectKind kind() const { return kind_; }
  EventLoop* loop() const { return loop_; }

  // Called once by the loop at environment teardown, after Close(): the loop is going away.
  void DetachFromLoop() { loop_ = nullptr; }

 protected:
  virtual void ReleaseNative() = 0;

  // The JavaScript object callbacks are delivered for. Held weakly unless KeepOwnerAlive(true): an
  // object with work in flight must not be collected just because user code dropped its reference.
  void SetOwner(Napi::Object owner, napi_env env, const char* resource_name);
  void KeepOwnerAlive(bool keep);
  Napi::Value OwnerValue(Napi::Env env) const;
  napi_async_context async_context() const { return async_context_; }

 private:
  EventLoop* loop_;
  ObjectKind kind_;
  bool closed_ = false;
  bool owner_kept_alive_ = false;
  napi_env env_ = nullptr;
  napi_ref owner_ = nullptr;
  napi_async_context async_context_ = nullptr;
};

}  // namespace node_bufferevent
