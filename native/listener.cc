// evconnlistener with a back-off on accept errors. Accepted sockets are non-blocking and
// close-on-exec.
#include "listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "addon.h"
#include "event_loop.h"
#include "util/errors.h"
#include "util/js_callback.h"
#include "util/milliseconds.h"
#include "util/napi_checked.h"

namespace node_bufferevent {

namespace {

constexpr double kFirstBackoffMs = 50;
constexpr double kMaxBackoffMs = 2000;
enum class ListenerCallback { kAccept = 0, kError = 1 };

bool ParseAddress(int family, const std::string& address, int port, sockaddr_storage* storage,
                  socklen_t* length) {
  if (family == 6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    *length = sizeof(sockaddr_in6);
    return evutil_inet_pton(AF_INET6, address.c_str(), &sin6->sin6_addr) == 1;
  }
  auto* sin = reinterpret_cast<sockaddr_in*>(storage);
  sin->sin_family = AF_INET;
  sin->sin_port = htons(static_cast<uint16_t>(port));
  *length = sizeof(sockaddr_in);
  return evutil_inet_pton(AF_INET, address.c_str(), &sin->sin_addr) == 1;
}

void DescribeAddress(const sockaddr* address, std::string* text, int* port, int* family) {
  char buffer[INET6_ADDRSTRLEN] = "";
  if (address->sa_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<const sockaddr_in6*>(address);
    evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, buffer, sizeof buffer);
    *port = ntohs(sin6->sin6_port);
    *family = 6;
  } else if (address->sa_family == AF_INET) {
    auto* sin = reinterpret_cast<const sockaddr_in*>(address);
    evutil_inet_ntop(AF_INET, &sin->sin_addr, buffer, sizeof buffer);
    *port = ntohs(sin->sin_port);
    *family = 4;
  } else {
    *port = 0;
    *family = 0;
  }
  *text = buffer;
}

}  // namespace

Napi::Function ListenerWrap::Init(Napi::Env env) {
  return DefineClass(env, "Listener",
                     {
                         InstanceMethod<&ListenerWrap::Address>("address"),
                         InstanceMethod<&ListenerWrap::Enable>("enable"),
                         InstanceMethod<&ListenerWrap::Disable>("disable"),
                         InstanceMethod<&ListenerWrap::Fd>("fd"),
                         InstanceMethod<&ListenerWrap::Close>("close"),
                     });
}

// new Listener(owner, { family: 4|6, address, port, backlog, reusePort })
ListenerWrap::ListenerWrap(const Napi::CallbackInfo& info)
    : NativeObject(info, ObjectKind::kListener), backoff_ms_(kFirstBackoffMs) {
  if (loop() == nullptr) return;  // ERR_LOOP_INIT is pending
  Napi::Env env = info.Env();
  SetOwner(info[0].As<Napi::Object>(), env, "Listener");
  Napi::Object options = info[1].As<Napi::Object>();
  int family = GetInt32(options, "family", 4);
  std::string address = GetString(options, "address");
  int port = GetInt32(options, "port", 0);
  int backlog = GetInt32(options, "backlog", -1);
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (!ParseAddress(family, address, port, &storage, &length)) {
    NativeObject::Close();
    ThrowError(env, "ERR_INVALID_HOST", "'" + address + "' is not a numeric IP address");
    return;
  }
  unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;
  if (GetFlag(options, "reusePort")) flags |= LEV_OPT_REUSEABLE_PORT;
  listener_ =
      evconnlistener_new_bind(loop()->base(), OnAccept, this, flags, backlog,
                              reinterpret_cast<sockaddr*>(&storage), static_cast<int>(length));
  if (listener_ == nullptr) {
    int err = errno;
    NativeObject::Close();
    ThrowSystemError(env, "ERR_LISTEN", err, "bind",
                     "cannot listen on " + address + ":" + std::to_string(port));
    return;
  }
  evconnlistener_set_error_cb(listener_, OnAcceptError);
  retry_timer_ = evtimer_new(loop()->base(), OnRetry, this);
  KeepOwnerAlive(true);  // a listening socket is work in flight, like a Node server
  loop()->MarkDirty();
}

ListenerWrap::~ListenerWrap() { NativeObject::Close(); }

void ListenerWrap::ReleaseNative() {
  if (retry_timer_ != nullptr) event_free(retry_timer_);
  retry_timer_ = nullptr;
  if (listener_ != nullptr) evconnlistener_free(listener_);
  listener_ = nullptr;
}

bool ListenerWrap::CheckUsable(Napi::Env env) {
  if (listener_ != nullptr) return true;
  ThrowError(env, "ERR_FREED", "this listener was closed");
  return false;
}

