// The test-only codec module, bufferevent_codec_test.node (its own node-gyp target, never part of
// the production addon): parse(chunks, options), validateUtf8(chunks), mask(buffer, key, offset)
// and writeFrame(spec) over the native codec, each returning plain objects for vitest to compare
// (test/ws/codec.ts loads it). It holds no state: no event loop, no addon instance data.
#include <event2/buffer.h>
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "frame_parser.h"
#include "frame_writer.h"
#include "mask.h"
#include "utf8.h"

namespace node_bufferevent::ws {

void RegisterDeflateTestFunctions(Napi::Env env, Napi::Object exports);  // deflate_test_binding.cc

namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;

// The production addon's BuffereventError needs its instance data, so a plain Error with the same
// code stands in; the tests only look at the code.
Napi::Value ThrowInvalidArg(Napi::Env env, const char* message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Value().Set("code", Napi::String::New(env, "ERR_INVALID_ARG"));
  error.ThrowAsJavaScriptException();
  return Napi::Value();
}

struct RecordedEvent {
  enum Kind { kStart, kPayload, kEnd } kind;
  FrameHeader header;
  std::vector<uint8_t> data;
};

// Records every callback; with pause_always it also returns false from each, so the test sees
// that resuming after every single callback changes nothing.
class RecordingParser final : public FrameParser {
 public:
  RecordingParser(const FrameParserOptions& options, bool pause_always)
      : FrameParser(options), pause_always_(pause_always) {}
  bool OnFrameStart(const FrameHeader& header) override {
    events.push_back({RecordedEvent::kStart, header, {}});
    return !pause_always_;
  }
  bool OnPayload(const uint8_t* data, size_t length) override {
    events.push_back({RecordedEvent::kPayload, {}, std::vector<uint8_t>(data, data + length)});
    return !pause_always_;
  }
  bool OnFrameEnd() override {
    events.push_back({RecordedEvent::kEnd, {}, {}});
    return !pause_always_;
  }
  std::vector<RecordedEvent> events;

 private:
  bool pause_always_;
};

bool IsBufferArray(const Napi::Value& value) {
  if (!value.IsArray()) return false;
  Napi::Array array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); ++i) {
    if (!array.Get(i).IsBuffer()) return false;
  }
  return true;
}

double NumberOption(const Napi::Object& options, const char* key) {
  Napi::Value value = options.Get(key);
  return value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : 0;
}

bool BoolOption(const Napi::Object& options, const char* key) {
  return options.Get(key).ToBoolean().Value();
}

Napi::Value Length(Napi::Env env, uint64_t length) {
  if (static_cast<double>(length) <= kMaxSafeInteger) return Napi::Number::New(env, length);
  return Napi::BigInt::New(env, length);
}

Napi::Object EventToJs(Napi::Env env, const RecordedEvent& event) {
  Napi::Object object = Napi::Object::New(env);
  switch (event.kind) {
    case RecordedEvent::kStart:
      object.Set("type", "start");
      object.Set("fin", event.header.fin);
      object.Set("rsv1", event.header.rsv1);
      object.Set("rsv2", event.header.rsv2);
      object.Set("rsv3", event.header.rsv3);
      object.Set("opcode", event.header.opcode);
      object.Set("length", Length(env, event.header.payload_length));
      object.Set("masked", event.header.masked);
      break;
    case RecordedEvent::kPayload:
      object.Set("type", "payload");
      object.Set("data", Napi::Buffer<uint8_t>::Copy(env, event.data.data(), event.data.size()));
      break;
    case RecordedEvent::kEnd:
      object.Set("type", "end");
      break;
  }
  return object;
}

// Appends a chunk as its own evbuffer chain (evbuffer_add_buffer moves chains), so the parser sees
// the same chain boundaries a socket read sequence would give.
void AppendAsChain(evbuffer* input, const Napi::Buffer<uint8_t>& chunk) {
  evbuffer* piece = evbuffer_new();
  evbuffer_add(piece, chunk.Data(), chunk.Length());
  evbuffer_add_buffer(input, piece);
  evbuffer_free(piece);
}

// parse(chunks, { server, maxPayload, maxFragments, pauseAlways, feedAllFirst })
//   → { events, error?: { closeCode, code, message }, state, remaining }
Napi::Value Parse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsBufferArray(info[0]) || !info[1].IsObject()) {
    return ThrowInvalidArg(env, "parse(chunks: Buffer[], options: object)");
  }
  Napi::Array chunks = info[0].As<Napi::Array>();
  Napi::Object options = info[1].As<Napi::Object>();
  FrameParserOptions parser_options;
  parser_options.role = BoolOption(options, "server") ? Role::kServer : Role::kClient;
  parser_options.limits.max_payload = static_cast<uint64_t>(NumberOption(options, "maxPayload"));
  parser_options.limits.max_fragments =
      static_cast<uint32_t>(NumberOption(options, "maxFragments"));
  RecordingParser parser(parser_options, BoolOption(options, "pauseAlways"));
  bool feed_all_first = BoolOption(options, "feedAllFirst");

  evbuffer* input = evbuffer_new();
  auto run = [&]() {
    FrameParser::Result result;
    do {
      result = parser.Parse(input);
    } while (result == FrameParser::Result::kPaused);
    return result;
  };
  for (uint32_t i = 0; i < chunks.Length(); ++i) {
    AppendAsChain(input, chunks.Get(i).As<Napi::Buffer<uint8_t>>());
    if (!feed_all_first && run() == FrameParser::Result::kFailed) break;
  }
  if (feed_all_first) run();

  Napi::Object result = Napi::Object::New(env);
  Napi::Array events = Napi::Array::New(env, parser.events.size());
  for (size_t i = 0; i < parser.events.size(); ++i) {
    events.Set(static_cast<uint32_t>(i), EventToJs(env, parser.events[i]));
  }
  result.Set("events", events);
  if (parser.state() == FrameParser::State::kFailed) {
    Napi::Object error = Napi::Object::New(env);
    error.Set("closeCode", parser.error().close_code);
    error.Set("code", parser.error().code);
    error.Set("message", parser.error().message);
    result.Set("error", error);
  }
  result.Set("state", FrameParser::StateName(parser.state()));
  result.Set("remaining", static_cast<double>(evbuffer_get_length(input)));
  evbuffer_free(input);
  return result;
}

