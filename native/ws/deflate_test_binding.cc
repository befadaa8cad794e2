// The permessage-deflate part of the test-only codec module (bufferevent_codec_test.node, see
// codec_test_binding.cc): deflateMessages, inflateMessages and zlibContextMemory, each running a
// fresh codec over a whole sequence of messages and returning plain objects, so a test sees context
// takeover across messages without the module holding state between calls.
#include <event2/buffer.h>
#include <malloc.h>
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "deflate_codec.h"

namespace node_bufferevent::ws {

namespace {

Napi::Value ThrowInvalidArg(Napi::Env env, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Value().Set("code", Napi::String::New(env, "ERR_INVALID_ARG"));
  error.ThrowAsJavaScriptException();
  return Napi::Value();
}

// An integer option in [min, max], `fallback` when absent; false (and a thrown error) otherwise.
bool IntegerOption(const Napi::Object& options, const char* key, double min, double max,
                   double fallback, double* out) {
  Napi::Value value = options.Get(key);
  if (value.IsUndefined()) {
    *out = fallback;
    return true;
  }
  double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : NAN;
  if (!(number >= min && number <= max) || std::floor(number) != number) {
    ThrowInvalidArg(options.Env(), std::string(key) + " must be an integer from " +
                                       std::to_string(static_cast<int64_t>(min)) + " to " +
                                       std::to_string(static_cast<int64_t>(max)));
    return false;
  }
  *out = number;
  return true;
}

// A message given as one Buffer or as an array of Buffers (its pieces, fed one call each).
bool MessagePieces(const Napi::Value& value, std::vector<Napi::Buffer<uint8_t>>* pieces) {
  if (value.IsBuffer()) {
    pieces->push_back(value.As<Napi::Buffer<uint8_t>>());
    return true;
  }
  if (!value.IsArray()) return false;
  Napi::Array array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value piece = array.Get(i);
    if (!piece.IsBuffer()) return false;
    pieces->push_back(piece.As<Napi::Buffer<uint8_t>>());
  }
  return true;
}

Napi::Buffer<uint8_t> DrainToBuffer(Napi::Env env, evbuffer* buffer) {
  size_t length = evbuffer_get_length(buffer);
  Napi::Buffer<uint8_t> bytes = Napi::Buffer<uint8_t>::New(env, length);
  if (length > 0) evbuffer_remove(buffer, bytes.Data(), length);
  return bytes;
}

// Runs `run(pieces)` for every message of info[0] with a pool when options.pooled; returns false
// when the arguments are wrong (an error is then pending).
bool ReadMessages(const Napi::CallbackInfo& info, const char* usage,
                  std::vector<std::vector<Napi::Buffer<uint8_t>>>* messages) {
  if (!info[0].IsArray() || !info[1].IsObject()) {
    ThrowInvalidArg(info.Env(), usage);
    return false;
  }
  Napi::Array array = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); ++i) {
    messages->emplace_back();
    if (!MessagePieces(array.Get(i), &messages->back())) {
      ThrowInvalidArg(info.Env(), usage);
      return false;
    }
  }
  return true;
}

Napi::Object PoolStats(Napi::Env env, const ZlibContextPool& pool) {
  Napi::Object stats = Napi::Object::New(env);
  stats.Set("created", static_cast<double>(pool.created_count()));
  stats.Set("idle", static_cast<double>(pool.idle_count()));
  return stats;
}

