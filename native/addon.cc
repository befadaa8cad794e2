// Module entry: registers the wrapper classes and the loop-level functions for each environment.
#include "addon.h"

#include <event2/util.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>

#include "buffer_event.h"
#include "dns_options.h"
#include "evbuffer.h"
#include "event.h"
#include "filters/native_filter.h"
#include "listener.h"
#include "rate_limit.h"
#include "util/errors.h"
#include "util/libevent_allocator.h"
#include "ws/connection.h"

namespace node_bufferevent {

Addon::Addon(Napi::Env env, Napi::Object exports) {
  InstallLibeventAllocator();  // before libevent allocates anything in this process
  DefineAddon(exports, {
                           InstanceMethod("setHooks", &Addon::SetHooks),
                           InstanceMethod("baseInfo", &Addon::BaseInfo),
                           InstanceMethod("baseStats", &Addon::BaseStats),
                           InstanceMethod("configureDns", &Addon::ConfigureDns),
                           InstanceMethod("socketpair", &Addon::SocketPair),
                           InstanceMethod("dupSocket", &Addon::DupSocket),
                       });
  exports.Set("EvBuffer", EvBufferWrap::Init(env, *this));
  exports.Set("Bufferevent", BuffereventWrap::Init(env));
  exports.Set("Listener", ListenerWrap::Init(env));
  exports.Set("Event", EventWrap::Init(env));
  exports.Set("RateLimitGroup", RateLimitGroupWrap::Init(env));
  exports.Set("WebSocketConnection", ws::WebSocketConnection::Init(env));
  exports.Set("libeventVersion", Napi::String::New(env, event_get_version()));
  exports.Set("libeventConstants", LibeventConstants(env));
#ifdef BUFFEREVENT_SANITIZE_BUILD
  exports.Set("sanitizerBuild", Napi::Boolean::New(env, true));
#else
  exports.Set("sanitizerBuild", Napi::Boolean::New(env, false));
#endif
}

// libevent's flag values as its headers define them, so a test can check src/constants.ts against
// the library actually built against.
Napi::Object Addon::LibeventConstants(Napi::Env env) {
  Napi::Object result = Napi::Object::New(env);
  auto set = [&](const char* name, int value) { result.Set(name, Napi::Number::New(env, value)); };
  set("EV_TIMEOUT", EV_TIMEOUT);
  set("EV_READ", EV_READ);
  set("EV_WRITE", EV_WRITE);
  set("EV_SIGNAL", EV_SIGNAL);
  set("EV_PERSIST", EV_PERSIST);
  set("EV_ET", EV_ET);
  set("EV_CLOSED", EV_CLOSED);
  set("BEV_EVENT_READING", BEV_EVENT_READING);
  set("BEV_EVENT_WRITING", BEV_EVENT_WRITING);
  set("BEV_EVENT_EOF", BEV_EVENT_EOF);
  set("BEV_EVENT_ERROR", BEV_EVENT_ERROR);
  set("BEV_EVENT_TIMEOUT", BEV_EVENT_TIMEOUT);
  set("BEV_EVENT_CONNECTED", BEV_EVENT_CONNECTED);
  set("BEV_NORMAL", BEV_NORMAL);
  set("BEV_FLUSH", BEV_FLUSH);
  set("BEV_FINISHED", BEV_FINISHED);
  set("EVBUFFER_EOL_ANY", EVBUFFER_EOL_ANY);
  set("EVBUFFER_EOL_CRLF", EVBUFFER_EOL_CRLF);
  set("EVBUFFER_EOL_CRLF_STRICT", EVBUFFER_EOL_CRLF_STRICT);
  set("EVBUFFER_EOL_LF", EVBUFFER_EOL_LF);
  set("EVBUFFER_EOL_NUL", EVBUFFER_EOL_NUL);
  return result;
}

EventLoop* Addon::Loop(Napi::Env env) {
  if (loop_ == nullptr) {
    std::string error;
    loop_ = EventLoop::Create(env, &error);
    if (loop_ == nullptr) {
      ThrowError(env, "ERR_LOOP_INIT", "cannot run libevent inside Node's loop: " + error);
    }
  }
  return loop_;
}

EventLoop* RequireLoop(Napi::Env env) { return Addon::Of(env).Loop(env); }

Napi::Value Addon::SetHooks(const Napi::CallbackInfo& info) {
  // Each TypeScript module registers its own dispatcher when it loads; only given keys change.
  Napi::Object hooks = info[0].As<Napi::Object>();
  auto take = [&](const char* key, Napi::FunctionReference& slot) {
    if (hooks.Has(key)) slot = Napi::Persistent(hooks.Get(key).As<Napi::Function>());
  };
  take("errorClass", error_class);
  take("bufferevent", bufferevent_dispatch);
  take("listener", listener_dispatch);
  take("event", event_dispatch);
  take("filter", filter_dispatch);
  take("websocket", websocket_dispatch);
  return info.Env().Undefined();
}

Napi::Value Addon::BaseInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EventLoop* loop = Loop(env);
  if (loop == nullptr) return Napi::Value();
  Napi::Object result = Napi::Object::New(env);
  result.Set("method", loop->method());
  result.Set("priorities", EventLoop::kUserPriorities);
  result.Set("defaultPriority", EventLoop::kPriorityQueues / 2);
  return result;
}

Napi::Value Addon::BaseStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EventLoop* loop = Loop(env);
  if (loop == nullptr) return Napi::Value();
  LoopStats stats = loop->Stats();
  Napi::Object result = Napi::Object::New(env);
  result.Set("passes", static_cast<double>(stats.passes));
  result.Set("wakeups", static_cast<double>(stats.wakeups));
  result.Set("callbacks", static_cast<double>(stats.callbacks));
  result.Set("budgetBreaks", static_cast<double>(stats.budget_breaks));
  result.Set("liveBufferevents", stats.live_bufferevents);
  result.Set("liveListeners", stats.live_listeners);
  result.Set("liveEvents", stats.live_events);
  result.Set("liveEvBuffers", stats.live_evbuffers);
  result.Set("liveWebSockets", stats.live_websockets);
  result.Set("liveRateLimitGroups", stats.live_rate_limit_groups);
  result.Set("addedEvents", stats.added_events);
  result.Set("activeEvents", stats.active_events);
  return result;
}

Napi::Value Addon::ConfigureDns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EventLoop* loop = Loop(env);
  if (loop == nullptr) return Napi::Value();
  return ApplyDnsOptions(env, loop, info[0].As<Napi::Object>());
}

Napi::Value Addon::SocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  evutil_socket_t fds[2];
  if (evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
    return ThrowSystemError(env, "ERR_SOCKETPAIR", errno, "socketpair",
                            "cannot create a socket pair");
  }
  evutil_make_socket_nonblocking(fds[0]);
  evutil_make_socket_nonblocking(fds[1]);
  evutil_make_socket_closeonexec(fds[0]);
  evutil_make_socket_closeonexec(fds[1]);
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, fds[0]);
  result.Set(1u, fds[1]);
  return result;
}

// A second descriptor for a socket Node owns, so the socket can be taken over (handleUpgrade): the
// caller then destroys Node's socket, which closes only Node's descriptor.
Napi::Value Addon::DupSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0)
    return ThrowSystemError(env, "ERR_DUP", errno, "fcntl", "cannot duplicate the socket");
  evutil_make_socket_nonblocking(copy);
  return Napi::Number::New(env, copy);
}

}  // namespace node_bufferevent

using BuffereventAddon = node_bufferevent::Addon;
NODE_API_ADDON(BuffereventAddon)
