// Calls JavaScript from a libevent callback: a fresh handle scope, the object's async context (so
// nextTick and promises drain after it, like Node's own I/O), and an exception from the callback
// handed to Node's uncaught-exception path instead of being swallowed.
#pragma once

#include <napi.h>

#include <initializer_list>

namespace node_bufferevent {

// napi_make_callback needs an object receiver; the dispatchers ignore `this`, so the owner serves.
inline void CallIntoJs(Napi::Env env, napi_async_context context, napi_value function,
                       std::initializer_list<napi_value> args) {
  napi_value receiver = *args.begin();
  napi_value result;
  napi_status status =
      napi_make_callback(env, context, receiver, function, args.size(), args.begin(), &result);
  if (status != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error);
    }
  }
}

// Like CallIntoJs, but for a function whose result matters (a JavaScript filter): returns false and
// hands back the exception, cleared, instead of treating it as uncaught.
inline bool CallIntoJsForResult(napi_env env, napi_async_context context, napi_value function,
                                std::initializer_list<napi_value> args, napi_value* result,
                                napi_value* exception) {
  napi_value receiver = *args.begin();
  napi_status status =
      napi_make_callback(env, context, receiver, function, args.size(), args.begin(), result);
  if (status == napi_ok) return true;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) napi_get_and_clear_last_exception(env, exception);
  return false;
}

}  // namespace node_bufferevent
