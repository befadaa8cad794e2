// Registry membership, owner references and the shared idempotent Close() for every wrapper.
#include "native_object.h"

#include <string>

#include "addon.h"
#include "event_loop.h"
#include "util/errors.h"

namespace node_bufferevent {

namespace {

// One random 128-bit tag per class, fixed for the life of the addon (napi compares them by value).
constexpr napi_type_tag kTypeTags[] = {
    {0x6b1f2d0c8a4e4f31, 0x9d3a51e07c2b6f18},  // kBufferevent
    {0x2e94c7b15f0d4a62, 0x8c17e3a9d4b05f7e},  // kListener
    {0xa3d05e8f17c24b96, 0x5f2e8b6d1c7a9043},  // kEvent
    {0x4c8e1f6a2b9d4e07, 0xb31d7c5e0a8f6294},  // kEvBuffer
    {0xd7260b94e3f14c58, 0x16a9f0c3e72b8d45},  // kRateLimitGroup
    {0x81f3c6d2a05e4b79, 0xe4b7290f6d3c1a58},  // kWebSocket
    {0x5a0e9c47d2b3f816, 0x73c1e8a40f5d29b6},  // kInotify
};

const napi_type_tag& TypeTagOf(ObjectKind kind) { return kTypeTags[static_cast<int>(kind)]; }

}  // namespace

const char* ObjectKindName(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kBufferevent:
      return "Bufferevent";
    case ObjectKind::kListener:
      return "Listener";
    case ObjectKind::kEvent:
      return "Event";
    case ObjectKind::kEvBuffer:
      return "EvBuffer";
    case ObjectKind::kRateLimitGroup:
      return "RateLimitGroup";
    case ObjectKind::kWebSocket:
      return "WebSocket";
    case ObjectKind::kInotify:
      return "Inotify";
  }
  return "object";
}

bool HasTypeTag(Napi::Env env, Napi::Value value, ObjectKind kind) {
  if (value.IsEmpty() || !value.IsObject()) return false;
  bool matches = false;
  if (napi_check_object_type_tag(env, value, &TypeTagOf(kind), &matches) != napi_ok) return false;
  return matches;
}

void ThrowWrongObject(Napi::Env env, const char* parameter, ObjectKind expected) {
  ThrowError(env, "ERR_INVALID_ARG",
             std::string(parameter) + " must be " +
                 (expected == ObjectKind::kEvBuffer ? "an " : "a ") + ObjectKindName(expected) +
                 " made by this library");
}

// The loop is null when libevent could not be set up; RequireLoop has then thrown ERR_LOOP_INIT and
// the subclass constructor returns at once (its object is closed from the start).
NativeObject::NativeObject(const Napi::CallbackInfo& info, ObjectKind kind)
    : loop_(RequireLoop(info.Env())), kind_(kind) {
  napi_type_tag_object(info.Env(), info.This(), &TypeTagOf(kind));
  if (loop_ != nullptr) {
    loop_->Register(this);
  } else {
    closed_ = true;
  }
}

NativeObject::NativeObject(Napi::Env env, ObjectKind kind) : loop_(RequireLoop(env)), kind_(kind) {
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

void NativeObject::SetAsyncResource(Napi::Object resource, napi_env env,
                                    const char* resource_name) {
  env_ = env;
  napi_value name;
  napi_create_string_utf8(env, resource_name, NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &async_context_);
}

void NativeObject::KeepOwnerAlive(bool keep) {
  if (keep == owner_kept_alive_) return;
  owner_kept_alive_ = keep;
  if (owner_ == nullptr) return;
  uint32_t count;
  if (keep) {
    napi_reference_ref(env_, owner_, &count);
  } else {
    napi_reference_unref(env_, owner_, &count);
  }
}

void NativeObject::DropOwner() {
  if (owner_ != nullptr) napi_delete_reference(env_, owner_);
  owner_ = nullptr;
  owner_kept_alive_ = false;
  if (async_context_ != nullptr) napi_async_destroy(env_, async_context_);
  async_context_ = nullptr;
}

Napi::Value NativeObject::OwnerValue(Napi::Env env) const {
  if (owner_ == nullptr) return env.Undefined();
  napi_value value = nullptr;
  napi_get_reference_value(env_, owner_, &value);
  if (value == nullptr) return env.Undefined();
  return Napi::Value(env, value);
}

}  // namespace node_bufferevent
