// SendSlab: where JavaScript writes the frames a WebSocket listener sends to the connection it is
// being called for, without a call into the addon per send. src/websocket/send-slab.ts writes
// whole, unmasked, uncompressed frames (FIN, text or binary, at most 8 KiB of payload) into the
// slab's Buffer, and their total length into the first cell of a small Uint32Array; the
// second cell is the connection's queued bytes, set here when a dispatch starts, so that its
// limits hold without asking. The bytes always belong to the connection JavaScript is being called
// for (ws/connection.cc's Dispatch): the connection takes them when the call returns, and before
// anything else reaches the addon (another send, a close, a publish, a nested dispatch), so they
// keep their place among its frames.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace node_bufferevent::ws {

class SendSlab {
 public:
  static constexpr size_t kBytes = 64 * 1024;

  SendSlab() = default;
  SendSlab(const SendSlab&) = delete;
  SendSlab& operator=(const SendSlab&) = delete;
  ~SendSlab();

  // wsSendSlab() → [bytes: Buffer, state: Uint32Array(2)], made on the first call and the same
  // objects after: every copy of the JavaScript library loaded in this environment shares them.
  Napi::Value Get(const Napi::CallbackInfo& info);

  // Whether frames are waiting: one load, cheap enough for every entry into the addon.
  bool holding() const { return state_ != nullptr && state_[kUsed] != 0; }
  // The waiting frames, emptied: null when there are none, or when the count is beyond the slab
  // (only a caller writing the cell itself could make that), which drops them.
  const uint8_t* Take(size_t* length);
  // What the connection being called for has queued, for JavaScript's limit checks.
  void SetQueued(size_t bytes);

 private:
  static constexpr size_t kUsed = 0;
  static constexpr size_t kQueued = 1;

  napi_env env_ = nullptr;
  napi_ref pair_ = nullptr;  // the [bytes, state] array, which keeps both alive
  uint8_t* bytes_ = nullptr;
  uint32_t* state_ = nullptr;
};

}  // namespace node_bufferevent::ws
