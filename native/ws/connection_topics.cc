// The WebSocket connection's pub/sub half: delivering a publish's shared frame, and the topic
// methods JavaScript calls (the registry itself is in topics.cc).
#include <event2/buffer.h>

#include <string>
#include <vector>

#include "../event_loop.h"
#include "../util/napi_checked.h"
#include "connection.h"
#include "frame_writer.h"
#include "publication.h"

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

Delivery WebSocketConnection::Deliver(Publication& publication) {
  if (closed() || bufferevent() == nullptr || release_pending_ || finished() || close_sent()) {
    return Delivery::kPassed;
  }
  if (static_cast<double>(QueuedBytes()) > publish_limit()) {
    // Held frames are no sign of a slow reader: sent, they may all go to the kernel at once.
    if (cork_.length() > 0) cork_.Flush(bufferevent());
    if (static_cast<double>(QueuedBytes()) > publish_limit()) {
      ++rare().skipped_publishes;
      return Delivery::kSkipped;
    }
  }
  if (sending_fragments_) {
    evbuffer*& after_fragments = rare().after_fragments;
    if (after_fragments == nullptr) after_fragments = evbuffer_new();
    if (after_fragments == nullptr || !WritePublication(publication, after_fragments)) {
      ++rare().skipped_publishes;
      return Delivery::kSkipped;
    }
    return Delivery::kWritten;
  }
  // Held until the pass ends, behind whatever this connection holds already. Without
  // write-through, frames wait in the output for libevent's write event anyway: nothing to gain.
  evbuffer* output = nullptr;
  if (bufferevent()->WriteThroughOn()) {
    if (!cork_.holding_until_pass_end()) {
      cork_.HoldUntilPassEnd();
      loop()->WriteAtPassEnd(this);
    }
    output = cork_.holder();
  }
  bool held = output != nullptr;
  // Not held (no write-through, or no buffer could be allocated): queued, as libevent does.
  if (!held) output = bufferevent_get_output(bufferevent()->bev());
  if (!WritePublication(publication, output)) {
    ++rare().skipped_publishes;  // libevent or zlib could not allocate: as good as over the cap
    return Delivery::kSkipped;
  }
  if (!held) {
    loop()->MarkDirty();
  } else if (cork_.length() >= kEarlyFlushBytes) {
    cork_.Flush(bufferevent());
  }
  return Delivery::kWritten;
}

bool WebSocketConnection::WritePublication(Publication& publication, evbuffer* output) {
  SharedFrame* frame = &publication.plain();
  MessageDeflater* deflater = this->deflater();
  if (deflater != nullptr && publication.compressible() &&
      static_cast<double>(publication.length()) >= rare_->deflate_threshold) {
    if (deflater->settings().no_context_takeover) {
      // zlib failing leaves the uncompressed frame, which is always allowed.
      if (SharedFrame* shared = publication.CompressedFor(deflater->settings())) frame = shared;
    } else if (!(sending_fragments_ && sending_compressed_)) {
      // With context takeover the output depends on this connection's history: its own deflater
      // compresses it (unless it is in the middle of a compressed message of the connection's).
      evbuffer* compressed = evbuffer_new();
      if (compressed == nullptr) return false;
      std::string error;
      bool written = deflater->Compress(publication.payload(), publication.length(), true,
                                        compressed, &error) == DeflateResult::kOk;
      if (written) {
        FrameSpec spec;
        spec.opcode = publication.opcode();
        spec.rsv1 = true;
        uint8_t header[kMaxFrameHeaderSize];
        size_t header_length = EncodeFrameHeader(spec, evbuffer_get_length(compressed), header);
        written = header_length > 0 && evbuffer_add(output, header, header_length) == 0 &&
                  evbuffer_add_buffer(output, compressed) == 0;
      }
      evbuffer_free(compressed);
      return written;
    }
  }
  if (frame->size() <= kCopiedFrameBytes)
    return evbuffer_add(output, frame->data(), frame->size()) == 0;
  frame->Ref();
  if (evbuffer_add_reference(output, frame->data(), frame->size(), SharedFrame::Cleanup, frame) ==
      0) {
    return true;
  }
  frame->Unref();
  return false;
}

void WebSocketConnection::SendAfterFragments() {
  if (rare_ == nullptr || rare_->after_fragments == nullptr) return;
  evbuffer* output = cork_.holder();
  bool held = output != nullptr;
  if (!held) output = bufferevent_get_output(bufferevent()->bev());
  evbuffer_add_buffer(output, rare_->after_fragments);
  evbuffer_free(rare_->after_fragments);
  rare_->after_fragments = nullptr;
  if (!held) loop()->MarkDirty();
}

void WebSocketConnection::WriteAtPassEnd() {
  if (bufferevent() != nullptr) {
    cork_.EndPass(bufferevent());
  } else {
    cork_.Release();  // the bufferevent was released under us: nowhere to send
  }
}

Napi::Value WebSocketConnection::Subscribe(const Arguments& args) {
  Napi::Env env = args.Env();
  if (!CheckUsable(env)) return Napi::Value();
  bool added =
      loop()->topics().Subscribe(this, args[0].As<Napi::Number>().Uint32Value(),
                                 StringText(args[1]), args[2].As<Napi::Number>().DoubleValue());
  return Napi::Boolean::New(env, added);
}

Napi::Value WebSocketConnection::Unsubscribe(const Arguments& args) {
  Napi::Env env = args.Env();
  if (closed() || loop() == nullptr) return Napi::Boolean::New(env, false);
  return Napi::Boolean::New(env, loop()->topics().Unsubscribe(this, StringText(args[0])));
}

Napi::Value WebSocketConnection::IsSubscribed(const Arguments& args) {
  return Napi::Boolean::New(args.Env(), TopicRegistry::IsSubscribed(this, StringText(args[0])));
}

Napi::Value WebSocketConnection::Topics(const Arguments& args) {
  Napi::Env env = args.Env();
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

Napi::Value WebSocketConnection::SkippedPublishes(const Arguments& args) {
  return Napi::Number::New(args.Env(), rare_ == nullptr ? 0 : rare_->skipped_publishes);
}

}  // namespace node_bufferevent::ws
