// Calls JavaScript from a libevent callback: a fresh handle scope, the object's async context (so
// nextTick and promises drain after it, like Node's own I/O), and an exception from the callback
// handed to Node's uncaught-exception path instead of being swallowed.
//
// Everything here uses napi directly and checks every status: a failed node-addon-api call leaves
// an exception pending or, when the environment can no longer run JavaScript (a worker being
// terminated), aborts the process. After any function here returns, no exception is pending.
#pragma once

#include <napi.h>

#include <initializer_list>
#include <string>

namespace node_bufferevent {

// Drops an exception a failed napi call left pending: with one pending every later napi call fails.
inline void ClearPendingException(napi_env env) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
}

// Counts a call into JavaScript against the running pass's budget (event_loop.cc); nothing outside
// a pass.
void NoteJsCallInPass();

// napi_make_callback needs an object receiver; the dispatchers ignore `this`.
inline void CallIntoJs(napi_env env, napi_async_context context, napi_value receiver,
                       napi_value function, std::initializer_list<napi_value> args) {
  NoteJsCallInPass();
  napi_value result;
  if (napi_make_callback(env, context, receiver, function, args.size(), args.begin(), &result) ==
      napi_ok) {
    return;
  }
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) return;  // the environment is shutting down: nothing ran, nothing to report
  napi_value error;
  if (napi_get_and_clear_last_exception(env, &error) != napi_ok) return;
  napi_fatal_exception(env, error);
  ClearPendingException(env);
}

// The owner, the first argument, serves as the receiver.
inline void CallIntoJs(napi_env env, napi_async_context context, napi_value function,
                       std::initializer_list<napi_value> args) {
  CallIntoJs(env, context, *args.begin(), function, args);
}

enum class JsCallOutcome {
  kReturned,  // *result holds what the function returned
  kThrew,     // *exception holds what it threw (cleared: it is pending no more)
  kNotRun,    // the environment can no longer run JavaScript (a worker being terminated)
};

// Like CallIntoJs, but for a function whose result matters (a JavaScript filter): the exception is
// handed back, cleared, instead of being treated as uncaught.
inline JsCallOutcome CallIntoJsForResult(napi_env env, napi_async_context context,
                                         napi_value function,
                                         std::initializer_list<napi_value> args, napi_value* result,
                                         napi_value* exception) {
  NoteJsCallInPass();
  napi_value receiver = *args.begin();
  *result = nullptr;
  *exception = nullptr;
  if (napi_make_callback(env, context, receiver, function, args.size(), args.begin(), result) ==
      napi_ok) {
    return JsCallOutcome::kReturned;
  }
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) return JsCallOutcome::kNotRun;
  if (napi_get_and_clear_last_exception(env, exception) != napi_ok) *exception = nullptr;
  ClearPendingException(env);
  return JsCallOutcome::kThrew;
}

// The UTF-8 text of a JavaScript string, at most kMaxJsText bytes (cut at a character boundary,
// then marked with "…"); false when `value` is not a string.
constexpr size_t kMaxJsText = 512;
inline bool JsStringText(napi_env env, napi_value value, std::string* text) {
  char buffer[kMaxJsText + 1];
  size_t length = 0;
  if (value == nullptr ||
      napi_get_value_string_utf8(env, value, buffer, sizeof buffer, &length) != napi_ok) {
    return false;
  }
  text->assign(buffer, length);
  size_t full_length = 0;
  if (napi_get_value_string_utf8(env, value, nullptr, 0, &full_length) == napi_ok &&
      full_length > length) {
    text->append("…");
  }
  return true;
}

namespace detail {

// The `message` of an Error when it is an own data property holding a string. Reads it through
// Object.getOwnPropertyDescriptor, which on an Error (never a Proxy: napi_is_error is false for
// one) runs no code of the value's own: a getter is reported as such, not called.
inline bool OwnMessage(napi_env env, napi_value error, std::string* message) {
  napi_value global, object_constructor, describe, key, descriptor, has_value_key, value;
  bool has_value = false;
  napi_valuetype type;
  if (napi_get_global(env, &global) != napi_ok ||
      napi_get_named_property(env, global, "Object", &object_constructor) != napi_ok ||
      napi_get_named_property(env, object_constructor, "getOwnPropertyDescriptor", &describe) !=
          napi_ok ||
      napi_create_string_utf8(env, "message", NAPI_AUTO_LENGTH, &key) != napi_ok) {
    return false;
  }
  napi_value args[2] = {error, key};
  if (napi_call_function(env, object_constructor, describe, 2, args, &descriptor) != napi_ok ||
      napi_typeof(env, descriptor, &type) != napi_ok || type != napi_object ||
      napi_create_string_utf8(env, "value", NAPI_AUTO_LENGTH, &has_value_key) != napi_ok ||
      napi_has_own_property(env, descriptor, has_value_key, &has_value) != napi_ok || !has_value ||
      napi_get_property(env, descriptor, has_value_key, &value) != napi_ok) {
    return false;
  }
  return JsStringText(env, value, message);
}

// String(value) for a number, bigint or boolean: the primitive's own conversion, no user code.
inline std::string PrimitiveText(napi_env env, napi_value value, const char* fallback,
                                 const char* suffix = "") {
  napi_value text;
  std::string result;
  if (napi_coerce_to_string(env, value, &text) != napi_ok || !JsStringText(env, text, &result))
    return fallback;
  return result + suffix;
}

}  // namespace detail

// Describes a thrown value for an error message without running any JavaScript that belongs to it:
// no getter, no Proxy trap, no toString. An Error gives its message (an own string property); a
// primitive its value; anything else its kind. Never leaves an exception pending.
inline std::string DescribeThrown(napi_env env, napi_value value) {
  napi_valuetype type;
  std::string text;
  if (value == nullptr || napi_typeof(env, value, &type) != napi_ok) {
    text = "a value that cannot be read";
  } else {
    switch (type) {
      case napi_undefined:
        text = "undefined";
        break;
      case napi_null:
        text = "null";
        break;
      case napi_boolean:
      case napi_number:
        text = detail::PrimitiveText(env, value, "a boolean or number");
        break;
      case napi_bigint:
        text = detail::PrimitiveText(env, value, "a bigint", "n");
        break;
      case napi_string:
        if (!JsStringText(env, value, &text)) text = "a string";
        break;
      case napi_symbol:
        text = "a symbol";
        break;
      case napi_function:
        text = "a function";
        break;
      case napi_object: {
        bool is_error = false;
        if (napi_is_error(env, value, &is_error) != napi_ok || !is_error) {
          text = "an object that is not an Error";
        } else if (!detail::OwnMessage(env, value, &text)) {
          text = "an Error without a string message";
        }
        break;
      }
      default:
        text = "a value that cannot be read";
        break;
    }
  }
  ClearPendingException(env);
  return text;
}

}  // namespace node_bufferevent
