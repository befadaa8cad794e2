// libFuzzer target for ProtocolSession with permessage-deflate agreed: the receiving side's
// inflating (with and without context takeover), its limits and its error codes. Five config
// bytes, then the body:
//   byte 0: bit 0 server role; bits 1-3 maxPayload (kMaxPayloads); bit 4 the inflater has no
//           context takeover; bits 5-7 how often a callback pauses (0 never, 7 every time);
//   byte 1: bits 0-2 the window bits given to the inflater (9 + value, at most 15; the session
//           inflates with 15 whatever it is given, so a peer's window varies); bits 3-5 the largest
//           chunk, 1 << value bytes (or 1/128 of the stream); bit 6 no context pool (contexts made
//           and freed per use); bit 7 message mode;
//   byte 2: seed for the chunk sizes, pauses, masks and damage;
//   byte 3: bits 0-1 maxFragments (kMaxFragments); bits 2-3 the peer's window bits (the
//           inflater's, 9, one less than the inflater's, 15); bit 4 the peer keeps its history
//           even when the inflater does not; bits 5-6 the peer's level (0, 1, 6, 9);
//   byte 4: the peer's zlib strategy (value % 5).
// Raw mode: the body is the peer's byte stream. Message mode: the body is a list of records that
// deflate_peer.h compresses and frames, and the events must match what was sent (deflate_oracle.h).
// Both modes: the stream is fed whole, then in random chunks with random pauses (the two runs
// share one context pool, so the second one gets contexts back reset), and both must report
// exactly the same events and make one zlib context between them; a delivered message is within
// maxPayload and, when text, UTF-8; nothing follows the close frame or the error; an error's close
// code is the one its code implies.
#include <event2/buffer.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "../protocol_session.h"
#include "../zlib_context_pool.h"
#include "deflate_oracle.h"
#include "deflate_peer.h"
#include "session_driver.h"

namespace ws = node_bufferevent::ws;
using Event = ws::reference::ConnectionEvent;
using ws::fuzz::Die;
using ws::fuzz::FeedUntilDry;
using ws::fuzz::Xorshift;

namespace {

// Limits the config bytes can choose; test/ws/deflate-fuzz-seeds.ts uses the same tables. The
// small maxPayloads make "inflates past maxPayload" easy to reach.
constexpr uint64_t kMaxPayloads[] = {0, 1, 16, 125, 1000, 4096, 70000, 1 << 20};
constexpr uint32_t kMaxFragments[] = {0, 1, 3, 16};
constexpr int kPeerLevels[] = {0, 1, 6, 9};
constexpr size_t kConfigBytes = 5;

struct RunSettings {
  ws::FrameParserOptions options;
  ws::DecompressSettings inflate;
  ws::ZlibContextPool* pool = nullptr;
  unsigned pause_level = 0;  // 0..7: a callback pauses when (random & 7) < pause_level
  size_t largest_chunk = 0;  // 0: the whole stream at once
  uint32_t seed = 1;
};

// Records what the session reports, checking each event on its own as it comes.
class Recorder final : public ws::ProtocolSession {
 public:
  Recorder(const RunSettings& settings, Xorshift* random)
      : ProtocolSession(settings.options), settings_(settings), random_(random) {}

  bool OnMessage(std::vector<uint8_t>& data, bool binary) override {
    uint64_t max_payload = settings_.options.limits.max_payload;
    if (max_payload > 0 && data.size() > max_payload) Die("a message over maxPayload delivered");
    if (!binary && !ws::fuzz::IsUtf8(std::string(data.begin(), data.end()))) {
      Die("a text message that is not UTF-8 delivered");
    }
    std::string bytes(data.begin(), data.end());
    if (random_->Next() & 1) std::vector<uint8_t>().swap(data);  // the sink may take the bytes
    return Report({binary ? Event::kBinary : Event::kText, bytes, 0, ""});
  }
  bool OnPing(const uint8_t* data, size_t length) override {
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
    last_paused_ = (random_->Next() & 7) < settings_.pause_level;
    return !last_paused_;
  }

