// The slab's making and hand-over (see send_slab.h).
#include "send_slab.h"

#include <algorithm>
#include <limits>

namespace node_bufferevent::ws {

SendSlab::~SendSlab() {
  // The environment is going away with its objects; the reference may still be deleted.
  if (pair_ != nullptr) napi_delete_reference(env_, pair_);
}

Napi::Value SendSlab::Get(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  napi_value pair = nullptr;
  if (pair_ != nullptr && napi_get_reference_value(env, pair_, &pair) == napi_ok && pair != nullptr)
    return Napi::Value(env, pair);
  void* bytes = nullptr;
  napi_value buffer = nullptr;
  napi_value cells = nullptr;
  napi_value state = nullptr;
  void* state_bytes = nullptr;
  // Refused only while the environment is going away (an exception is then pending).
  if (napi_create_buffer(env, kBytes, &bytes, &buffer) != napi_ok ||
      napi_create_arraybuffer(env, 2 * sizeof(uint32_t), &state_bytes, &cells) != napi_ok ||
      napi_create_typedarray(env, napi_uint32_array, 2, cells, 0, &state) != napi_ok ||
      napi_create_array_with_length(env, 2, &pair) != napi_ok ||
      napi_set_element(env, pair, 0, buffer) != napi_ok ||
      napi_set_element(env, pair, 1, state) != napi_ok ||
      napi_create_reference(env, pair, 1, &pair_) != napi_ok) {
    return Napi::Value();
  }
  env_ = env;
  bytes_ = static_cast<uint8_t*>(bytes);
  state_ = static_cast<uint32_t*>(state_bytes);
  state_[kUsed] = 0;
  state_[kQueued] = 0;
  return Napi::Value(env, pair);
}

const uint8_t* SendSlab::Take(size_t* length) {
  if (!holding()) return nullptr;
  size_t used = state_[kUsed];
  state_[kUsed] = 0;
  if (used > kBytes) return nullptr;
  *length = used;
  return bytes_;
}

void SendSlab::SetQueued(size_t bytes) {
  if (state_ == nullptr) return;
  state_[kQueued] =
      static_cast<uint32_t>(std::min<size_t>(bytes, std::numeric_limits<uint32_t>::max()));
}

}  // namespace node_bufferevent::ws
