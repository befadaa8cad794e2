// Module entry: registers the wrapper classes and the loop-level functions for each environment.
#include "addon.h"

#include <event2/util.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>

#include "buffer_event.h"
#include "dns_options.h"
#include "evbuffer.h"
#include "event.h"
#include "filters/native_filter.h"
#include "inotify_watch.h"
#include "listener.h"
#include "memory_reduction.h"
#include "rate_limit.h"
#include "util/errors.h"
#include "util/libevent_allocator.h"
#include "util/napi_checked.h"
#include "ws/connection.h"
#include "ws/connection_table.h"
#include "ws/handshake_head.h"
#include "ws/topics.h"

namespace node_bufferevent {

namespace {

// mallocStats() → { inUse, free }: glibc malloc's bytes in use (small blocks and mmapped ones)
// and held free, for the memory benchmark and tests (what libevent and the addon cost per object,
// which V8's heap figures do not see). Not public API.
napi_value MallocStats(napi_env env, napi_callback_info) {
  struct mallinfo2 info = mallinfo2();
  Napi::Object result = Napi::Object::New(env);
  SetProperty(result, "inUse", static_cast<double>(info.uordblks + info.hblkhd));
  SetProperty(result, "free", static_cast<double>(info.fordblks));
  return result;
}

// wsZlibContexts(parkIdleMs?) → { held, idle, created, parked }: permessage-deflate's contexts on
// this thread — held with takeover, idle in the pool, made so far — after parking (when a number
// is given) those unused for that long; `parked` is how many were. For tests and benchmarks, which
// cannot wait for the sweep. Not public API.
napi_value ZlibContexts(napi_env env, napi_callback_info callback_info) {
  Napi::CallbackInfo info(env, callback_info);
  ws::ZlibContextPool& pool = Addon::Of(info.Env()).zlib_contexts;
  size_t parked = 0;
  if (info[0].IsNumber()) {
    double idle_ms = info[0].As<Napi::Number>().DoubleValue();
    if (idle_ms >= 0 && idle_ms < 1e15) parked = pool.ParkIdle(static_cast<uint64_t>(idle_ms));
  }
  Napi::Object result = Napi::Object::New(env);
  SetProperty(result, "held", static_cast<double>(pool.holder_count()));
  SetProperty(result, "idle", static_cast<double>(pool.idle_count()));
  SetProperty(result, "created", static_cast<double>(pool.created_count()));
  SetProperty(result, "parked", static_cast<double>(parked));
  return result;
}

}  // namespace

// The functions take the addon from the environment's instance data, which napi hands out without
// a refusal.
template <Addon::Method M>
napi_value Addon::Call(napi_env env, napi_callback_info callback_info) {
  Napi::CallbackInfo info(env, callback_info);
  return (Of(info.Env()).*M)(info);
}

// Every definition is checked: a refusal (the worker is being terminated while loading the module)
// leaves the module incomplete, and nobody is left to use it.
Addon::Addon(Napi::Env env, Napi::Object exports) {
  InstallLibeventAllocator();  // before libevent allocates anything in this process
  const napi_property_descriptor functions[] = {
      Function("setHooks", Call<&Addon::SetHooks>),
      Function("wsSendSlab", Call<&Addon::SendSlab>),
      Function("baseInfo", Call<&Addon::BaseInfo>),
      Function("baseStats", Call<&Addon::BaseStats>),
      Function("configureDns", Call<&Addon::ConfigureDns>),
      Function("socketpair", Call<&Addon::SocketPair>),
      Function("dupSocket", Call<&Addon::DupSocket>),
      Function("wsPublish", ws::PublishFromJs),
      Function("wsTopicCount", ws::TopicCountFromJs),
      Function("wsConnectionObjects", ws::ConnectionObjectsFromJs),
      Function("mallocStats", MallocStats),
      Function("reduceMemory", ReduceMemoryFromJs),
      Function("releaseFreeMemory", ReleaseFreeMemoryFromJs),
      Function("wsZlibContexts", ZlibContexts),
      Function("wsReadRequestHead", ws::ReadRequestHeadFromJs),
      Function("wsAcceptKey", ws::AcceptKeyFromJs),
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  SetProperty(exports, "EvBuffer", EvBufferWrap::Init(env, *this));
  SetProperty(exports, "Bufferevent", BuffereventWrap::Init(env));
  SetProperty(exports, "Listener", ListenerWrap::Init(env));
  SetProperty(exports, "Event", EventWrap::Init(env));
  SetProperty(exports, "Inotify", InotifyWrap::Init(env));
  SetProperty(exports, "inotifyConstants", InotifyWrap::Constants(env));
  SetProperty(exports, "RateLimitGroup", RateLimitGroupWrap::Init(env));
  SetProperty(exports, "WebSocketConnection", ws::WebSocketConnection::Init(env));
  SetProperty(exports, "libeventVersion", event_get_version());
  SetProperty(exports, "libeventConstants", LibeventConstants(env));
#ifdef BUFFEREVENT_SANITIZE_BUILD
  SetProperty(exports, "sanitizerBuild", Napi::Boolean::New(env, true));
#else
  SetProperty(exports, "sanitizerBuild", Napi::Boolean::New(env, false));
#endif
}

// libevent's flag values as its headers define them, so a test can check src/constants.ts against
// the library actually built against.
Napi::Object Addon::LibeventConstants(Napi::Env env) {
  Napi::Object result = Napi::Object::New(env);
  auto set = [&](const char* name, int value) { SetProperty(result, name, value); };
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
    } else {
      EventLoop* loop = loop_;
      zlib_contexts.SetSweepRequest([loop] { loop->ScheduleContextSweep(); });
    }
  }
  return loop_;
}