// deflateMessages(messages, { windowBits, level, memLevel, strategy, noContextTakeover })
//   → { outputs: Buffer[], heldContextBetween: boolean[], pool: { created, idle }, error? }
Napi::Value DeflateMessages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::vector<Napi::Buffer<uint8_t>>> messages;
  if (!ReadMessages(info, "deflateMessages(messages: (Buffer | Buffer[])[], settings: object)",
                    &messages))
    return Napi::Value();
  Napi::Object options = info[1].As<Napi::Object>();
  double window_bits, level, mem_level, strategy;
  if (!IntegerOption(options, "windowBits", 9, 15, 15, &window_bits) ||
      !IntegerOption(options, "level", -1, 9, -1, &level) ||
      !IntegerOption(options, "memLevel", 1, 9, 8, &mem_level) ||
      !IntegerOption(options, "strategy", 0, 4, 0, &strategy))
    return Napi::Value();
  CompressSettings settings;
  settings.window_bits = static_cast<int>(window_bits);
  settings.level = static_cast<int>(level);
  settings.mem_level = static_cast<int>(mem_level);
  settings.strategy = static_cast<int>(strategy);
  settings.no_context_takeover = options.Get("noContextTakeover").ToBoolean().Value();

  ZlibContextPool pool;
  Napi::Array outputs = Napi::Array::New(env);
  Napi::Array held = Napi::Array::New(env);
  Napi::Object result = Napi::Object::New(env);
  {
    MessageDeflater deflater(settings, &pool);
    evbuffer* out = evbuffer_new();
    std::string error;
    for (size_t m = 0; m < messages.size() && error.empty(); ++m) {
      const auto& pieces = messages[m];
      for (size_t p = 0; p < pieces.size() || p == 0; ++p) {
        const uint8_t* data = pieces.empty() ? nullptr : pieces[p].Data();
        size_t length = pieces.empty() ? 0 : pieces[p].Length();
        bool last = pieces.empty() || p + 1 == pieces.size();
        DeflateResult status = deflater.Compress(data, length, last, out, &error);
        if (status != DeflateResult::kOk) break;
      }
      if (!error.empty()) break;
      outputs.Set(static_cast<uint32_t>(m), DrainToBuffer(env, out));
      held.Set(static_cast<uint32_t>(m), deflater.holds_context());
    }
    evbuffer_free(out);
    if (!error.empty()) result.Set("error", error);
  }
  result.Set("outputs", outputs);
  result.Set("heldContextBetween", held);
  result.Set("pool", PoolStats(env, pool));
  return result;
}

// inflateMessages(messages, { windowBits, noContextTakeover, maxOutput })
//   → { results: { status, data, produced, error? }[], pool: { created, idle } }; stops after the
//   first message that is not 'ok'.
Napi::Value InflateMessages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::vector<Napi::Buffer<uint8_t>>> messages;
  if (!ReadMessages(info, "inflateMessages(messages: (Buffer | Buffer[])[], settings: object)",
                    &messages))
    return Napi::Value();
  Napi::Object options = info[1].As<Napi::Object>();
  double window_bits, max_output;
  if (!IntegerOption(options, "windowBits", 9, 15, 15, &window_bits) ||
      !IntegerOption(options, "maxOutput", 0, 9007199254740991.0, 0, &max_output))
    return Napi::Value();
  DecompressSettings settings;
  settings.window_bits = static_cast<int>(window_bits);
  settings.max_output = static_cast<uint64_t>(max_output);
  settings.no_context_takeover = options.Get("noContextTakeover").ToBoolean().Value();

  ZlibContextPool pool;
  Napi::Array results = Napi::Array::New(env);
  {
    MessageInflater inflater(settings, &pool);
    evbuffer* out = evbuffer_new();
    for (size_t m = 0; m < messages.size(); ++m) {
      const auto& pieces = messages[m];
      std::string error;
      DeflateResult status = DeflateResult::kOk;
      for (size_t p = 0; p < pieces.size() || p == 0; ++p) {
        const uint8_t* data = pieces.empty() ? nullptr : pieces[p].Data();
        size_t length = pieces.empty() ? 0 : pieces[p].Length();
        bool last = pieces.empty() || p + 1 == pieces.size();
        status = inflater.Decompress(data, length, last, out, &error);
        if (status != DeflateResult::kOk) break;
      }
      Napi::Object entry = Napi::Object::New(env);
      entry.Set("status", DeflateResultName(status));
      entry.Set("produced", static_cast<double>(evbuffer_get_length(out)));
      entry.Set("data", DrainToBuffer(env, out));
      entry.Set("heldContextAfter", inflater.holds_context());
      if (!error.empty()) entry.Set("error", error);
      results.Set(static_cast<uint32_t>(m), entry);
      if (status != DeflateResult::kOk) break;
    }
    evbuffer_free(out);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("results", results);
  result.Set("pool", PoolStats(env, pool));
  return result;
}

