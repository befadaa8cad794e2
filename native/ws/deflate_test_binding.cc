// The permessage-deflate part of the test-only codec module (bufferevent_codec_test.node, see
// codec_test_binding.cc): deflateMessages and inflateMessages, each running a fresh codec over a
// whole sequence of messages and returning plain objects, so a test sees context takeover across
// messages without the module holding state between calls; and zlibContextMemory.
#include <event2/buffer.h>
#include <napi.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
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
    std::vector<uint8_t> out;
    for (size_t m = 0; m < messages.size(); ++m) {
      const auto& pieces = messages[m];
      std::string error;
      DeflateResult status = DeflateResult::kOk;
      for (size_t p = 0; p < pieces.size() || p == 0; ++p) {
        const uint8_t* data = pieces.empty() ? nullptr : pieces[p].Data();
        size_t length = pieces.empty() ? 0 : pieces[p].Length();
        bool last = pieces.empty() || p + 1 == pieces.size();
        status = inflater.Decompress(data, length, last, &out, &error);
        if (status != DeflateResult::kOk) break;
      }
      Napi::Object entry = Napi::Object::New(env);
      entry.Set("status", DeflateResultName(status));
      entry.Set("produced", static_cast<double>(out.size()));
      entry.Set("data", Napi::Buffer<uint8_t>::Copy(env, out.data(), out.size()));
      out.clear();
      entry.Set("heldContextAfter", inflater.holds_context());
      if (!error.empty()) entry.Set("error", error);
      results.Set(static_cast<uint32_t>(m), entry);
      if (status != DeflateResult::kOk) break;
    }
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("results", results);
  result.Set("pool", PoolStats(env, pool));
  return result;
}

// zlib's allocations, counted: each block carries its size in front of it (16 bytes keep the
// alignment malloc gives). Exact and allocator-independent: what zlib asks for, without malloc's
// own overhead, under glibc and under the sanitizers alike.
struct AllocationCount {
  size_t live = 0;
};

constexpr size_t kSizeHeader = 16;

void* CountingAlloc(void* opaque, uInt items, uInt size) {
  size_t bytes = static_cast<size_t>(items) * size;
  auto* block = static_cast<uint8_t*>(malloc(bytes + kSizeHeader));
  if (block == nullptr) return nullptr;
  std::memcpy(block, &bytes, sizeof bytes);
  static_cast<AllocationCount*>(opaque)->live += bytes;
  return block + kSizeHeader;
}

void CountingFree(void* opaque, void* address) {
  uint8_t* block = static_cast<uint8_t*>(address) - kSizeHeader;
  size_t bytes;
  std::memcpy(&bytes, block, sizeof bytes);
  static_cast<AllocationCount*>(opaque)->live -= bytes;
  free(block);
}

// zlibContextMemory({ direction: 'deflate' | 'inflate', windowBits, memLevel })
//   → the bytes zlib holds for one context made as ZlibContextPool::Create makes it, plus the
//   z_stream itself; an inflater is measured after one message, since zlib allocates its window
//   at the first byte it inflates.
Napi::Value ZlibContextMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) return ThrowInvalidArg(env, "zlibContextMemory(options: object)");
  Napi::Object options = info[0].As<Napi::Object>();
  double window_bits, mem_level;
  if (!IntegerOption(options, "windowBits", 9, 15, 15, &window_bits) ||
      !IntegerOption(options, "memLevel", 1, 9, 8, &mem_level))
    return Napi::Value();
  bool inflate_side = options.Get("direction").ToString().Utf8Value() == "inflate";
  // One compressed message (tail included) to prime an inflater's window.
  static const uint8_t kText[] = "permessage-deflate permessage-deflate";
  uint8_t compressed[128];
  uLongf compressed_length = sizeof compressed;
  compress2(compressed, &compressed_length, kText, sizeof kText, 6);

  AllocationCount count;
  z_stream stream{};
  stream.zalloc = CountingAlloc;
  stream.zfree = CountingFree;
  stream.opaque = &count;
  int bits = static_cast<int>(window_bits);
  int status = inflate_side ? inflateInit2(&stream, -bits)
                            : deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -bits,
                                           static_cast<int>(mem_level), Z_DEFAULT_STRATEGY);
  if (status != Z_OK) return ThrowInvalidArg(env, "zlib initialisation failed");
  if (inflate_side) {
    // compress2 wrote a zlib stream: skip its 2-byte header to feed the raw deflate data.
    uint8_t output[256];
    stream.next_in = compressed + 2;
    stream.avail_in = static_cast<uInt>(compressed_length - 2);
    stream.next_out = output;
    stream.avail_out = sizeof output;
    inflate(&stream, Z_SYNC_FLUSH);
  }
  size_t bytes = count.live + sizeof(z_stream);
  if (inflate_side)
    inflateEnd(&stream);
  else
    deflateEnd(&stream);
  return Napi::Number::New(env, static_cast<double>(bytes));
}

}  // namespace

void RegisterDeflateTestFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("deflateMessages", Napi::Function::New(env, DeflateMessages, "deflateMessages"));
  exports.Set("inflateMessages", Napi::Function::New(env, InflateMessages, "inflateMessages"));
  exports.Set("zlibContextMemory",
              Napi::Function::New(env, ZlibContextMemory, "zlibContextMemory"));
}

}  // namespace node_bufferevent::ws
