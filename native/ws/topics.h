// Pub/sub for server-side WebSocket connections: a registry of topic name → subscribers per
// scope (one scope per WebSocketServer), and the frame a publish shares among its subscribers.
// A publish frames the message once; every subscriber holds it (a large frame by reference) until
// the end of the libevent pass, and no JavaScript runs per subscriber. One registry per
// environment, owned by its EventLoop.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "../event_loop.h"
#include "frame_writer.h"

namespace node_bufferevent::ws {

class Publication;

// One published frame (header and payload in one heap block), reference-counted: each evbuffer that
// holds a part of it by evbuffer_add_reference holds one reference, dropped by Cleanup.
class SharedFrame {
 public:
  // Refcount 1 (the publisher's); null when the frame is not writable.
  static SharedFrame* Create(const FrameSpec& spec, const uint8_t* payload, size_t length);
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }
  void Ref() { ++references_; }
  void Unref() {
    if (--references_ == 0) delete this;
  }
  // An evbuffer_ref_cleanup_cb: `extra` is the SharedFrame.
  static void Cleanup(const void* data, size_t length, void* extra);

 private:
  SharedFrame() = default;
  std::vector<uint8_t> bytes_;
  size_t references_ = 1;
};

enum class Delivery {
  kWritten,  // the subscriber holds the frame for the end of the pass, or queued it
  kSkipped,  // over the subscriber's backpressure cap (counted on it)
  kPassed,   // closing or closed: not written, not counted
};

// A connection that can subscribe. Deliver must not call JavaScript nor touch the registry.
// A subscriber holds what a pass publishes to it and writes it all when the pass ends: it is a
// PassEndWriter too (one base, so a connection carries one vtable pointer for both).
class TopicSubscriber : public PassEndWriter {
 public:
  virtual Delivery Deliver(Publication& publication) = 0;

 protected:
  ~TopicSubscriber() = default;
  // The queued bytes over which a publish is skipped, as the last Subscribe gave it; only while
  // subscribed (Deliver is called only then).
  double publish_limit() const { return subscriptions_->publish_limit; }

 private:
  friend class TopicRegistry;
  struct Subscriptions {
    uint32_t scope = 0;
    double publish_limit = 0;
    std::vector<std::string> topics;  // in subscription order; short, so a vector is enough
  };
  // Only while subscribed to something: most connections never are, and an idle one pays 8 bytes.
  std::unique_ptr<Subscriptions> subscriptions_;
};

struct PublishCounts {
  size_t delivered = 0;
  size_t skipped = 0;
};

class TopicRegistry {
 public:
  // A subscriber belongs to the scope of its first subscription while it has any. False when it was
  // subscribed already.
  // `publish_limit`: see TopicSubscriber::publish_limit.
  bool Subscribe(TopicSubscriber* subscriber, uint32_t scope, const std::string& topic,
                 double publish_limit);
  bool Unsubscribe(TopicSubscriber* subscriber, const std::string& topic);
  static bool IsSubscribed(const TopicSubscriber* subscriber, const std::string& topic);
  static const std::vector<std::string>& TopicsOf(const TopicSubscriber* subscriber);
  // Leaves every topic; a topic left empty is removed. O(topics of the subscriber).
  void LeaveAll(TopicSubscriber* subscriber);
  PublishCounts Publish(uint32_t scope, const std::string& topic, Publication& publication);
  size_t TopicCount() const { return topics_.size(); }

 private:
  static std::string Key(uint32_t scope, const std::string& topic);
  void Remove(TopicSubscriber* subscriber, const std::string& topic);

  std::unordered_map<std::string, std::unordered_set<TopicSubscriber*>> topics_;
};

// The module functions: wsPublish(scope, topic, data: Buffer, binary, compress) → [delivered,
// skipped], and
// wsTopicCount() → topics alive in this environment (for leak tests).
napi_value PublishFromJs(napi_env env, napi_callback_info info);
napi_value TopicCountFromJs(napi_env env, napi_callback_info info);

}  // namespace node_bufferevent::ws
