// The WebSocket connection's native half: parsing from the bufferevent's input, message assembly,
// control frames (automatic pong, close payload checks, reserved bits) and frame output.
#include "connection.h"

#include <event2/buffer.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "../addon.h"
#include "../event_loop.h"
#include "../util/errors.h"
#include "../util/js_callback.h"
#include "close_frame.h"
#include "frame_writer.h"
#include "mask.h"

namespace node_bufferevent::ws {

namespace {

// Messages at least this large are handed to JavaScript without a second copy.
constexpr size_t kExternalMessageThreshold = 64 * 1024;
// The assembly buffer keeps its capacity between messages only up to this size.
constexpr size_t kRetainedCapacity = 1024 * 1024;
// The first reservation for a message; fragments and long frames grow it as they arrive, so a
// header announcing a huge length reserves nothing it has not received.
constexpr uint64_t kMaxReservation = 1024 * 1024;

FrameParserOptions ParserOptions(const Napi::Object& options) {
  FrameParserOptions result;
  result.role = options.Get("client").ToBoolean().Value() ? Role::kClient : Role::kServer;
  result.limits.max_payload =
      static_cast<uint64_t>(options.Get("maxPayload").As<Napi::Number>().DoubleValue());
  result.limits.max_fragments = options.Get("maxFragments").As<Napi::Number>().Uint32Value();
  return result;
}

void FreeMessage(Napi::Env, uint8_t*, std::vector<uint8_t>* message) { delete message; }

}  // namespace

Napi::Function WebSocketConnection::Init(Napi::Env env) {
  return DefineClass(env, "WebSocketConnection",
                     {
                         InstanceMethod("send", &WebSocketConnection::Send),
                         InstanceMethod("bufferedAmount", &WebSocketConnection::BufferedAmount),
                         InstanceMethod("pause", &WebSocketConnection::Pause),
                         InstanceMethod("resume", &WebSocketConnection::Resume),
                         InstanceMethod("notifyDrain", &WebSocketConnection::NotifyDrain),
                         InstanceMethod("shutdownWrite", &WebSocketConnection::ShutdownWrite),
                         InstanceMethod("close", &WebSocketConnection::CloseFromJs),
                     });
}

WebSocketConnection::WebSocketConnection(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<WebSocketConnection>(info),
      NativeObject(info, ObjectKind::kWebSocket),
      parser_(ParserOptions(info[2].As<Napi::Object>()), this) {
  if (loop() == nullptr) return;
  Napi::Env env = info.Env();
  SetOwner(info[0].As<Napi::Object>(), env, "WebSocket");
  client_ = info[2].As<Napi::Object>().Get("client").ToBoolean().Value();
  bufferevent_ = BuffereventWrap::FromJs(info[1], "bufferevent");
  if (bufferevent_ == nullptr) {  // ERR_INVALID_ARG is pending
    NativeObject::Close();
    return;
  }
  if (bufferevent_->bev() == nullptr || bufferevent_->kind() != BuffereventKind::kSocket) {
    bufferevent_ = nullptr;
    NativeObject::Close();
    ThrowError(env, "ERR_INVALID_ARG", "a WebSocket needs a live socket bufferevent");
    return;
  }
  napi_create_reference(env, info[1], 1, &bufferevent_ref_);
  bufferevent_->SetDelegate(this);
  KeepOwnerAlive(true);  // an open connection lives until it is closed, referenced or not
  // Bytes that came with the handshake are parsed on the next pass, once JavaScript has set up.
  bufferevent_trigger(bufferevent_->bev(), EV_READ,
                      BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
  loop()->MarkDirty();
}

WebSocketConnection::~WebSocketConnection() {
  NativeObject::Close();
  if (bufferevent_ref_ != nullptr) napi_delete_reference(Env(), bufferevent_ref_);
}

void WebSocketConnection::ReleaseNative() {
  if (bufferevent_ != nullptr) {
    BuffereventWrap* bufferevent = bufferevent_;
    bufferevent_ = nullptr;
    bufferevent->SetDelegate(nullptr);
    bufferevent->Close();
  }
  std::vector<uint8_t>().swap(message_);
}

void WebSocketConnection::OnBuffereventReleased() { bufferevent_ = nullptr; }

void WebSocketConnection::OnBuffereventCallback(BuffereventCallback which, short events, int err) {
  if (closed() || bufferevent_ == nullptr) return;
  Napi::Env env(loop()->env());
  Napi::HandleScope scope(env);
  switch (which) {
    case BuffereventCallback::kRead:
      ParseInput();
      break;
    case BuffereventCallback::kWrite:
      if (drain_wanted_ && evbuffer_get_length(bufferevent_get_output(bufferevent_->bev())) == 0) {
        drain_wanted_ = false;
        Dispatch(ConnectionEvent::kDrain, {});
      }
      break;
    case BuffereventCallback::kEvent:
      Dispatch(ConnectionEvent::kSocket,
               {Napi::Number::New(env, events), Napi::Number::New(env, err)});
      break;
  }
}

void WebSocketConnection::ParseInput() {
  evbuffer* input = bufferevent_get_input(bufferevent_->bev());
  if (!failed_ && !close_received_ && !paused_) {
    parsing_ = true;
    while (!paused_ && !failed_ && !close_received_ && !release_pending_ && !closed()) {
      FrameParser::Result result = parser_.Parse(input);
      if (result == FrameParser::Result::kNeedMore) break;
      if (result == FrameParser::Result::kFailed) {
        Fail(parser_.error());
        break;
      }
    }
    parsing_ = false;
  }
  if (release_pending_) {
    NativeObject::Close();
    return;
  }
  // After a close frame or a protocol error nothing the peer sends matters (RFC 6455 §5.5.1).
  if ((failed_ || close_received_) && bufferevent_ != nullptr)
    evbuffer_drain(input, evbuffer_get_length(input));
}

bool WebSocketConnection::OnFrameStart(const FrameHeader& header) {
  if (header.rsv2 || header.rsv3) {
    return Fail({kCloseProtocolError, "WS_ERR_UNEXPECTED_RSV_2_3",
                 "a frame has RSV2 or RSV3 set, and no extension defines them"});
  }
  if (header.rsv1) {
    return Fail({kCloseProtocolError, "WS_ERR_UNEXPECTED_RSV_1",
                 "a frame has RSV1 set, and no extension that defines it was negotiated"});
  }
  frame_opcode_ = header.opcode;
  frame_fin_ = header.fin;
  if (IsControlOpcode(header.opcode)) {
    control_length_ = 0;
  } else if (header.opcode != kContinuation) {
    message_opcode_ = header.opcode;
    message_.clear();
    if (header.fin) message_.reserve(std::min(header.payload_length, kMaxReservation));
  }
  return true;
}

bool WebSocketConnection::OnPayload(const uint8_t* data, size_t length) {
  if (IsControlOpcode(frame_opcode_)) {
    // The parser refuses control frames over 125 bytes before any payload arrives.
    std::copy(data, data + length, control_ + control_length_);
    control_length_ += length;
  } else {
    message_.insert(message_.end(), data, data + length);
  }
  return true;
}

bool WebSocketConnection::OnFrameEnd() {
  if (IsControlOpcode(frame_opcode_)) return DeliverControl();
  if (!frame_fin_) return true;
  return DeliverMessage();
}

bool WebSocketConnection::DeliverMessage() {
  Napi::Env env(loop()->env());
  Napi::Buffer<uint8_t> data;
  if (message_.size() >= kExternalMessageThreshold) {
    auto* owned = new std::vector<uint8_t>(std::move(message_));
    data = Napi::Buffer<uint8_t>::New(env, owned->data(), owned->size(), FreeMessage, owned);
    message_ = std::vector<uint8_t>();
  } else {
    data = Napi::Buffer<uint8_t>::Copy(env, message_.data(), message_.size());
    if (message_.capacity() > kRetainedCapacity) std::vector<uint8_t>().swap(message_);
    message_.clear();
  }
  return Dispatch(ConnectionEvent::kMessage,
                  {data, Napi::Boolean::New(env, message_opcode_ == kBinary)});
}

bool WebSocketConnection::DeliverControl() {
  Napi::Env env(loop()->env());
  switch (frame_opcode_) {
    case kPing: {
      // Answered here, before user code runs; after our close frame no pong is due (§5.5.1).
      if (!close_sent_) WriteFrame(env, kPong, true, control_, control_length_, nullptr);
      return Dispatch(ConnectionEvent::kPing,
                      {Napi::Buffer<uint8_t>::Copy(env, control_, control_length_)});
    }
    case kPong:
      return Dispatch(ConnectionEvent::kPong,
                      {Napi::Buffer<uint8_t>::Copy(env, control_, control_length_)});
    case kClose: {
      ClosePayload close;
      ProtocolError error;
      if (!ParseClosePayload(control_, control_length_, &close, &error)) return Fail(error);
      close_received_ = true;
      Dispatch(ConnectionEvent::kClose,
               {Napi::Number::New(env, close.code),
                Napi::Buffer<uint8_t>::Copy(env, close.reason, close.reason_length)});
      return false;
    }
  }
  return true;
}

bool WebSocketConnection::Fail(const ProtocolError& error) {
  if (failed_) return false;
  failed_ = true;
  Napi::Env env(loop()->env());
  Dispatch(ConnectionEvent::kError,
           {Napi::Number::New(env, error.close_code), Napi::String::New(env, error.code),
            Napi::String::New(env, error.message)});
  return false;
}

bool WebSocketConnection::Dispatch(ConnectionEvent event, std::initializer_list<napi_value> args) {
  EventLoop* event_loop = loop();
  if (closed() || event_loop == nullptr || event_loop->shutting_down()) return false;
  Napi::Env env(event_loop->env());
  Napi::Value owner = OwnerValue(env);
  if (owner.IsUndefined()) return false;
  napi_value argv[5] = {owner, Napi::Number::New(env, static_cast<int>(event)), env.Undefined(),
                        env.Undefined(), env.Undefined()};
  size_t i = 2;
  for (napi_value arg : args) argv[i++] = arg;
  CallIntoJs(env, async_context(), Addon::Of(env).websocket_dispatch.Value(),
             {argv[0], argv[1], argv[2], argv[3], argv[4]});
  return !closed() && !release_pending_ && !paused_;
}

bool WebSocketConnection::CheckUsable(Napi::Env env) {
  if (!closed() && bufferevent_ != nullptr && !release_pending_) return true;
  ThrowError(env, "ERR_FREED", "this WebSocket connection was closed");
  return false;
}

bool WebSocketConnection::WriteFrame(Napi::Env env, uint8_t opcode, bool fin,
                                     const uint8_t* payload, size_t length,
                                     const Napi::Buffer<uint8_t>* payload_owner) {
  FrameSpec spec;
  spec.opcode = opcode;
  spec.fin = fin;
  uint8_t key[4];
  if (client_) {
    if (!mask_keys_.Next(key)) return false;
    spec.mask_key = key;
  }
  uint8_t header[kMaxFrameHeaderSize];
  size_t header_length = EncodeFrameHeader(spec, length, header);
  if (header_length == 0) return false;
  if (opcode == kClose) close_sent_ = true;
  if (!client_) {
    return bufferevent_->WriteParts(env, header, header_length, payload, length, payload_owner);
  }
  // A client's payload goes out masked: one copy, masked on the way.
  std::unique_ptr<uint8_t[]> masked(new uint8_t[length > 0 ? length : 1]);
  MaskCopy(masked.get(), payload, length, key, 0);
  return bufferevent_->WriteParts(env, header, header_length, masked.get(), length, nullptr);
}

Napi::Value WebSocketConnection::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  auto data = info[0].As<Napi::Buffer<uint8_t>>();
  uint8_t opcode = static_cast<uint8_t>(info[1].As<Napi::Number>().Uint32Value());
  bool fin = info[2].ToBoolean().Value();
  if (!WriteFrame(env, opcode, fin, data.Data(), data.Length(), &data)) {
    return ThrowError(env, "WS_ERR_SEND",
                      "the frame could not be queued (libevent refused the bytes)");
  }
  return Napi::Number::New(
      env, static_cast<double>(evbuffer_get_length(bufferevent_get_output(bufferevent_->bev()))));
}

Napi::Value WebSocketConnection::BufferedAmount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed() || bufferevent_ == nullptr) return Napi::Number::New(env, 0);
  return Napi::Number::New(
      env, static_cast<double>(evbuffer_get_length(bufferevent_get_output(bufferevent_->bev()))));
}

Napi::Value WebSocketConnection::Pause(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  paused_ = true;
  bufferevent_->SetReadEnabled(false);
  return env.Undefined();
}

Napi::Value WebSocketConnection::Resume(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  if (!paused_) return env.Undefined();
  paused_ = false;
  bufferevent_->SetReadEnabled(true);
  // What arrived before the pause is still in the input: parse it on the next pass.
  bufferevent_trigger(bufferevent_->bev(), EV_READ,
                      BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
  loop()->MarkDirty();
  return env.Undefined();
}

Napi::Value WebSocketConnection::NotifyDrain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  drain_wanted_ = true;
  return env.Undefined();
}

Napi::Value WebSocketConnection::ShutdownWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  bufferevent_->ShutdownWhenDrained();
  loop()->MarkDirty();
  return env.Undefined();
}

Napi::Value WebSocketConnection::CloseFromJs(const Napi::CallbackInfo& info) {
  // Inside a callback from ParseInput the input evbuffer is still in use: release on return.
  if (parsing_) {
    release_pending_ = true;
  } else {
    NativeObject::Close();
  }
  return info.Env().Undefined();
}

}  // namespace node_bufferevent::ws
