// One call per request head instead of an EvBuffer view, a search, a copy, a Buffer and its
// decoding in JavaScript; and the accept key without node:crypto's Hash object per handshake.
#include "handshake_head.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include <string>
#include <vector>

#include "../buffer_event.h"
#include "../util/errors.h"
#include "sha1.h"

namespace node_bufferevent::ws {

namespace {

constexpr char kHeadEnd[] = "\r\n\r\n";
constexpr size_t kHeadEndLength = 4;
constexpr char kAcceptGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
// Heads up to this size are copied through the stack; larger ones (maxHeaderSize allows 1 MiB)
// through the heap.
constexpr size_t kStackHead = 4096;

std::string Base64(const uint8_t* data, size_t length) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string text;
  text.reserve((length + 2) / 3 * 4);
  for (size_t i = 0; i < length; i += 3) {
    uint32_t group = uint32_t{data[i]} << 16;
    if (i + 1 < length) group |= uint32_t{data[i + 1]} << 8;
    if (i + 2 < length) group |= data[i + 2];
    text += kAlphabet[(group >> 18) & 63];
    text += kAlphabet[(group >> 12) & 63];
    text += i + 1 < length ? kAlphabet[(group >> 6) & 63] : '=';
    text += i + 2 < length ? kAlphabet[group & 63] : '=';
  }
  return text;
}

}  // namespace

napi_value ReadRequestHeadFromJs(napi_env raw_env, napi_callback_info callback_info) {
  Napi::CallbackInfo info(raw_env, callback_info);
  Napi::Env env = info.Env();
  BuffereventWrap* wrap = BuffereventWrap::FromJs(info[0], "bufferevent");
  if (wrap == nullptr) return nullptr;  // ERR_INVALID_ARG is pending
  if (wrap->bev() == nullptr) return ThrowError(env, "ERR_FREED", "this bufferevent was freed");
  if (!info[1].IsNumber())
    return ThrowError(env, "ERR_INVALID_ARG", "maxHeaderSize must be a number");
  double limit = info[1].As<Napi::Number>().DoubleValue();
  bool drain = info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  evbuffer* input = bufferevent_get_input(wrap->bev());
  evbuffer_ptr found = evbuffer_search(input, kHeadEnd, kHeadEndLength, nullptr);
  if (found.pos < 0) {
    return Napi::Number::New(env, static_cast<double>(evbuffer_get_length(input)) > limit
                                      ? kHeadTooLarge
                                      : kHeadIncomplete);
  }
  size_t head_length = static_cast<size_t>(found.pos);
  if (static_cast<double>(head_length + kHeadEndLength) > limit)
    return Napi::Number::New(env, kHeadTooLarge);
  char stack_copy[kStackHead];
  std::vector<char> heap_copy;
  char* copy = stack_copy;
  if (head_length > sizeof stack_copy) {
    heap_copy.resize(head_length);
    copy = heap_copy.data();
  }
  evbuffer_copyout(input, copy, head_length);
  napi_value head;
  if (napi_create_string_latin1(env, copy, head_length, &head) != napi_ok) return nullptr;
  if (drain) evbuffer_drain(input, head_length + kHeadEndLength);
  return head;
}

napi_value AcceptKeyFromJs(napi_env raw_env, napi_callback_info callback_info) {
  Napi::CallbackInfo info(raw_env, callback_info);
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ThrowError(env, "ERR_INVALID_ARG", "key must be a string");
  std::string key = info[0].As<Napi::String>().Utf8Value();
  Sha1Digest digest = Sha1(reinterpret_cast<const uint8_t*>(key.data()), key.size(),
                           reinterpret_cast<const uint8_t*>(kAcceptGuid), sizeof kAcceptGuid - 1);
  std::string accept = Base64(digest.data(), digest.size());
  return Napi::String::New(env, accept);
}

}  // namespace node_bufferevent::ws
