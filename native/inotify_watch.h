// Inotify: one Linux inotify instance (its own non-blocking fd), for following files by name (the
// tail engine). The fd is watched by an Event on the libevent loop; nothing here polls.
#pragma once

#include <napi.h>

#include "native_class.h"
#include "native_object.h"

namespace node_bufferevent {

class InotifyWrap : public NativeClass<InotifyWrap>, public NativeObject {
 public:
  static constexpr ObjectKind kObjectKind = ObjectKind::kInotify;
  static Napi::Function Init(Napi::Env env);
  // The IN_* values of <sys/inotify.h>, so a test can check src/inotify.ts's IN against them.
  static Napi::Object Constants(Napi::Env env);
  explicit InotifyWrap(const Napi::CallbackInfo& info);
  ~InotifyWrap() override;

  // Bytes readEvents() reads at most per call, so one call never starves the loop; what is left
  // keeps the fd readable and the next pass of the loop reads it.
  static constexpr size_t kMaxBytesPerCall = 64 * 1024;

 protected:
  void ReleaseNative() override;

 private:
  bool CheckUsable(Napi::Env env);

  Napi::Value Fd(const Napi::CallbackInfo& info);
  Napi::Value AddWatch(const Napi::CallbackInfo& info);
  Napi::Value RemoveWatch(const Napi::CallbackInfo& info);
  Napi::Value ReadEvents(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  int fd_ = -1;
};

}  // namespace node_bufferevent
