// EvBuffer: libevent's evbuffer, either owned (new EvBuffer()) or a view of a bufferevent's input
// or output, which dies with its bufferevent.
#pragma once

#include <event2/buffer.h>
#include <napi.h>

#include "native_class.h"
#include "native_object.h"

namespace node_bufferevent {

class Addon;

class EvBufferWrap : public NativeClass<EvBufferWrap>, public NativeObject {
 public:
  static constexpr ObjectKind kObjectKind = ObjectKind::kEvBuffer;
  static Napi::Function Init(Napi::Env env, Addon& addon);
  // A view of an evbuffer owned by someone else; Invalidate() when that owner goes away.
  // frozen_start/frozen_end: libevent refuses removing from the start / adding at the end (a socket
  // bufferevent's output / input); such calls throw ERR_EVBUFFER_FROZEN before reaching libevent.
  static Napi::Object NewView(Napi::Env env, evbuffer* buffer, EvBufferWrap** back_pointer,
                              bool frozen_start = false, bool frozen_end = false);
  explicit EvBufferWrap(const Napi::CallbackInfo& info);
  ~EvBufferWrap() override;
  void Invalidate();
  evbuffer* buffer() const { return buffer_; }

  // Appends a JavaScript Buffer: large ones by reference (kept alive until libevent drops them),
  // small ones by copy. Shared with Bufferevent.write().
  static int AddJsBuffer(Napi::Env env, evbuffer* target, Napi::Buffer<uint8_t> data) {
    return AddJsBufferRange(env, target, data, 0);
  }
  // The same for the bytes of `data` from `offset` on.
  static int AddJsBufferRange(Napi::Env env, evbuffer* target, Napi::Buffer<uint8_t> data,
                              size_t offset);
  // The same for `length` bytes at `start` inside the memory of the JavaScript value `owner`,
  // which is kept alive while libevent holds them by reference.
  static int AddHeldBytes(napi_env env, evbuffer* target, napi_value owner, const uint8_t* start,
                          size_t length);

 protected:
  void ReleaseNative() override;

 private:
  bool CheckUsable(Napi::Env env);
  bool CheckStartMovable(Napi::Env env, const char* operation);
  bool CheckEndAppendable(Napi::Env env, const char* operation);
  Napi::Value Length(const Napi::CallbackInfo& info);
  Napi::Value Add(const Napi::CallbackInfo& info);
  Napi::Value AddBuffer(const Napi::CallbackInfo& info);
  Napi::Value Prepend(const Napi::CallbackInfo& info);
  Napi::Value Remove(const Napi::CallbackInfo& info);
  Napi::Value Drain(const Napi::CallbackInfo& info);
  Napi::Value CopyOut(const Napi::CallbackInfo& info);
  Napi::Value Pullup(const Napi::CallbackInfo& info);
  Napi::Value Search(const Napi::CallbackInfo& info);
  Napi::Value ReadLine(const Napi::CallbackInfo& info);
  Napi::Value AddFile(const Napi::CallbackInfo& info);
  Napi::Value WriteTo(const Napi::CallbackInfo& info);
  Napi::Value ReadFrom(const Napi::CallbackInfo& info);
  Napi::Value Free(const Napi::CallbackInfo& info);

  evbuffer* buffer_ = nullptr;
  bool owned_ = false;
  bool frozen_start_ = false;
  bool frozen_end_ = false;
  EvBufferWrap** back_pointer_ = nullptr;  // the owner's pointer to this view, cleared when we die
};

}  // namespace node_bufferevent
