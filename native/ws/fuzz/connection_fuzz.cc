// libFuzzer target for ProtocolSession, the whole receiving side of a connection after the
// handshake. Three config bytes, then the peer's byte stream:
//   byte 0: bit 0 server role, bits 1-2 maxPayload, bits 3-4 maxFragments, bits 5-7 how often a
//           callback pauses (0 never, 7 every time);
//   byte 1: bit 4 set: our close frame is queued while event number (bits 0-3) is reported;
//           bits 5-7: the largest chunk, 1 << (bits 5-7) bytes;
//   byte 2: seed for the chunk sizes and pauses.
// The stream is fed whole, then in random chunks (each its own evbuffer chain) with random pauses,
// and everything reported must equal reference_connection.h's list exactly.
#include <event2/buffer.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../protocol_session.h"
#include "reference_connection.h"
#include "session_driver.h"

namespace ws = node_bufferevent::ws;
using Event = ws::reference::ConnectionEvent;
using ws::fuzz::FeedUntilDry;
using ws::fuzz::Xorshift;

namespace {

// Limits the config byte can choose; test/ws/write-fuzz-seeds.ts uses the same tables.
constexpr uint64_t kMaxPayloads[] = {0, 16, 1000, 70000};
constexpr uint32_t kMaxFragments[] = {0, 1, 3, 16};

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "protocol session contract broken: %s\n", what);
  std::abort();
}

struct RunSettings {
  ws::FrameParserOptions options;
  int close_sent_after = -1;
  unsigned pause_level = 0;  // 0..7: a callback pauses when (random & 7) < pause_level
  size_t largest_chunk = 0;  // 0: the whole stream at once
  uint32_t seed = 1;
};

// Records what the session reports and plays the user's part: pausing, queueing our close frame.
class Recorder final : public ws::ProtocolSession {
 public:
  Recorder(const RunSettings& settings, Xorshift* random)
      : ProtocolSession(settings.options), settings_(settings), random_(random) {}

  bool OnMessage(std::vector<uint8_t>& data, bool binary) override {
    std::string bytes(data.begin(), data.end());
    // Like the connection with a large message, take the bytes now and then.
    if (random_->Next() & 1) std::vector<uint8_t>().swap(data);
    return Report({binary ? Event::kBinary : Event::kText, bytes, 0, ""});
  }
  bool OnPing(const uint8_t* data, size_t length) override {
    if (!events.empty() && events.back().kind == Event::kPongWritten &&
        events.back().data != std::string(data, data + length)) {
      Die("the pong written differs from the ping");
    }
    return Report({Event::kPing, std::string(data, data + length), 0, ""});
  }
  bool OnPong(const uint8_t* data, size_t length) override {
    return Report({Event::kPong, std::string(data, data + length), 0, ""});
  }
  void OnClose(uint16_t code, const uint8_t* reason, size_t reason_length) override {
    Report({Event::kClose, std::string(reason, reason + reason_length), code, ""});
    finals_++;
  }
  void OnError(const ws::ProtocolError& error) override {
    Report({Event::kError, "", error.close_code, error.code});
    finals_++;
  }
  void WritePong(const uint8_t* data, size_t length) override {
    if (finals_ > 0) Die("pong written after the end");
    events.push_back({Event::kPongWritten, std::string(data, data + length), 0, ""});
  }

  bool last_callback_paused() const { return last_paused_; }
  int finals() const { return finals_; }
  std::vector<Event> events;

 private:
  bool Report(Event event) {
    if (finals_ > 0) Die("an event after the close frame or the error");
    events.push_back(std::move(event));
    if (settings_.close_sent_after == reported_++) CloseSent();
    last_paused_ = (random_->Next() & 7) < settings_.pause_level;
    return !last_paused_;
  }

  const RunSettings& settings_;
  Xorshift* random_;
  int reported_ = 0;
  int finals_ = 0;
  bool last_paused_ = false;
};

std::vector<Event> Run(const uint8_t* data, size_t size, const RunSettings& settings) {
  Xorshift random(settings.seed);
  Recorder recorder(settings, &random);
  evbuffer* input = evbuffer_new();
  size_t offset = 0;
  do {
    size_t piece = size - offset;
    if (settings.largest_chunk > 0 && piece > 0) {
      piece = std::min<size_t>(piece, 1 + random.Next() % settings.largest_chunk);
    }
    evbuffer* chain = evbuffer_new();
    evbuffer_add(chain, data + offset, piece);
    evbuffer_add_buffer(input, chain);
    evbuffer_free(chain);
    offset += piece;
    FeedUntilDry(recorder, input, recorder, [](const char* what) { Die(what); });
  } while (offset < size);
  evbuffer_free(input);
  return recorder.events;
}

const char* KindName(Event::Kind kind) {
  static const char* const names[] = {"text",  "binary", "ping",    "pong",
                                      "close", "error",  "pong-out"};
  return names[kind];
}

void Compare(const std::vector<Event>& expected, const std::vector<Event>& actual,
             const char* how) {
  if (expected == actual) return;
  std::fprintf(stderr, "%s: session and reference differ\n", how);
  for (size_t i = 0; i < expected.size() || i < actual.size(); ++i) {
    auto show = [](const char* who, const Event& event) {
      std::fprintf(stderr, "  %s %-8s %zu bytes, code %u %s\n", who, KindName(event.kind),
                   event.data.size(), event.code, event.error.c_str());
    };
    if (i < actual.size()) show("session  ", actual[i]);
    if (i < expected.size()) show("reference", expected[i]);
  }
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* input, size_t input_size) {
  if (input_size < 3) return 0;
  const uint8_t* data = input + 3;
  size_t size = input_size - 3;
  RunSettings settings;
  settings.options.role = (input[0] & 1) ? ws::Role::kServer : ws::Role::kClient;
  settings.options.limits.max_payload = kMaxPayloads[(input[0] >> 1) & 3];
  settings.options.limits.max_fragments = kMaxFragments[(input[0] >> 3) & 3];
  settings.close_sent_after = (input[1] & 0x10) ? (input[1] & 0x0F) : -1;

  ws::reference::ConnectionSettings reference{
      (input[0] & 1) != 0, settings.options.limits.max_payload,
      settings.options.limits.max_fragments, settings.close_sent_after};
  std::vector<Event> expected = ws::reference::ExpectedEvents(data, size, reference);

  Compare(expected, Run(data, size, settings), "whole");
  settings.pause_level = input[0] >> 5;
  settings.largest_chunk = size_t{1} << (input[1] >> 5);
  settings.seed = 0x9E3779B9u ^ input[2] ^ static_cast<uint32_t>(size << 8);
  Compare(expected, Run(data, size, settings), "chunks");
  return 0;
}