void ListenerWrap::OnAccept(evconnlistener*, evutil_socket_t fd, sockaddr* address, int,
                            void* arg) {
  auto* self = static_cast<ListenerWrap*>(arg);
  self->backoff_ms_ = kFirstBackoffMs;
  EventLoop* loop = self->loop();
  if (loop == nullptr || loop->shutting_down()) {
    close(fd);
    return;
  }
  loop->NoteCallback();
  Napi::Env env(loop->env());
  Napi::HandleScope scope(env);
  Napi::Value owner = self->OwnerValue(env);
  if (owner.IsUndefined()) {
    close(fd);
    return;
  }
  std::string text;
  int port;
  int family;
  DescribeAddress(address, &text, &port, &family);
  CallIntoJs(env, self->async_context(), Addon::Of(env).listener_dispatch.Value(),
             {owner, Napi::Number::New(env, static_cast<int>(ListenerCallback::kAccept)),
              Napi::Number::New(env, fd), Napi::String::New(env, text),
              Napi::Number::New(env, port), Napi::Number::New(env, family)});
  // libevent accepts until the backlog is empty within this one callback, which no loop break can
  // cut short: under a flood of connections that was thousands of calls into JavaScript while
  // Node's own I/O waited. Once the budget is spent the listener pauses until Node had its turn.
  if (self->listener_ != nullptr && loop->BudgetSpent() && !self->paused_for_budget_) {
    self->paused_for_budget_ = true;
    evconnlistener_disable(self->listener_);
    loop->ResumeAtNextWakeup(self, ResumeAfterBudget);
  }
}

void ListenerWrap::ResumeAfterBudget(NativeObject* object) {
  auto* self = static_cast<ListenerWrap*>(object);
  self->paused_for_budget_ = false;
  if (self->listener_ != nullptr && self->user_enabled_ &&
      !evtimer_pending(self->retry_timer_, nullptr))
    evconnlistener_enable(self->listener_);
}

void ListenerWrap::OnAcceptError(evconnlistener* listener, void* arg) {
  int err = EVUTIL_SOCKET_ERROR();
  auto* self = static_cast<ListenerWrap*>(arg);
  evconnlistener_disable(listener);
  timeval delay = MillisecondsToTimeval(self->backoff_ms_);
  evtimer_add(self->retry_timer_, &delay);
  double waited = self->backoff_ms_;
  self->backoff_ms_ = std::min(self->backoff_ms_ * 2, kMaxBackoffMs);
  EventLoop* loop = self->loop();
  if (loop == nullptr || loop->shutting_down()) return;
  loop->NoteCallback();
  Napi::Env env(loop->env());
  Napi::HandleScope scope(env);
  Napi::Value owner = self->OwnerValue(env);
  if (owner.IsUndefined()) return;
  CallIntoJs(env, self->async_context(), Addon::Of(env).listener_dispatch.Value(),
             {owner, Napi::Number::New(env, static_cast<int>(ListenerCallback::kError)),
              Napi::Number::New(env, err), Napi::Number::New(env, waited)});
}

void ListenerWrap::OnRetry(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<ListenerWrap*>(arg);
  if (self->listener_ != nullptr && self->user_enabled_ && !self->paused_for_budget_)
    evconnlistener_enable(self->listener_);
}

Napi::Value ListenerWrap::Address(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (getsockname(evconnlistener_get_fd(listener_), reinterpret_cast<sockaddr*>(&storage),
                  &length) != 0) {
    return ThrowSystemError(env, "ERR_LISTEN", errno, "getsockname",
                            "cannot read the listening address");
  }
  std::string text;
  int port;
  int family;
  DescribeAddress(reinterpret_cast<sockaddr*>(&storage), &text, &port, &family);
  Napi::Object result = Napi::Object::New(env);
  SetProperty(result, "address", text);
  SetProperty(result, "port", port);
  SetProperty(result, "family", family == 6 ? "IPv6" : "IPv4");
  return result;
}

Napi::Value ListenerWrap::Enable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  user_enabled_ = true;
  if (!evtimer_pending(retry_timer_, nullptr) && !paused_for_budget_)
    evconnlistener_enable(listener_);
  loop()->MarkDirty();
  return env.Undefined();
}

Napi::Value ListenerWrap::Disable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  user_enabled_ = false;
  evconnlistener_disable(listener_);
  loop()->MarkDirty();
  return env.Undefined();
}

Napi::Value ListenerWrap::Fd(const Napi::CallbackInfo& info) {
  if (!CheckUsable(info.Env())) return Napi::Value();
  return Napi::Number::New(info.Env(), evconnlistener_get_fd(listener_));
}

Napi::Value ListenerWrap::Close(const Napi::CallbackInfo& info) {
  NativeObject::Close();
  return info.Env().Undefined();
}

}  // namespace node_bufferevent
