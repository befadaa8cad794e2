// The WebSocket connection's pub/sub half: delivering a publish's shared frame, and the topic
// methods JavaScript calls (the registry itself is in topics.cc).
#include <event2/buffer.h>

#include <string>
#include <vector>

#include "../event_loop.h"
#include "../util/napi_checked.h"
#include "connection.h"

namespace node_bufferevent::ws {

namespace {

// Frames up to this size are copied into a subscriber's held buffer, where several share one chain
// and one iovec; by reference, each costs a chain (an allocation) and an iovec, and one writev
// takes at most 128 iovecs.
constexpr size_t kCopiedFrameBytes = 1024;
// A subscriber holding this much sends it at once: larger writes gain nothing from waiting, and
// memory held per subscriber stays bounded.
constexpr size_t kEarlyFlushBytes = 64 * 1024;

}  // namespace

Delivery WebSocketConnection::Deliver(SharedFrame& frame) {
  if (closed() || bufferevent_ == nullptr || release_pending_ || session_.finished() ||
      session_.close_sent()) {
    return Delivery::kPassed;
  }
  if (static_cast<double>(QueuedBytes()) > backpressure_bytes_) {
    // Held frames are no sign of a slow reader: sent, they may all go to the kernel at once.
    if (cork_.length() > 0) cork_.Flush(bufferevent_);
    if (static_cast<double>(QueuedBytes()) > backpressure_bytes_) {
      ++skipped_publishes_;
      return Delivery::kSkipped;
    }
  }
  // Held until the pass ends, behind whatever this connection holds already. Without
  // write-through, frames wait in the output for libevent's write event anyway: nothing to gain.
  evbuffer* output = nullptr;
  if (bufferevent_->WriteThroughOn()) {
    if (!cork_.holding_until_pass_end()) {
      cork_.HoldUntilPassEnd();
      loop()->WriteAtPassEnd(this);
    }
    output = cork_.holder();
  }
  bool held = output != nullptr;
  // Not held (no write-through, or no buffer could be allocated): queued, as libevent does.
  if (!held) output = bufferevent_get_output(bufferevent_->bev());
  int status = 0;
  if (frame.size() <= kCopiedFrameBytes) {
    status = evbuffer_add(output, frame.data(), frame.size());
  } else {
    frame.Ref();
    status =
        evbuffer_add_reference(output, frame.data(), frame.size(), SharedFrame::Cleanup, &frame);
    if (status != 0) frame.Unref();
  }
  if (status != 0) {
    ++skipped_publishes_;  // libevent could not allocate: as good as over the cap
    return Delivery::kSkipped;
  }
  if (!held) {
    loop()->MarkDirty();
  } else if (cork_.length() >= kEarlyFlushBytes) {
    cork_.Flush(bufferevent_);
  }
  return Delivery::kWritten;
}

void WebSocketConnection::WriteAtPassEnd() {
  if (bufferevent_ != nullptr) {
    cork_.EndPass(bufferevent_);
  } else {
    cork_.Release();  // the bufferevent was released under us: nowhere to send
  }
}

Napi::Value WebSocketConnection::Subscribe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  bool added = loop()->topics().Subscribe(this, info[0].As<Napi::Number>().Uint32Value(),
                                          StringText(info[1]));
  return Napi::Boolean::New(env, added);
}

Napi::Value WebSocketConnection::Unsubscribe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed() || loop() == nullptr) return Napi::Boolean::New(env, false);
  return Napi::Boolean::New(env, loop()->topics().Unsubscribe(this, StringText(info[0])));
}

Napi::Value WebSocketConnection::IsSubscribed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), TopicRegistry::IsSubscribed(this, StringText(info[0])));
}

Napi::Value WebSocketConnection::Topics(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<std::string>& names = TopicRegistry::TopicsOf(this);
  napi_value array = nullptr;
  if (napi_create_array_with_length(env, names.size(), &array) != napi_ok) return Napi::Value();
  Napi::Object result(env, array);
  for (size_t i = 0; i < names.size(); ++i) {
    napi_value name = nullptr;
    if (napi_create_string_utf8(env, names[i].data(), names[i].size(), &name) == napi_ok)
      SetElement(result, static_cast<uint32_t>(i), name);
  }
  return result;
}

Napi::Value WebSocketConnection::SkippedPublishes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), skipped_publishes_);
}

}  // namespace node_bufferevent::ws
