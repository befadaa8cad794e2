// libFuzzer target for FrameParser: the first input byte picks the role and limits, the rest is the
// byte stream. The parser must agree with reference_parser.h however the stream is chunked or
// paused.
#include <event2/buffer.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../frame_parser.h"
#include "reference_parser.h"

namespace ws = node_bufferevent::ws;
using ws::reference::Outcome;

namespace {

// Limits the config byte can choose; test/ws/fixtures.ts uses only these values.
constexpr uint64_t kMaxPayloads[] = {0, 16, 1000, 70000};
constexpr uint32_t kMaxFragments[] = {0, 1, 3, 16};
// A header part not yet taken is at most 7 bytes (of a 64-bit length).
constexpr size_t kMostBytesLeft = 7;

class Recorder final : public ws::FrameParser {
 public:
  Recorder(const ws::FrameParserOptions& options, bool pause_always)
      : FrameParser(options), pause_always_(pause_always) {}
  bool OnFrameStart(const ws::FrameHeader& header) override {
    if (!outcome.frames.empty() && !outcome.frames.back().ended) Die("frame start inside a frame");
    outcome.frames.push_back({header.fin,
                              header.rsv1,
                              header.rsv2,
                              header.rsv3,
                              header.masked,
                              header.opcode,
                              header.payload_length,
                              {},
                              false});
    return !pause_always_;
  }
  bool OnPayload(const uint8_t* data, size_t length) override {
    if (outcome.frames.empty() || outcome.frames.back().ended) Die("payload outside a frame");
    if (length == 0) Die("empty payload callback");
    outcome.frames.back().payload.append(reinterpret_cast<const char*>(data), length);
    if (outcome.frames.back().payload.size() > outcome.frames.back().length) Die("payload overrun");
    return !pause_always_;
  }
  bool OnFrameEnd() override {
    if (outcome.frames.empty() || outcome.frames.back().ended) Die("frame end outside a frame");
    if (outcome.frames.back().payload.size() != outcome.frames.back().length) Die("short frame");
    outcome.frames.back().ended = true;
    return !pause_always_;
  }
  static void Die(const char* what) {
    std::fprintf(stderr, "frame parser contract broken: %s\n", what);
    std::abort();
  }
  Outcome outcome;

 private:
  bool pause_always_;
};

// Feeds `chunk_sizes` pieces (the last one takes the rest), each as its own chain.
Outcome RunParser(const uint8_t* data, size_t size, const ws::FrameParserOptions& options,
                  const std::vector<size_t>& chunk_sizes, bool pause_always) {
  Recorder parser(options, pause_always);
  evbuffer* input = evbuffer_new();
  size_t offset = 0;
  for (size_t i = 0; offset < size || i == 0; ++i) {
    size_t piece = i < chunk_sizes.size() ? chunk_sizes[i] : size - offset;
    if (piece > size - offset) piece = size - offset;
    evbuffer* chain = evbuffer_new();
    evbuffer_add(chain, data + offset, piece);
    evbuffer_add_buffer(input, chain);
    evbuffer_free(chain);
    offset += piece;
    ws::FrameParser::Result result;
    do result = parser.Parse(input);
    while (result == ws::FrameParser::Result::kPaused);
    if (result == ws::FrameParser::Result::kFailed) break;
    // Without an error, what is left can only be a partial header part.
    if (evbuffer_get_length(input) > kMostBytesLeft) Recorder::Die("stuck bytes");
  }
  if (parser.state() == ws::FrameParser::State::kFailed) {
    parser.outcome.close_code = parser.error().close_code;
    parser.outcome.code = parser.error().code;
  }
  evbuffer_free(input);
  return parser.outcome;
}

void Compare(const Outcome& expected, const Outcome& actual, const char* how) {
  if (expected == actual) return;
  std::fprintf(stderr, "%s: %zu frames, close %u %s; reference: %zu frames, close %u %s\n", how,
               actual.frames.size(), actual.close_code, actual.code.c_str(), expected.frames.size(),
               expected.close_code, expected.code.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* input, size_t input_size) {
  if (input_size < 1) return 0;
  uint8_t config = input[0];
  const uint8_t* data = input + 1;
  size_t size = input_size - 1;
  ws::FrameParserOptions options;
  options.role = (config & 1) ? ws::Role::kServer : ws::Role::kClient;
  options.limits.max_payload = kMaxPayloads[(config >> 1) & 3];
  options.limits.max_fragments = kMaxFragments[(config >> 3) & 3];
  ws::reference::Settings settings{(config & 1) != 0, options.limits.max_payload,
                                   options.limits.max_fragments};
  Outcome expected = ws::reference::Parse(data, size, settings);

  Compare(expected, RunParser(data, size, options, {}, false), "whole");
  Compare(expected, RunParser(data, size, options, std::vector<size_t>(size, 1), false), "1-byte");
  // Chunk sizes 1..64 from a generator seeded by the config's top bits and the size.
  std::vector<size_t> random_sizes;
  uint32_t state = 0x9E3779B9u ^ (config >> 5) ^ static_cast<uint32_t>(size << 3);
  for (size_t total = 0; total < size;) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    random_sizes.push_back(1 + state % 64);
    total += random_sizes.back();
  }
  Compare(expected, RunParser(data, size, options, random_sizes, false), "random chunks");
  Compare(expected, RunParser(data, size, options, random_sizes, true), "random chunks, pausing");
  return 0;
}