size_t HeapInUse() {
  struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// zlibContextMemory({ direction: 'deflate' | 'inflate', windowBits, memLevel, count })
//   → bytes of heap per context, measured with glibc's mallinfo2 over `count` live contexts (an
//   inflater after one inflated message: zlib allocates its window then).
Napi::Value ZlibContextMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) return ThrowInvalidArg(env, "zlibContextMemory(options: object)");
  Napi::Object options = info[0].As<Napi::Object>();
  double window_bits, mem_level, count;
  if (!IntegerOption(options, "windowBits", 9, 15, 15, &window_bits) ||
      !IntegerOption(options, "memLevel", 1, 9, 8, &mem_level) ||
      !IntegerOption(options, "count", 1, 10000, 100, &count))
    return Napi::Value();
  bool inflate = options.Get("direction").ToString().Utf8Value() == "inflate";
  ZlibContextKey key{inflate ? ZlibStream::Direction::kInflate : ZlibStream::Direction::kDeflate,
                     static_cast<int>(window_bits), -1, static_cast<int>(mem_level), 0};
  // One compressed message to prime each inflater's window.
  std::vector<uint8_t> sample;
  {
    MessageDeflater deflater(CompressSettings{}, nullptr);
    evbuffer* out = evbuffer_new();
    std::string error;
    const uint8_t text[] = "permessage-deflate";
    deflater.Compress(text, sizeof text, true, out, &error);
    sample.resize(evbuffer_get_length(out));
    evbuffer_remove(out, sample.data(), sample.size());
    evbuffer_free(out);
  }
  evbuffer* sink = evbuffer_new();
  std::vector<std::unique_ptr<ZlibStream>> contexts;
  contexts.reserve(static_cast<size_t>(count));
  size_t before = HeapInUse();
  std::string error;
  for (int i = 0; i < static_cast<int>(count); ++i) {
    std::unique_ptr<ZlibStream> stream = ZlibContextPool::Create(key, &error);
    if (!stream) break;
    if (inflate) {
      static const uint8_t kTail[4] = {0x00, 0x00, 0xff, 0xff};
      size_t consumed, produced;
      stream->Process(sample.data(), sample.size(), Z_NO_FLUSH, sink, -1, &consumed, &produced,
                      &error);
      stream->Process(kTail, sizeof kTail, Z_NO_FLUSH, sink, -1, &consumed, &produced, &error);
      evbuffer_drain(sink, evbuffer_get_length(sink));
    }
    contexts.push_back(std::move(stream));
  }
  size_t after = HeapInUse();
  size_t made = contexts.size();
  contexts.clear();
  evbuffer_free(sink);
  if (made == 0) return ThrowInvalidArg(env, "zlib initialisation failed: " + error);
  return Napi::Number::New(
      env, (static_cast<double>(after) - static_cast<double>(before)) / static_cast<double>(made));
}

}  // namespace

void RegisterDeflateTestFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("deflateMessages", Napi::Function::New(env, DeflateMessages, "deflateMessages"));
  exports.Set("inflateMessages", Napi::Function::New(env, InflateMessages, "inflateMessages"));
  exports.Set("zlibContextMemory",
              Napi::Function::New(env, ZlibContextMemory, "zlibContextMemory"));
}

}  // namespace node_bufferevent::ws
