// The WebSocket connection's pub/sub half: delivering a publish's shared frame, and the topic
// methods JavaScript calls (the registry itself is in topics.cc).
#include <event2/buffer.h>
#include <sys/uio.h>

#include <string>
#include <vector>

#include "../event_loop.h"
#include "../util/napi_checked.h"
#include "connection.h"

namespace node_bufferevent::ws {

Delivery WebSocketConnection::Deliver(SharedFrame& frame) {
  if (closed() || bufferevent_ == nullptr || release_pending_ || session_.finished() ||
      session_.close_sent()) {
    return Delivery::kPassed;
  }
  if (static_cast<double>(QueuedBytes()) > backpressure_bytes_) {
    ++skipped_publishes_;
    return Delivery::kSkipped;
  }
  // Published from a handler of this connection's batch: held in order with its other frames.
  evbuffer* holder = cork_.holder();
  size_t sent = 0;
  if (holder == nullptr) {
    iovec part = {const_cast<uint8_t*>(frame.data()), frame.size()};
    sent = bufferevent_->WriteThroughParts(&part, 1);
    if (sent == frame.size()) return Delivery::kWritten;
  }
  evbuffer* output = holder != nullptr ? holder : bufferevent_get_output(bufferevent_->bev());
  frame.Ref();
  if (evbuffer_add_reference(output, frame.data() + sent, frame.size() - sent, SharedFrame::Cleanup,
                             &frame) != 0) {
    frame.Unref();
    ++skipped_publishes_;  // libevent could not allocate: as good as over the cap
    return Delivery::kSkipped;
  }
  loop()->MarkDirty();
  return Delivery::kWritten;
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
