// Error construction for the addon: every error that crosses into JavaScript is a BuffereventError
// with a `code` (listed in docs/errors.md), built here and nowhere else.
//
// Building and throwing use napi directly and check every status. A method can be running when its
// worker is terminated; napi then refuses to run JavaScript (the BuffereventError constructor) or
// to throw, and node-addon-api would turn that refusal into a fatal error of the whole process.
// Here the error is dropped instead: nothing is left to catch it.
#pragma once

#include <napi.h>

#include <string>

namespace node_bufferevent {

// `new BuffereventError(message, code)`; system errors also carry errno and syscall. Null when the
// error cannot be built (the environment is shutting down, or the constructor threw: then its
// exception is pending and is what JavaScript sees).
napi_value MakeError(napi_env env, const char* code, const std::string& message);
napi_value MakeSystemError(napi_env env, const char* code, int err, const char* syscall,
                           const std::string& what);

// Throws `error` unless it is null or an exception is already pending (the first one stands); a
// refused throw (the environment can no longer run JavaScript) is ignored.
void ThrowIfPossible(napi_env env, napi_value error);

// Throws into JavaScript and returns an empty value, so methods can `return ThrowError(...)`.
inline Napi::Value ThrowError(Napi::Env env, const char* code, const std::string& message) {
  ThrowIfPossible(env, MakeError(env, code, message));
  return Napi::Value();
}

inline Napi::Value ThrowSystemError(Napi::Env env, const char* code, int err, const char* syscall,
                                    const std::string& what) {
  ThrowIfPossible(env, MakeSystemError(env, code, err, syscall, what));
  return Napi::Value();
}

}  // namespace node_bufferevent