// validateUtf8(chunks) → { valid, complete, errorOffset } (errorOffset -1 while valid)
Napi::Value ValidateUtf8(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsBufferArray(info[0])) {
    return ThrowInvalidArg(env, "validateUtf8(chunks: Buffer[])");
  }
  Napi::Array chunks = info[0].As<Napi::Array>();
  Utf8Validator validator;
  for (uint32_t i = 0; i < chunks.Length(); ++i) {
    Napi::Buffer<uint8_t> chunk = chunks.Get(i).As<Napi::Buffer<uint8_t>>();
    if (!validator.Feed(chunk.Data(), chunk.Length())) break;
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("valid", !validator.failed());
  result.Set("complete", validator.Complete());
  result.Set("errorOffset",
             validator.failed() ? static_cast<double>(validator.error_offset()) : -1.0);
  return result;
}

// mask(buffer, key, offset) → a masked copy, key[(offset + i) % 4] applied to byte i
Napi::Value Mask(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBuffer() || !info[1].IsBuffer() ||
      info[1].As<Napi::Buffer<uint8_t>>().Length() != 4 || !info[2].IsNumber()) {
    return ThrowInvalidArg(env, "mask(data: Buffer, key: 4-byte Buffer, offset)");
  }
  Napi::Buffer<uint8_t> source = info[0].As<Napi::Buffer<uint8_t>>();
  Napi::Buffer<uint8_t> target = Napi::Buffer<uint8_t>::Copy(env, source.Data(), source.Length());
  auto offset = static_cast<uint64_t>(info[2].As<Napi::Number>().Int64Value());
  MaskInPlace(target.Data(), target.Length(), info[1].As<Napi::Buffer<uint8_t>>().Data(), offset);
  return target;
}

// writeFrame({ opcode, fin, rsv1, payload, maskKey?, headerOnly?, prefixLength? }) → the bytes
// written. prefixLength fills the evbuffer first, so a masked payload lands across two chains.
Napi::Value WriteFrameBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) return ThrowInvalidArg(env, "writeFrame(spec: object)");
  Napi::Object options = info[0].As<Napi::Object>();
  Napi::Value payload_value = options.Get("payload");
  Napi::Value key_value = options.Get("maskKey");
  if (!payload_value.IsBuffer() ||
      (key_value.IsBuffer() && key_value.As<Napi::Buffer<uint8_t>>().Length() != 4)) {
    return ThrowInvalidArg(env, "writeFrame: payload Buffer, maskKey 4 bytes");
  }
  Napi::Buffer<uint8_t> payload = payload_value.As<Napi::Buffer<uint8_t>>();
  FrameSpec spec;
  spec.opcode = static_cast<uint8_t>(NumberOption(options, "opcode"));
  spec.fin = options.Get("fin").IsUndefined() || BoolOption(options, "fin");
  spec.rsv1 = BoolOption(options, "rsv1");
  if (key_value.IsBuffer()) spec.mask_key = key_value.As<Napi::Buffer<uint8_t>>().Data();
  auto prefix = static_cast<size_t>(NumberOption(options, "prefixLength"));

  evbuffer* output = evbuffer_new();
  std::vector<uint8_t> filler(prefix, 0xEE);
  if (prefix > 0) evbuffer_add(output, filler.data(), prefix);
  int status = BoolOption(options, "headerOnly")
                   ? WriteFrameHeader(output, spec, payload.Length())
                   : WriteFrame(output, spec, payload.Data(), payload.Length());
  if (status != 0) {
    evbuffer_free(output);
    return ThrowInvalidArg(env, "writeFrame: the codec refuses this frame");
  }
  evbuffer_drain(output, prefix);
  size_t length = evbuffer_get_length(output);
  Napi::Buffer<uint8_t> bytes = Napi::Buffer<uint8_t>::New(env, length);
  evbuffer_remove(output, bytes.Data(), length);
  evbuffer_free(output);
  return bytes;
}

Napi::Object InitCodecTestModule(Napi::Env env, Napi::Object exports) {
  exports.Set("parse", Napi::Function::New(env, Parse, "parse"));
  exports.Set("validateUtf8", Napi::Function::New(env, ValidateUtf8, "validateUtf8"));
  exports.Set("mask", Napi::Function::New(env, Mask, "mask"));
  exports.Set("writeFrame", Napi::Function::New(env, WriteFrameBytes, "writeFrame"));
  RegisterDeflateTestFunctions(env, exports);
  return exports;
}

}  // namespace

}  // namespace node_bufferevent::ws

using node_bufferevent::ws::InitCodecTestModule;
NODE_API_MODULE(bufferevent_codec_test, InitCodecTestModule)
