// The topic registry and the shared frames of publish.
#include "topics.h"

#include <algorithm>

#include "../addon.h"
#include "../event_loop.h"
#include "../util/napi_checked.h"
#include "connection.h"
#include "frame.h"
#include "publication.h"

namespace node_bufferevent::ws {

SharedFrame* SharedFrame::Create(const FrameSpec& spec, const uint8_t* payload, size_t length) {
  uint8_t header[kMaxFrameHeaderSize];
  size_t header_length = EncodeFrameHeader(spec, length, header);
  if (header_length == 0) return nullptr;
  auto* frame = new SharedFrame();
  frame->bytes_.reserve(header_length + length);
  frame->bytes_.insert(frame->bytes_.end(), header, header + header_length);
  frame->bytes_.insert(frame->bytes_.end(), payload, payload + length);
  return frame;
}

void SharedFrame::Cleanup(const void*, size_t, void* extra) {
  static_cast<SharedFrame*>(extra)->Unref();
}

std::string TopicRegistry::Key(uint32_t scope, const std::string& topic) {
  std::string key(reinterpret_cast<const char*>(&scope), sizeof scope);
  key += topic;
  return key;
}

bool TopicRegistry::Subscribe(TopicSubscriber* subscriber, uint32_t scope, const std::string& topic,
                              double publish_limit) {
  if (subscriber->subscriptions_ == nullptr)
    subscriber->subscriptions_ = std::make_unique<TopicSubscriber::Subscriptions>();
  subscriber->subscriptions_->publish_limit = publish_limit;
  if (subscriber->subscriptions_->topics.empty()) subscriber->subscriptions_->scope = scope;
  if (IsSubscribed(subscriber, topic)) return false;
  topics_[Key(subscriber->subscriptions_->scope, topic)].insert(subscriber);
  subscriber->subscriptions_->topics.push_back(topic);
  return true;
}

bool TopicRegistry::Unsubscribe(TopicSubscriber* subscriber, const std::string& topic) {
  if (subscriber->subscriptions_ == nullptr) return false;
  auto& names = subscriber->subscriptions_->topics;
  auto found = std::find(names.begin(), names.end(), topic);
  if (found == names.end()) return false;
  names.erase(found);
  Remove(subscriber, topic);
  return true;
}

bool TopicRegistry::IsSubscribed(const TopicSubscriber* subscriber, const std::string& topic) {
  const auto& names = TopicsOf(subscriber);
  return std::find(names.begin(), names.end(), topic) != names.end();
}

const std::vector<std::string>& TopicRegistry::TopicsOf(const TopicSubscriber* subscriber) {
  static const std::vector<std::string> none;
  return subscriber->subscriptions_ == nullptr ? none : subscriber->subscriptions_->topics;
}

void TopicRegistry::LeaveAll(TopicSubscriber* subscriber) {
  if (subscriber->subscriptions_ == nullptr) return;
  for (const std::string& topic : subscriber->subscriptions_->topics) Remove(subscriber, topic);
  subscriber->subscriptions_.reset();
}

void TopicRegistry::Remove(TopicSubscriber* subscriber, const std::string& topic) {
  auto entry = topics_.find(Key(subscriber->subscriptions_->scope, topic));
  if (entry == topics_.end()) return;
  entry->second.erase(subscriber);
  if (entry->second.empty()) topics_.erase(entry);
}

PublishCounts TopicRegistry::Publish(uint32_t scope, const std::string& topic,
                                     Publication& publication) {
  PublishCounts counts;
  auto entry = topics_.find(Key(scope, topic));
  if (entry == topics_.end()) return counts;
  // Deliver never calls JavaScript, so the set cannot change while it is walked.
  for (TopicSubscriber* subscriber : entry->second) {
    switch (subscriber->Deliver(publication)) {
      case Delivery::kWritten:
        ++counts.delivered;
        break;
      case Delivery::kSkipped:
        ++counts.skipped;
        break;
      case Delivery::kPassed:
        break;
    }
  }
  return counts;
}

napi_value PublishFromJs(napi_env raw_env, napi_callback_info callback_info) {
  Napi::CallbackInfo info(raw_env, callback_info);
  Napi::Env env = info.Env();
  EventLoop* loop = RequireLoop(env);
  if (loop == nullptr) return nullptr;
  // A listener's sends to its own connection come before what it publishes.
  WebSocketConnection::TakeSendSlab(Addon::Of(env));
  // src/websocket/topics.ts has checked the arguments.
  uint32_t scope = info[0].As<Napi::Number>().Uint32Value();
  std::string topic = StringText(info[1]);
  auto data = info[2].As<Napi::Buffer<uint8_t>>();
  FrameSpec spec;
  spec.opcode = IsTruthy(info[3]) ? kBinary : kText;
  SharedFrame* frame = SharedFrame::Create(spec, data.Data(), data.Length());
  PublishCounts counts;
  if (frame != nullptr) {
    {
      Publication publication(frame, spec.opcode, data.Data(), data.Length(),
                              &Addon::Of(env).zlib_contexts, IsTruthy(info[4]));
      counts = loop->topics().Publish(scope, topic, publication);
    }
    frame->Unref();
  }
  // The connection being called for may have got the publish: its queued bytes grew.
  Addon& addon = Addon::Of(env);
  if (addon.dispatching_connection != nullptr)
    addon.dispatching_connection->RefreshSlabQueued(addon);
  napi_value array = nullptr;
  if (napi_create_array_with_length(env, 2, &array) != napi_ok) return nullptr;
  Napi::Object result(env, array);
  SetElement(result, 0, Napi::Number::New(env, static_cast<double>(counts.delivered)));
  SetElement(result, 1, Napi::Number::New(env, static_cast<double>(counts.skipped)));
  return result;
}

napi_value TopicCountFromJs(napi_env raw_env, napi_callback_info) {
  Napi::Env env(raw_env);
  EventLoop* loop = RequireLoop(env);
  if (loop == nullptr) return nullptr;
  return Napi::Number::New(env, static_cast<double>(loop->topics().TopicCount()));
}

}  // namespace node_bufferevent::ws
