// Builds BuffereventError instances (the class is registered from src/native.ts at load time).
#include "util/errors.h"

#include <cstring>

#include "addon.h"

namespace node_bufferevent {

Napi::Error MakeError(Napi::Env env, const char* code, const std::string& message) {
  Addon& addon = Addon::Of(env);
  if (addon.error_class.IsEmpty()) {
    Napi::Error error = Napi::Error::New(env, message);
    error.Value().Set("code", Napi::String::New(env, code));
    return error;
  }
  Napi::Object error =
      addon.error_class.New({Napi::String::New(env, message), Napi::String::New(env, code)});
  return Napi::Error(env, error);
}

Napi::Error MakeSystemError(Napi::Env env, const char* code, int err, const char* syscall,
                            const std::string& what) {
  Napi::Error error = MakeError(env, code, what + " (" + syscall + ": " + std::strerror(err) + ")");
  Napi::Object object = error.Value();
  object.Set("errno", Napi::Number::New(env, err));
  object.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

}  // namespace node_bufferevent