EventLoop* RequireLoop(Napi::Env env) { return Addon::Of(env).Loop(env); }

Napi::Value Addon::SetHooks(const Napi::CallbackInfo& info) {
  // Each TypeScript module registers its own dispatcher when it loads; only given keys change.
  Napi::Object hooks = info[0].As<Napi::Object>();
  auto take = [&](const char* key, Napi::FunctionReference& slot) {
    if (!HasProperty(hooks, key)) return;
    Napi::Value hook = GetProperty(hooks, key);
    if (!hook.IsEmpty()) slot = Napi::Persistent(hook.As<Napi::Function>());
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
  SetProperty(result, "method", loop->method());
  SetProperty(result, "priorities", EventLoop::kUserPriorities);
  SetProperty(result, "defaultPriority", EventLoop::kPriorityQueues / 2);
  return result;
}

Napi::Value Addon::BaseStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EventLoop* loop = Loop(env);
  if (loop == nullptr) return Napi::Value();
  LoopStats stats = loop->Stats();
  Napi::Object result = Napi::Object::New(env);
  SetProperty(result, "passes", static_cast<double>(stats.passes));
  SetProperty(result, "wakeups", static_cast<double>(stats.wakeups));
  SetProperty(result, "callbacks", static_cast<double>(stats.callbacks));
  SetProperty(result, "budgetBreaks", static_cast<double>(stats.budget_breaks));
  SetProperty(result, "writeThroughs", static_cast<double>(stats.write_throughs));
  SetProperty(result, "liveBufferevents", stats.live_bufferevents);
  SetProperty(result, "liveListeners", stats.live_listeners);
  SetProperty(result, "liveEvents", stats.live_events);
  SetProperty(result, "liveEvBuffers", stats.live_evbuffers);
  SetProperty(result, "liveWebSockets", stats.live_websockets);
  SetProperty(result, "liveRateLimitGroups", stats.live_rate_limit_groups);
  SetProperty(result, "addedEvents", stats.added_events);
  SetProperty(result, "activeEvents", stats.active_events);
  SetProperty(result, "cachedChainBytes", static_cast<double>(stats.cached_chain_bytes));
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
  SetElement(result, 0, Napi::Number::New(env, fds[0]));
  SetElement(result, 1, Napi::Number::New(env, fds[1]));
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

namespace {

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  auto* addon = new node_bufferevent::Addon(env, exports);
  env.SetInstanceData(addon);  // deleted with the environment
  return exports;
}

}  // namespace

NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitModule)
