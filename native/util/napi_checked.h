// Checked napi calls for every path that can run while the environment is being torn down: native
// methods and constructors called from JavaScript, libevent callbacks that call into it, cleanup.
//
// When a worker is terminated, Node refuses, from another thread and at any moment, every napi
// function that begins with NAPI_PREAMBLE (in Node's src/js_native_api_v8.cc and src/node_api.cc:
// property get/set/has, buffer and external creation, new_instance, wrap/unwrap, type tags,
// coercions, calls). node-addon-api answers such a refusal by throwing, and the throw is refused
// too, which it turns into a fatal error of the whole process. The helpers here make those calls
// directly and turn a failure into an empty value or the given default: they never throw and never
// abort. An exception a call did raise (a throwing getter) stays pending for JavaScript to see.
// Callers check empty values before use.
#pragma once

#include <napi.h>

#include <string>

namespace node_bufferevent {

// A function property for napi_define_properties: not writable, enumerable or configurable.
inline napi_property_descriptor Function(const char* name, napi_callback callback) {
  return {name, nullptr, callback, nullptr, nullptr, nullptr, napi_default, nullptr};
}

// --- Reading option objects (src/ builds them: plain data properties) ---

// `object[key]`; empty when refused.
inline Napi::Value GetProperty(Napi::Object object, const char* key) {
  napi_value value = nullptr;
  if (object.IsEmpty() || napi_get_named_property(object.Env(), object, key, &value) != napi_ok) {
    return Napi::Value();
  }
  return Napi::Value(object.Env(), value);
}

// `key in object`; false when refused.
inline bool HasProperty(Napi::Object object, const char* key) {
  bool has = false;
  if (object.IsEmpty() || napi_has_named_property(object.Env(), object, key, &has) != napi_ok)
    return false;
  return has;
}

// Boolean(value) by each primitive's own rule, without napi_coerce_to_bool (refused while
// terminating); an empty value is false.
inline bool IsTruthy(Napi::Value value) {
  napi_env env = value.Env();
  napi_valuetype type;
  if (value.IsEmpty() || napi_typeof(env, value, &type) != napi_ok) return false;
  switch (type) {
    case napi_undefined:
    case napi_null:
      return false;
    case napi_boolean: {
      bool result = false;
      napi_get_value_bool(env, value, &result);
      return result;
    }
    case napi_number: {
      double number = 0;
      napi_get_value_double(env, value, &number);
      return number != 0 && number == number;  // NaN is falsy
    }
    case napi_string: {
      size_t length = 0;
      napi_get_value_string_utf8(env, value, nullptr, 0, &length);
      return length > 0;
    }
    case napi_bigint: {
      size_t words = 0;
      napi_get_value_bigint_words(env, value, nullptr, &words, nullptr);
      return words > 0;  // 0n has no words
    }
    default:
      return true;  // objects, functions, symbols
  }
}

// Boolean(object[key]); false when refused.
inline bool GetFlag(Napi::Object object, const char* key) {
  return IsTruthy(GetProperty(object, key));
}

// `object[key]` as a number; `fallback` when refused or not a number.
inline double GetNumber(Napi::Object object, const char* key, double fallback) {
  Napi::Value value = GetProperty(object, key);
  double result = 0;
  if (value.IsEmpty() || napi_get_value_double(value.Env(), value, &result) != napi_ok)
    return fallback;
  return result;
}

inline int32_t GetInt32(Napi::Object object, const char* key, int32_t fallback) {
  Napi::Value value = GetProperty(object, key);
  int32_t result = 0;
  if (value.IsEmpty() || napi_get_value_int32(value.Env(), value, &result) != napi_ok)
    return fallback;
  return result;
}

inline uint32_t GetUint32(Napi::Object object, const char* key, uint32_t fallback) {
  Napi::Value value = GetProperty(object, key);
  uint32_t result = 0;
  if (value.IsEmpty() || napi_get_value_uint32(value.Env(), value, &result) != napi_ok)
    return fallback;
  return result;
}

// The UTF-8 text of a string value; empty when `value` is empty or not a string.
inline std::string StringText(Napi::Value value) {
  size_t length = 0;
  if (value.IsEmpty() ||
      napi_get_value_string_utf8(value.Env(), value, nullptr, 0, &length) != napi_ok) {
    return std::string();
  }
  std::string text(length + 1, '\0');
  if (napi_get_value_string_utf8(value.Env(), value, text.data(), text.size(), &length) != napi_ok)
    return std::string();
  text.resize(length);
  return text;
}

// `object[key]` as text; empty when refused or not a string.
inline std::string GetString(Napi::Object object, const char* key) {
  return StringText(GetProperty(object, key));
}

// --- Building results (a refused set leaves the property out: nobody is left to read it) ---

inline void SetProperty(Napi::Object object, const char* key, napi_value value) {
  if (!object.IsEmpty() && value != nullptr)
    napi_set_named_property(object.Env(), object, key, value);
}

inline void SetProperty(Napi::Object object, const char* key, Napi::Value value) {
  SetProperty(object, key, static_cast<napi_value>(value));
}

inline void SetProperty(Napi::Object object, const char* key, double number) {
  napi_value value = nullptr;
  if (napi_create_double(object.Env(), number, &value) == napi_ok) SetProperty(object, key, value);
}

inline void SetProperty(Napi::Object object, const char* key, const std::string& text) {
  napi_value value = nullptr;
  if (napi_create_string_utf8(object.Env(), text.data(), text.size(), &value) == napi_ok)
    SetProperty(object, key, value);
}

inline void SetProperty(Napi::Object object, const char* key, const char* text) {
  napi_value value = nullptr;
  if (napi_create_string_utf8(object.Env(), text, NAPI_AUTO_LENGTH, &value) == napi_ok)
    SetProperty(object, key, value);
}

inline void SetElement(Napi::Object array, uint32_t index, napi_value value) {
  if (!array.IsEmpty() && value != nullptr) napi_set_element(array.Env(), array, index, value);
}

// --- Making objects ---

// A new Buffer of `length` bytes (uninitialized); empty when refused.
inline Napi::Buffer<uint8_t> NewBuffer(Napi::Env env, size_t length) {
  napi_value value = nullptr;
  if (napi_create_buffer(env, length, nullptr, &value) != napi_ok) value = nullptr;
  return Napi::Buffer<uint8_t>(env, value);
}

// A new Buffer holding a copy of `length` bytes at `data`; empty when refused.
inline Napi::Buffer<uint8_t> CopyBuffer(Napi::Env env, const void* data, size_t length) {
  napi_value value = nullptr;
  if (napi_create_buffer_copy(env, length, data, nullptr, &value) != napi_ok) value = nullptr;
  return Napi::Buffer<uint8_t>(env, value);
}

// A Buffer over `data`, which `finalize(env, data, hint)` releases once the Buffer is collected.
// Empty when refused: `finalize` will then never run and the caller still owns `data`.
inline Napi::Buffer<uint8_t> ExternalBuffer(Napi::Env env, void* data, size_t length,
                                            napi_finalize finalize, void* hint) {
  napi_value value = nullptr;
  if (napi_create_external_buffer(env, length, data, finalize, hint, &value) != napi_ok)
    value = nullptr;
  return Napi::Buffer<uint8_t>(env, value);
}

// A JavaScript value carrying a native pointer; empty when refused.
inline Napi::Value NewExternal(Napi::Env env, void* data) {
  napi_value value = nullptr;
  if (napi_create_external(env, data, nullptr, nullptr, &value) != napi_ok) return Napi::Value();
  return Napi::Value(env, value);
}

// `new constructor(...args)`; empty when refused or when the constructor threw (its exception is
// then pending).
inline Napi::Object NewInstance(Napi::Env env, napi_value constructor,
                                std::initializer_list<napi_value> args) {
  napi_value value = nullptr;
  if (constructor == nullptr ||
      napi_new_instance(env, constructor, args.size(), args.begin(), &value) != napi_ok) {
    return Napi::Object();
  }
  return Napi::Object(env, value);
}

}  // namespace node_bufferevent