  const RunSettings& settings_;
  Xorshift* random_;
  int finals_ = 0;
  bool last_paused_ = false;
};

std::vector<Event> Run(const std::string& stream, const RunSettings& settings) {
  Xorshift random(settings.seed);
  Recorder session(settings, &random);
  session.EnableInflate(settings.inflate, settings.pool);
  if (!session.inflates()) Die("EnableInflate did not enable inflating");
  const uint8_t* data = reinterpret_cast<const uint8_t*>(stream.data());
  evbuffer* input = evbuffer_new();
  size_t offset = 0;
  do {
    size_t piece = stream.size() - offset;
    if (settings.largest_chunk > 0 && piece > 0) {
      piece = std::min<size_t>(piece, 1 + random.Next() % settings.largest_chunk);
    }
    evbuffer* chain = evbuffer_new();
    evbuffer_add(chain, data + offset, piece);
    evbuffer_add_buffer(input, chain);
    evbuffer_free(chain);
    offset += piece;
    FeedUntilDry(session, input, session, [](const char* what) { Die(what); });
  } while (offset < stream.size());
  evbuffer_free(input);
  // Half the time the connection is released explicitly before the session goes.
  if (random.Next() & 1) session.ReleaseMemory();
  return session.events;
}

// The verdict on the same bytes must not depend on how the reads split them: UTF-8 is checked
// on everything inflated before another error is reported, and the peer is always inflated with
// the full window (a smaller one is checked by zlib only across its calls).
void Compare(const std::vector<Event>& whole, const std::vector<Event>& chunks) {
  if (whole == chunks) return;
  std::fprintf(stderr, "fed whole and in chunks, the session reports different events\n");
  for (size_t i = 0; i < whole.size() || i < chunks.size(); ++i) {
    if (i < whole.size()) {
      std::fprintf(stderr, "  whole  %s\n", ws::fuzz::Describe(whole[i]).c_str());
    }
    if (i < chunks.size()) {
      std::fprintf(stderr, "  chunks %s\n", ws::fuzz::Describe(chunks[i]).c_str());
    }
  }
  ws::fuzz::Die("the same stream, other events");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* input, size_t input_size) {
  if (input_size < kConfigBytes) return 0;
  const uint8_t* body = input + kConfigBytes;
  size_t body_size = input_size - kConfigBytes;

  RunSettings settings;
  settings.options.role = (input[0] & 1) ? ws::Role::kServer : ws::Role::kClient;
  settings.options.limits.max_payload = kMaxPayloads[(input[0] >> 1) & 7];
  settings.options.limits.max_fragments = kMaxFragments[input[3] & 3];
  settings.inflate.no_context_takeover = (input[0] >> 4) & 1;
  settings.inflate.window_bits = std::min(9 + (input[1] & 7), 15);
  const bool message_mode = input[1] >> 7;

  ws::fuzz::PeerSettings peer;
  peer.masks = settings.options.role == ws::Role::kServer;
  const int inflater_bits = settings.inflate.window_bits;
  const int peer_bits[] = {inflater_bits, 9, std::max(9, inflater_bits - 1), 15};
  peer.window_bits = peer_bits[(input[3] >> 2) & 3];
  peer.context_takeover = !settings.inflate.no_context_takeover || ((input[3] >> 4) & 1);
  peer.level = kPeerLevels[(input[3] >> 5) & 3];
  peer.strategy = input[4] % 5;
  peer.seed = 0x2545F491u ^ input[2];

  std::string stream;
  std::vector<ws::fuzz::SentItem> sent;
  if (message_mode) {
    ws::fuzz::DeflatePeer builder(peer);
    if (!builder.Build(body, body_size)) return 0;
    stream = builder.bytes();
    sent = builder.items();
  } else {
    stream.assign(reinterpret_cast<const char*>(body), body_size);
  }

  // One pool for both runs, as the addon has one per thread: the chunked run reuses contexts the
  // whole run gave back. Without a pool, contexts are made and freed per use.
  std::unique_ptr<ws::ZlibContextPool> pool;
  if (!((input[1] >> 6) & 1)) pool = std::make_unique<ws::ZlibContextPool>(1 + input[2] % 3);
  settings.pool = pool.get();

  ws::fuzz::StreamInCheck() = &stream;
  RunSettings chunk_settings = settings;
  chunk_settings.pause_level = input[0] >> 5;
  // At most a few hundred chunks: every read of a compressed piece allocates under ASan.
  chunk_settings.largest_chunk = std::max(size_t{1} << ((input[1] >> 3) & 7), stream.size() / 128);
  chunk_settings.seed = 0x9E3779B9u ^ input[2] ^ static_cast<uint32_t>(body_size << 8);
  std::vector<Event> whole = Run(stream, settings);
  std::vector<Event> chunks = Run(stream, chunk_settings);
  // A session holds one inflate context at most and gives it back when it ends (without context
  // takeover, after every message): both runs together never need a second one.
  if (pool != nullptr && pool->created_count() > 1) Die("more than one inflate context was made");
  for (const std::vector<Event>* events : {&whole, &chunks}) {
    ws::fuzz::CheckErrorCloseCode(*events, stream);
    if (message_mode) {
      ws::fuzz::OracleSettings oracle{
          settings.options.limits, !settings.inflate.no_context_takeover,
          peer.window_bits > inflater_bits ||
              (peer.context_takeover && settings.inflate.no_context_takeover)};
      ws::fuzz::CheckAgainstSent(*events, sent, oracle);
    }
  }
  Compare(whole, chunks);
  ws::fuzz::StreamInCheck() = nullptr;
  return 0;
}
