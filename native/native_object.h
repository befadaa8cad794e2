// The base of every wrapper that owns a libevent object. It links the wrapper into its loop's
// registry (so environment teardown can release what JavaScript never freed), holds the JavaScript
// owner object weakly or strongly, gives the one idempotent Close() that free(), the finalizer
// and teardown share, and tags the wrapper's JavaScript object with its class so that an object
// handed back from JavaScript is proved to be that class before its pointer is used.
#pragma once

#include <napi.h>

namespace node_bufferevent {

class EventLoop;

enum class ObjectKind : uint8_t {
  kBufferevent,
  kListener,
  kEvent,
  kEvBuffer,
  kRateLimitGroup,
  kWebSocket,
  kInotify
};

// The class name JavaScript knows each kind by, for error messages.
const char* ObjectKindName(ObjectKind kind);

class NativeObject {
 public:
  // Registers with the environment's loop and tags `info.This()` with `kind`'s type tag.
  NativeObject(const Napi::CallbackInfo& info, ObjectKind kind);
  // For an object without a JavaScript object of its own (a WebSocket connection, which JavaScript
  // knows by an id): registers with the loop, tags nothing.
  NativeObject(Napi::Env env, ObjectKind kind);
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

  // Events this object keeps added in libevent that are no work of the user's and must not keep
  // the process alive (a rate-limit group's refill timer while nobody waits for a refill). Asked on
  // every pass for the objects the loop tracks for it (see EventLoop::Register), so it must be
  // cheap.
  virtual int IdleAddedEvents() const { return 0; }

 protected:
  virtual void ReleaseNative() = 0;

  // The JavaScript object callbacks are delivered for. Held weakly unless KeepOwnerAlive(true): an
  // object with work in flight must not be collected just because user code dropped its reference.
  void SetOwner(Napi::Object owner, napi_env env, const char* resource_name);
  // For an object with no owner to call (a WebSocket connection, whose dispatcher finds the
  // WebSocket by id): only the async context its callbacks run in, with `resource` as its resource.
  void SetAsyncResource(Napi::Object resource, napi_env env, const char* resource_name);
  void KeepOwnerAlive(bool keep);
  // Forgets the owner for good, freeing its reference and async context: for an object whose
  // callbacks a native layer took over, so nothing is ever delivered to the owner again.
  void DropOwner();
  Napi::Value OwnerValue(Napi::Env env) const;
  // The environment SetOwner was given (null before): valid for the wrapper's whole life.
  napi_env env() const { return env_; }
  napi_async_context async_context() const { return async_context_; }

 private:
  EventLoop* loop_;
  napi_env env_ = nullptr;
  napi_ref owner_ = nullptr;
  napi_async_context async_context_ = nullptr;
  // Links in the loop's registry (EventLoop::Register): intrusive, so being registered allocates
  // nothing (a hash set cost every connection two node allocations and their buckets).
  friend class EventLoop;
  NativeObject* registry_previous_ = nullptr;
  NativeObject* registry_next_ = nullptr;
  // The small fields last: a derived class's own small fields fill the padding after them.
  ObjectKind kind_;
  bool closed_ : 1 = false;
  bool owner_kept_alive_ : 1 = false;
};

void ThrowWrongObject(Napi::Env env, const char* parameter, ObjectKind expected);

// True when `value` is an object made by the native constructor of `kind` (its type tag matches).
bool HasTypeTag(Napi::Env env, Napi::Value value, ObjectKind kind);

// The only way a wrapper is taken back from a JavaScript value: checks the type tag first and, on a
// mismatch, throws ERR_INVALID_ARG naming `parameter` and the expected class and returns null. Also
// null when napi refuses the type-tag check or the unwrap (a worker being terminated; the throw is
// then refused too): callers check for null. `Wrap` is a NativeClass (native_class.h).
template <typename Wrap>
Wrap* UnwrapChecked(Napi::Env env, Napi::Value value, const char* parameter) {
  if (!HasTypeTag(env, value, Wrap::kObjectKind)) {
    ThrowWrongObject(env, parameter, Wrap::kObjectKind);
    return nullptr;
  }
  return Wrap::Unwrap(env, value);
}

}  // namespace node_bufferevent
