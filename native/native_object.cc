// Registry membership, owner references and the shared idempotent Close() for every wrapper.
#include "native_object.h"

#include "event_loop.h"

namespace node_bufferevent {

// `loop` is null when libevent could not be set up; RequireLoop has then thrown ERR_LOOP_INIT and
// the subclass constructor returns at once (its object is closed from the start).
NativeObject::NativeObject(EventLoop* loop, ObjectKind kind) : loop_(loop), kind_(kind) {
  if (loop_ != nullptr) {
    loop_->Register(this);
  } else {
    closed_ = true;
  }
}

NativeObject::~NativeObject() {
  // Subclasses call Close() in their own destructors, while their members still exist; this only
  // drops the references, which napi allows from a finalizer.
  if (owner_ != nullptr) napi_delete_reference(env_, owner_);
  if (async_context_ != nullptr) napi_async_destroy(env_, async_context_);
}

void NativeObject::Close() {
  if (closed_) return;
  closed_ = true;
  ReleaseNative();
  KeepOwnerAlive(false);
  if (loop_ != nullptr) loop_->Unregister(this);
}

void NativeObject::SetOwner(Napi::Object owner, napi_env env, const char* resource_name) {
  env_ = env;
  napi_create_reference(env, owner, 0, &owner_);
  napi_value name;
  napi_create_string_utf8(env, resource_name, NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, owner, name, &async_context_);
}

void NativeObject::KeepOwnerAlive(bool keep) {
  if (owner_ == nullptr || keep == owner_kept_alive_) return;
  owner_kept_alive_ = keep;
  uint32_t count;
  if (keep) {
    napi_reference_ref(env_, owner_, &count);
  } else {
    napi_reference_unref(env_, owner_, &count);
  }
}

Napi::Value NativeObject::OwnerValue(Napi::Env env) const {
  if (owner_ == nullptr) return env.Undefined();
  napi_value value = nullptr;
  napi_get_reference_value(env_, owner_, &value);
  if (value == nullptr) return env.Undefined();
  return Napi::Value(env, value);
}

}  // namespace node_bufferevent
