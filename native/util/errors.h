// Error construction for the addon: every error that crosses into JavaScript is a BuffereventError
// with a `code` (listed in docs/errors.md), built here and nowhere else.
#pragma once

#include <napi.h>

#include <string>

namespace node_bufferevent {

// Builds `new BuffereventError(message, code)`; system errors also carry errno and syscall.
Napi::Error MakeError(Napi::Env env, const char* code, const std::string& message);
Napi::Error MakeSystemError(Napi::Env env, const char* code, int err, const char* syscall,
                            const std::string& what);

// Throws into JavaScript and returns an empty value, so methods can `return ThrowError(...)`.
inline Napi::Value ThrowError(Napi::Env env, const char* code, const std::string& message) {
  MakeError(env, code, message).ThrowAsJavaScriptException();
  return Napi::Value();
}

inline Napi::Value ThrowSystemError(Napi::Env env, const char* code, int err, const char* syscall,
                                    const std::string& what) {
  MakeSystemError(env, code, err, syscall, what).ThrowAsJavaScriptException();
  return Napi::Value();
}

}  // namespace node_bufferevent
