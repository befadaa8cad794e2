// The JavaScript class of a wrapper, in place of Napi::ObjectWrap: the same shape (a constructor
// that builds the C++ object, methods that find it again from `this`, a finalizer that deletes it)
// but every napi call checked, because a wrapper's constructor and methods can be running when
// its worker is terminated. ObjectWrap wraps and unwraps through node-addon-api, which turns the
// refusal napi gives then into a fatal error (see util/napi_checked.h); here a refused wrap drops
// the half-built object, and a refused unwrap returns without calling the method.
//
// `T` derives from NativeClass<T>, declares `static constexpr ObjectKind kObjectKind` and a
// constructor taking `const Napi::CallbackInfo&`, and lists its members with InstanceMethod<&T::M>
// and InstanceGetter<&T::M>.
#pragma once

#include <napi.h>

#include <initializer_list>
#include <vector>

#include "native_object.h"

namespace node_bufferevent {

template <typename T>
class NativeClass {
 public:
  using Method = Napi::Value (T::*)(const Napi::CallbackInfo& info);

  struct Member {
    const char* name;
    napi_callback method;  // a prototype method ...
    napi_callback getter;  // ... or a read-only accessor
  };

  template <Method M>
  static Member InstanceMethod(const char* name) {
    return {name, &Call<M>, nullptr};
  }
  template <Method M>
  static Member InstanceGetter(const char* name) {
    return {name, nullptr, &Call<M>};
  }

  // The constructor function; empty when napi refused to define it (the environment is going
  // away, or an exception is pending).
  static Napi::Function DefineClass(Napi::Env env, const char* name,
                                    std::initializer_list<Member> members) {
    std::vector<napi_property_descriptor> properties;
    properties.reserve(members.size());
    for (const Member& member : members) {
      // napi_default like ObjectWrap's: not writable, enumerable or configurable.
      properties.push_back({member.name, nullptr, member.method, member.getter, nullptr, nullptr,
                            napi_default, nullptr});
    }
    napi_value constructor = nullptr;
    if (napi_define_class(env, name, NAPI_AUTO_LENGTH, Construct, nullptr, properties.size(),
                          properties.data(), &constructor) != napi_ok) {
      return Napi::Function();
    }
    return Napi::Function(env, constructor);
  }

  // The wrapper behind `object`; null when there is none or napi refused the unwrap. Never throws:
  // callers that take objects from JavaScript use UnwrapChecked (native_object.h), which proves
  // the class by type tag first.
  static T* Unwrap(napi_env env, napi_value object) {
    void* native = nullptr;
    if (object == nullptr || napi_unwrap(env, object, &native) != napi_ok) return nullptr;
    return static_cast<T*>(native);
  }

 private:
  static napi_value Construct(napi_env env, napi_callback_info callback_info) {
    napi_value new_target = nullptr;
    if (napi_get_new_target(env, callback_info, &new_target) != napi_ok) return nullptr;
    if (new_target == nullptr) {
      napi_throw_type_error(env, nullptr, "Class constructors cannot be invoked without 'new'");
      return nullptr;
    }
    Napi::CallbackInfo info(env, callback_info);
    T* instance = new T(info);
    // A constructor that failed left its exception pending; a refused wrap (the worker is being
    // terminated) leaves none. Either way JavaScript never gets this object.
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) != napi_ok || pending ||
        napi_wrap(env, info.This(), instance, Finalize, nullptr, nullptr) != napi_ok) {
      delete instance;
      return nullptr;
    }
    return info.This();
  }

  template <Method M>
  static napi_value Call(napi_env env, napi_callback_info callback_info) {
    Napi::CallbackInfo info(env, callback_info);
    T* instance = Unwrap(env, info.This());
    if (instance == nullptr) {
      // V8 already checks the receiver's class; what remains is a refused unwrap, and the throw
      // below is then refused as well (silently).
      ThrowWrongObject(info.Env(), "this", T::kObjectKind);
      return nullptr;
    }
    return (instance->*M)(info);
  }

  static void Finalize(napi_env, void* native, void*) { delete static_cast<T*>(native); }
};

}  // namespace node_bufferevent
