// Per-environment state of the addon (each worker thread has its own): the event loop, the
// constructors of the wrapper classes, and the JavaScript functions the native side calls back.
#pragma once

#include <napi.h>

#include "event_loop.h"
#include "ws/message_batch.h"
#include "ws/send_slab.h"
#include "ws/zlib_context_pool.h"

namespace node_bufferevent {

namespace ws {
class WebSocketConnection;
}

// Not a Napi::Addon: its registration defines the functions through node-addon-api, which turns
// a refusal (a worker terminated while loading the module) into a fatal error; the module entry
// (addon.cc) defines them with checked napi calls instead (see util/napi_checked.h).
class Addon {
 public:
  Addon(Napi::Env env, Napi::Object exports);
  Addon(const Addon&) = delete;
  Addon& operator=(const Addon&) = delete;
  static Addon& Of(Napi::Env env) { return *env.GetInstanceData<Addon>(); }

  // The loop is created on first use so that loading the module alone costs nothing; null when
  // libevent could not be set up (the reason is thrown as ERR_LOOP_INIT).
  EventLoop* Loop(Napi::Env env);

  Napi::FunctionReference error_class;           // BuffereventError, registered by src/native.ts
  Napi::FunctionReference bufferevent_dispatch;  // (owner, kind, events, errno, code, message)
  Napi::FunctionReference listener_dispatch;     // (owner, kind, fd|errno, address, port, family)
  Napi::FunctionReference event_dispatch;        // (owner, fd, what)
  Napi::FunctionReference
      filter_dispatch;  // (owner, side, limit, mode) → 'ok' | 'need-more' | 'error'
  Napi::FunctionReference websocket_dispatch;  // (id, event, a, b, c): see ws/connection.h
  Napi::FunctionReference evbuffer_constructor;
  // The small WebSocket messages of the read being parsed, and the pool they are handed over in.
  ws::MessageBatch message_batch;
  // The WebSocket connection JavaScript is being called for, while that call lasts
  // (ws/connection.cc's Dispatch).
  ws::WebSocketConnection* dispatching_connection = nullptr;
  // Frames JavaScript sends to that connection without a call (see ws/send_slab.h).
  ws::SendSlab send_slab;
  // Idle zlib contexts of permessage-deflate ends without context takeover (see
  // ws/zlib_context_pool.h). Destroyed after every connection: instance data is finalized last.
  ws::ZlibContextPool zlib_contexts;

 private:
  using Method = Napi::Value (Addon::*)(const Napi::CallbackInfo& info);
  template <Method M>
  static napi_value Call(napi_env env, napi_callback_info info);

  Napi::Value SetHooks(const Napi::CallbackInfo& info);
  Napi::Value SendSlab(const Napi::CallbackInfo& info) { return send_slab.Get(info); }
  Napi::Value BaseInfo(const Napi::CallbackInfo& info);
  Napi::Value BaseStats(const Napi::CallbackInfo& info);
  static Napi::Object LibeventConstants(Napi::Env env);
  Napi::Value ConfigureDns(const Napi::CallbackInfo& info);
  Napi::Value SocketPair(const Napi::CallbackInfo& info);
  Napi::Value DupSocket(const Napi::CallbackInfo& info);

  EventLoop* loop_ = nullptr;
};

// Every wrapper method that needs the loop starts with this; it throws ERR_LOOP_INIT on failure.
EventLoop* RequireLoop(Napi::Env env);

}  // namespace node_bufferevent
