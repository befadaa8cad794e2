// Builds and throws BuffereventError instances (the class is registered from src/native.ts at load
// time). Only raw napi calls with checked statuses: see util/errors.h.
#include "util/errors.h"

#include <cstring>

#include "addon.h"

namespace node_bufferevent {

napi_value MakeError(napi_env env, const char* code, const std::string& message) {
  napi_value message_value;
  napi_value code_value;
  if (napi_create_string_utf8(env, message.data(), message.size(), &message_value) != napi_ok ||
      napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value) != napi_ok) {
    return nullptr;
  }
  napi_value error = nullptr;
  Addon& addon = Addon::Of(env);
  napi_value error_class = nullptr;
  if (!addon.error_class.IsEmpty() &&
      napi_get_reference_value(env, addon.error_class, &error_class) == napi_ok &&
      error_class != nullptr) {
    napi_value args[2] = {message_value, code_value};
    if (napi_new_instance(env, error_class, 2, args, &error) != napi_ok) return nullptr;
    return error;
  }
  // Before src/native.ts registered the class: a plain Error with the code (napi sets `code`).
  if (napi_create_error(env, code_value, message_value, &error) != napi_ok) return nullptr;
  return error;
}

napi_value MakeSystemError(napi_env env, const char* code, int err, const char* syscall,
                           const std::string& what) {
  napi_value error = MakeError(env, code, what + " (" + syscall + ": " + std::strerror(err) + ")");
  napi_value errno_value;
  napi_value syscall_value;
  // Plain data properties of a fresh error: setting them runs no JavaScript and fails only when
  // the environment is shutting down, when the error without them is as good.
  if (error != nullptr && napi_create_int32(env, err, &errno_value) == napi_ok &&
      napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value) == napi_ok &&
      napi_set_named_property(env, error, "errno", errno_value) == napi_ok) {
    napi_set_named_property(env, error, "syscall", syscall_value);
  }
  return error;
}

void ThrowIfPossible(napi_env env, napi_value error) {
  if (error == nullptr) return;
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || pending) return;
  napi_throw(env, error);  // fails only when the environment can no longer run JavaScript
}

}  // namespace node_bufferevent
