// Builds a native filter from the descriptor src/filters.ts makes.
#include "native_filter.h"

#include "../util/errors.h"
#include "../util/napi_checked.h"

namespace node_bufferevent {

std::unique_ptr<NativeFilter> NativeFilter::FromDescriptor(Napi::Env env, Napi::Object descriptor) {
  std::string name = GetString(descriptor, "native");
  Napi::Value options_value = GetProperty(descriptor, "options");
  if (options_value.IsEmpty()) return nullptr;  // refused: the worker is being terminated
  Napi::Object options = options_value.As<Napi::Object>();
  if (name == "deflate") return MakeZlibFilter(env, true, options);
  if (name == "inflate") return MakeZlibFilter(env, false, options);
  if (name == "lines") return MakeLinesFilter(env, options);
  ThrowError(env, "ERR_INVALID_FILTER", "unknown native filter '" + name + "'");
  return nullptr;
}

}  // namespace node_bufferevent
