// The WebSocket connection's native half: feeding the bufferevent's input to its ProtocolSession,
// reporting what it finds to JavaScript, and frame output.
#include "connection.h"

#include <event2/buffer.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <memory>
#include <string>
#include <vector>

#include "../addon.h"
#include "../event_loop.h"
#include "../util/errors.h"
#include "../util/js_callback.h"
#include "../util/napi_checked.h"
#include "frame_output.h"
#include "frame_writer.h"
#include "mask.h"
#include "mask_keys.h"
#include "message_batch.h"

namespace node_bufferevent::ws {

namespace {

// Messages at least this large are handed to JavaScript without a second copy.
constexpr size_t kExternalMessageThreshold = 64 * 1024;

FrameParserOptions ParserOptions(const Napi::Object& options) {
  FrameParserOptions result;
  // The defaults apply only when napi refuses the reads (the worker is being terminated); the wrap
  // that ends construction is then refused too, and the object never reaches JavaScript.
  result.role = GetFlag(options, "client") ? Role::kClient : Role::kServer;
  result.limits.max_payload = static_cast<uint64_t>(GetNumber(options, "maxPayload", 0));
  result.limits.max_fragments = GetUint32(options, "maxFragments", 0);
  return result;
}

void FreeMessage(napi_env, void*, void* message) {
  delete static_cast<std::vector<uint8_t>*>(message);
}

}  // namespace

Napi::Function WebSocketConnection::Init(Napi::Env env, Addon& addon) {
  Napi::Function constructor =
      DefineClass(env, "WebSocketConnection",
                  {
                      InstanceMethod<&WebSocketConnection::Send>("send"),
                      InstanceMethod<&WebSocketConnection::BufferedAmount>("bufferedAmount"),
                      InstanceMethod<&WebSocketConnection::Cork>("cork"),
                      InstanceMethod<&WebSocketConnection::Uncork>("uncork"),
                      InstanceMethod<&WebSocketConnection::Pause>("pause"),
                      InstanceMethod<&WebSocketConnection::Resume>("resume"),
                      InstanceMethod<&WebSocketConnection::NotifyDrain>("notifyDrain"),
                      InstanceMethod<&WebSocketConnection::ShutdownWrite>("shutdownWrite"),
                      InstanceMethod<&WebSocketConnection::CloseFromJs>("close"),
                      InstanceMethod<&WebSocketConnection::Subscribe>("subscribe"),
                      InstanceMethod<&WebSocketConnection::Unsubscribe>("unsubscribe"),
                      InstanceMethod<&WebSocketConnection::IsSubscribed>("isSubscribed"),
                      InstanceMethod<&WebSocketConnection::Topics>("topics"),
                      InstanceMethod<&WebSocketConnection::SkippedPublishes>("skippedPublishes"),
                  });
  // Refused only while the environment is going away, when nothing sends any more.
  if (constructor.IsEmpty()) return constructor;
  napi_value prototype = nullptr;
  napi_value send = nullptr;
  napi_value send_in_batch = nullptr;
  if (napi_get_named_property(env, constructor, "prototype", &prototype) == napi_ok &&
      napi_get_named_property(env, prototype, "send", &send) == napi_ok &&
      napi_create_function(env, "sendInBatch", NAPI_AUTO_LENGTH, SendInBatch, nullptr,
                           &send_in_batch) == napi_ok) {
    addon.websocket_connection_class = Napi::Persistent(constructor);
    addon.websocket_send = Napi::Persistent(Napi::Function(env, send));
    napi_set_named_property(env, constructor, "sendInBatch", send_in_batch);
  }
  return constructor;
}

WebSocketConnection::WebSocketConnection(const Napi::CallbackInfo& info)
    : NativeObject(info, ObjectKind::kWebSocket),
      ProtocolSession(ParserOptions(info[1].As<Napi::Object>())) {
  if (loop() == nullptr) return;
  Napi::Env env = info.Env();
  // Its JavaScript object is the owner: WebSocket sets `socket` on it (src/websocket/websocket.ts).
  SetSelfAsOwner(info.This().As<Napi::Object>(), env, "WebSocket");
  client_ = GetFlag(info[1].As<Napi::Object>(), "client");
  BuffereventWrap* bufferevent = BuffereventWrap::FromJs(info[0], "bufferevent");
  if (bufferevent == nullptr) {  // ERR_INVALID_ARG is pending
    NativeObject::Close();
    return;
  }
  if (bufferevent->bev() == nullptr || bufferevent->kind() != BuffereventKind::kSocket) {
    NativeObject::Close();
    ThrowError(env, "ERR_INVALID_ARG", "a WebSocket needs a live socket bufferevent");
    return;
  }
  // As ws does: a WebSocket's frames are messages, so Nagle must not hold a small frame back until
  // the previous one is acknowledged (a peer delaying its ACK made that a 40 ms stall per message).
  // Fails harmlessly on a socket that is not TCP.
  int no_delay = 1;
  setsockopt(bufferevent_getfd(bufferevent->bev()), IPPROTO_TCP, TCP_NODELAY, &no_delay,
             sizeof no_delay);
  Napi::Value deflate = GetProperty(info[1].As<Napi::Object>(), "deflate");
  if (!deflate.IsEmpty() && deflate.IsObject()) EnableDeflate(env, deflate.As<Napi::Object>());
  // The connection takes the bufferevent over: its JavaScript object no longer owns it (and may be
  // collected at once), which saves that object, its wrap and a reference on every connection.
  void* unwrapped = nullptr;
  if (napi_remove_wrap(env, info[0], &unwrapped) != napi_ok || unwrapped != bufferevent) {
    NativeObject::Close();
    ThrowError(env, "ERR_INVALID_ARG", "the bufferevent could not be taken over by the WebSocket");
    return;
  }
  adopted_ = bufferevent;
  bufferevent_live_ = true;
  bufferevent->SetDelegate(this);
  KeepOwnerAlive(true);  // an open connection lives until it is closed, referenced or not
  // Bytes that came with the handshake are parsed on the next pass, once JavaScript has set up.
  bufferevent_trigger(bufferevent->bev(), EV_READ,
                      BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
  loop()->MarkDirty();
}

WebSocketConnection::~WebSocketConnection() {
  NativeObject::Close();
  // Released above if it was still open; libevent no longer knows it, nothing calls it.
  delete adopted_;
}

void WebSocketConnection::ReleaseNative() {
  // Leaving every topic first: a publish never sees a released connection, nor the pass's end.
  if (loop() != nullptr) {
    loop()->topics().LeaveAll(this);
    loop()->ForgetPassEndWrite(this);
  }
  if (bufferevent() != nullptr) {
    // Publishes held for the pass's end (and what was sent behind them) get the one write they
    // would have had without the wait; what the kernel does not take goes with the bufferevent.
    cork_.Flush(bufferevent());
    bufferevent_live_ = false;
    adopted_->SetDelegate(nullptr);
    adopted_->Close();
  }
  ProtocolSession::ReleaseMemory();
  if (rare_ != nullptr) rare_->deflater.reset();
  // The rest of the rare state stays: skippedPublishes() still answers after the close.
  if (rare_ != nullptr && rare_->after_fragments != nullptr) {
    evbuffer_free(rare_->after_fragments);
    rare_->after_fragments = nullptr;
  }
  cork_.Release();
}

void WebSocketConnection::OnBuffereventReleased() { bufferevent_live_ = false; }

void WebSocketConnection::OnBuffereventCallback(BuffereventCallback which, short events, int err) {
  if (closed() || bufferevent() == nullptr) return;
  Napi::Env env(loop()->env());
  Napi::HandleScope scope(env);
  switch (which) {
    case BuffereventCallback::kRead:
      ParseInput();
      break;
    case BuffereventCallback::kWrite:
      if (drain_wanted_ && evbuffer_get_length(bufferevent_get_output(bufferevent()->bev())) == 0) {
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
  evbuffer* input = bufferevent_get_input(bufferevent()->bev());
  parsing_ = true;
  cork_.Begin(bufferevent()->WriteThroughOn());
  // kStopped means a callback paused or closed the connection, or (with no owner to call) only
  // that one event went unreported: the loop conditions tell which.
  while (!release_pending_ && !closed()) {
    // While paused nothing is parsed, but a finished session still discards what arrives.
    if (paused_ && !finished()) break;
    if (Feed(input) != ProtocolSession::Result::kStopped) break;
  }
  // What the read yielded and is not yet reported goes now, before the batch's replies leave. A
  // pause asked for by this call stops nothing here: JavaScript keeps what it has not delivered.
  FlushBatch();
  parsing_ = false;
  // The batch's frames leave together, before a release asked for by close()/terminate() in a
  // handler: what the handlers sent first goes out as it would have without the cork.
  if (bufferevent() != nullptr) {
    cork_.End(bufferevent());
  } else {
    cork_.Release();
  }
  if (release_pending_) NativeObject::Close();
}

bool WebSocketConnection::FlushBatch() {
  Napi::Env env(this->env());
  MessageBatch& batch = Addon::Of(env).message_batch;
  if (batch.empty()) return true;
  if (closed() || loop() == nullptr) {
    batch.Clear();
    return false;
  }
  size_t count = batch.count();
  napi_value pool = nullptr;
  size_t index_at = 0;
  // Refused (the worker is being terminated): the messages go unreported, like any event then.
  if (!batch.Take(env, &pool, &index_at)) return false;
  return Dispatch(ConnectionEvent::kBatch,
                  {pool, Napi::Number::New(env, static_cast<double>(count)),
                   Napi::Number::New(env, static_cast<double>(index_at))});
}

bool WebSocketConnection::OnMessage(std::vector<uint8_t>& message, bool binary) {
  MessageBatch& batch = Addon::Of(Napi::Env(env())).message_batch;
  if (message.size() <= MessageBatch::kMaxMessageBytes) {
    bool go_on = batch.Fits(message.size()) || FlushBatch();
    // Even when the flush paused the connection this message is parsed already: it joins the next
    // batch, which JavaScript keeps until it resumes.
    batch.Add(message.data(), message.size(), binary);
    return go_on;
  }
  bool go_on = FlushBatch();
  Napi::Env env(loop()->env());
  Napi::Buffer<uint8_t> data;
  if (message.size() >= kExternalMessageThreshold) {
    auto* owned = new std::vector<uint8_t>();
    owned->swap(message);
    data = ExternalBuffer(env, owned->data(), owned->size(), FreeMessage, owned);
    if (data.IsEmpty()) delete owned;  // refused: the finalizer will never run
  } else {
    data = CopyBuffer(env, message.data(), message.size());
  }
  // Refused (the worker is being terminated): the message goes unreported, like one without an
  // owner to call.
  if (data.IsEmpty()) return false;
  return Dispatch(ConnectionEvent::kMessage, {data, Napi::Boolean::New(env, binary)}) && go_on;
}

// Control frames, the peer's close and errors are reported after the messages before them, even
// when that batch paused the connection: JavaScript holds them in order until it resumes.
bool WebSocketConnection::OnPing(const uint8_t* data, size_t length) {
  bool go_on = FlushBatch();
  Napi::Buffer<uint8_t> copy = CopyBuffer(Napi::Env(loop()->env()), data, length);
  return !copy.IsEmpty() && Dispatch(ConnectionEvent::kPing, {copy}) && go_on;
}

bool WebSocketConnection::OnPong(const uint8_t* data, size_t length) {
  bool go_on = FlushBatch();
  Napi::Buffer<uint8_t> copy = CopyBuffer(Napi::Env(loop()->env()), data, length);
  return !copy.IsEmpty() && Dispatch(ConnectionEvent::kPong, {copy}) && go_on;
}

void WebSocketConnection::OnClose(uint16_t code, const uint8_t* reason, size_t reason_length) {
  FlushBatch();
  Napi::Env env(loop()->env());
  Napi::Buffer<uint8_t> copy = CopyBuffer(env, reason, reason_length);
  if (!copy.IsEmpty()) Dispatch(ConnectionEvent::kClose, {Napi::Number::New(env, code), copy});
}

void WebSocketConnection::OnError(const ProtocolError& error) {
  FlushBatch();
  Napi::Env env(loop()->env());
  Dispatch(ConnectionEvent::kError,
           {Napi::Number::New(env, error.close_code), Napi::String::New(env, error.code),
            Napi::String::New(env, error.message)});
}

void WebSocketConnection::WritePong(const uint8_t* data, size_t length) {
  // The replies to the messages before the ping go first; one of them may have been our close.
  FlushBatch();
  if (closed() || release_pending_ || close_sent()) return;
  WriteFrame(Napi::Env(loop()->env()), kPong, true, data, length, nullptr);
}

bool WebSocketConnection::Dispatch(ConnectionEvent event, std::initializer_list<napi_value> args) {
  EventLoop* event_loop = loop();
  if (closed() || release_pending_ || event_loop == nullptr || event_loop->shutting_down()) {
    return false;
  }
  Napi::Env env(event_loop->env());
  Napi::Value owner = OwnerValue(env);
  if (owner.IsUndefined()) return false;
  napi_value argv[5] = {owner, Napi::Number::New(env, static_cast<int>(event)), env.Undefined(),
                        env.Undefined(), env.Undefined()};
  size_t i = 2;
  for (napi_value arg : args) argv[i++] = arg;
  Addon& addon = Addon::Of(env);
  // Restored after, in case a handler made another connection dispatch (nothing does today). The
  // slab's frames are the outer connection's until then.
  TakeSendSlab(addon);
  WebSocketConnection* outer_connection = addon.dispatching_connection;
  napi_value outer_owner = addon.dispatching_owner;
  addon.dispatching_connection = this;
  addon.dispatching_owner = owner;
  RefreshSlabQueued(addon);
  CallIntoJs(env, async_context(), addon.websocket_dispatch.Value(),
             {argv[0], argv[1], argv[2], argv[3], argv[4]});
  TakeSendSlab(addon);
  addon.dispatching_connection = outer_connection;
  addon.dispatching_owner = outer_owner;
  if (outer_connection != nullptr) outer_connection->RefreshSlabQueued(addon);
  return !closed() && !release_pending_ && !paused_;
}

void WebSocketConnection::TakeSendSlab(Addon& addon) {
  if (!addon.send_slab.holding()) return;
  size_t length = 0;
  const uint8_t* frames = addon.send_slab.Take(&length);
  WebSocketConnection* connection = addon.dispatching_connection;
  if (frames == nullptr || connection == nullptr) return;
  connection->WriteSlabFrames(Napi::Env(connection->env()), frames, length);
  // JavaScript's limit checks go on from what the connection holds now.
  connection->RefreshSlabQueued(addon);
}

void WebSocketConnection::BeforeMethod(Napi::Env env) { TakeSendSlab(Addon::Of(env)); }

void WebSocketConnection::RefreshSlabQueued(Addon& addon) {
  addon.send_slab.SetQueued(bufferevent() != nullptr ? QueuedBytes() : 0);
}

void WebSocketConnection::WriteSlabFrames(Napi::Env env, const uint8_t* frames, size_t length) {
  if (closed() || release_pending_ || bufferevent() == nullptr || close_sent()) return;
  if (!QueueFrame(env, bufferevent(), cork_.holder(), frames, length, nullptr, 0, nullptr)) {
    // As a send's refused bytes: libevent is out of memory, and the connection cannot go on.
    OnError({kCloseInternalError, "WS_ERR_SEND",
             "frames could not be queued (libevent refused the bytes)"});
  }
}

bool WebSocketConnection::CheckUsable(Napi::Env env) {
  if (!closed() && bufferevent() != nullptr && !release_pending_) return true;
  ThrowError(env, "ERR_FREED", "this WebSocket connection was closed");
  return false;
}

bool WebSocketConnection::WriteFrame(Napi::Env env, uint8_t opcode, bool fin,
                                     const uint8_t* payload, size_t length,
                                     napi_value payload_owner, bool rsv1) {
  FrameSpec spec;
  spec.opcode = opcode;
  spec.fin = fin;
  spec.rsv1 = rsv1;
  uint8_t key[4];
  if (client_) {
    if (!ThreadMaskKeys().Next(key)) return false;
    spec.mask_key = key;
  }
  uint8_t header[kMaxFrameHeaderSize];
  size_t header_length = EncodeFrameHeader(spec, length, header);
  if (header_length == 0) return false;
  if (opcode == kClose) CloseSent();
  if (!client_) {
    return QueueFrame(env, bufferevent(), cork_.holder(), header, header_length, payload, length,
                      payload_owner);
  }
  // A client's payload goes out masked: one copy, masked on the way.
  std::unique_ptr<uint8_t[]> masked(new uint8_t[length > 0 ? length : 1]);
  MaskCopy(masked.get(), payload, length, key, 0);
  return QueueFrame(env, bufferevent(), cork_.holder(), header, header_length, masked.get(), length,
                    nullptr);
}

Napi::Value WebSocketConnection::Send(const Napi::CallbackInfo& info) {
  return SendFrame(info.Env(), info[0], info[1], info[2]);
}

napi_value WebSocketConnection::SendInBatch(napi_env raw_env, napi_callback_info callback_info) {
  Napi::Env env(raw_env);
  size_t argc = 4;
  napi_value argv[4] = {nullptr, nullptr, nullptr, nullptr};
  if (napi_get_cb_info(env, callback_info, &argc, argv, nullptr, nullptr) != napi_ok)
    return nullptr;
  Addon& addon = Addon::Of(env);
  WebSocketConnection* connection = addon.dispatching_connection;
  bool same = false;
  if (connection != nullptr &&
      napi_strict_equals(env, argv[0], addon.dispatching_owner, &same) == napi_ok && same) {
    // As BeforeMethod does for the method call below.
    TakeSendSlab(addon);
    return connection->SendFrame(env, argv[1], argv[2], argv[3]);
  }
  // Connections carry no type tag (it would cost each one heap memory), so another object goes
  // through send() as a method: V8's receiver check proves its class before C++ sees it.
  bool is_connection = false;
  Napi::Value object(env, argv[0]);
  if (!object.IsObject() || addon.websocket_send.IsEmpty() ||
      napi_instanceof(env, object, addon.websocket_connection_class.Value(), &is_connection) !=
          napi_ok ||
      !is_connection) {
    return ThrowError(env, "ERR_INVALID_ARG", "connection must be a WebSocket connection");
  }
  napi_value result = nullptr;
  napi_call_function(env, object, addon.websocket_send.Value(), 3, argv + 1, &result);
  return result;
}

Napi::Value WebSocketConnection::SendFrame(Napi::Env env, napi_value data_value,
                                           napi_value frame_value, napi_value limit_value) {
  if (!CheckUsable(env)) return Napi::Value();
  // One napi call for the bytes (Napi::Buffer would make two, each asking V8 for the type).
  void* bytes = nullptr;
  size_t length = 0;
  uint32_t frame = 0;
  double limit = -1;
  if (napi_get_buffer_info(env, data_value, &bytes, &length) != napi_ok ||
      napi_get_value_uint32(env, frame_value, &frame) != napi_ok ||
      napi_get_value_double(env, limit_value, &limit) != napi_ok) {
    return ThrowError(env, "ERR_INVALID_ARG",
                      "send(data, frame, limit) takes a Buffer and two numbers");
  }
  const auto* data = static_cast<const uint8_t*>(bytes);
  uint8_t opcode = static_cast<uint8_t>(frame & 0x0f);
  bool fin = (frame & 0x80) != 0;
  bool compress = (frame & 0x40) != 0;
  // The limit check is here rather than in JavaScript: one call into the addon per send.
  if (limit >= 0 && static_cast<double>(QueuedBytes() + length) > limit) {
    return Napi::Number::New(env, -1);
  }
  if (opcode == kText || opcode == kBinary) {
    sending_compressed_ = compress && deflater() != nullptr &&
                          static_cast<double>(length) >= rare_->deflate_threshold;
  }
  if (opcode <= kBinary && sending_compressed_) {
    std::string error;
    if (!WriteCompressedFrame(env, opcode, fin, data, length, &error)) {
      return ThrowError(env, "WS_ERR_COMPRESSION_FAILED",
                        "the message could not be compressed: " + error);
    }
  } else if (!WriteFrame(env, opcode, fin, data, length, data_value)) {
    return ThrowError(env, "WS_ERR_SEND",
                      "the frame could not be queued (libevent refused the bytes)");
  }
  if (opcode <= kBinary) {
    sending_fragments_ = !fin;
    if (fin) SendAfterFragments();
  }
  size_t queued = QueuedBytes();
  Addon& addon = Addon::Of(env);
  if (addon.dispatching_connection == this) addon.send_slab.SetQueued(queued);
  return Napi::Number::New(env, static_cast<double>(queued));
}

size_t WebSocketConnection::QueuedBytes() const {
  size_t waiting = rare_ != nullptr && rare_->after_fragments != nullptr
                       ? evbuffer_get_length(rare_->after_fragments)
                       : 0;
  return evbuffer_get_length(bufferevent_get_output(bufferevent()->bev())) + cork_.length() +
         waiting;
}

Napi::Value WebSocketConnection::BufferedAmount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed() || bufferevent() == nullptr) return Napi::Number::New(env, 0);
  return Napi::Number::New(env, static_cast<double>(QueuedBytes()));
}

Napi::Value WebSocketConnection::Cork(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  if (parsing_ || cork_.holding_batch()) return Napi::Boolean::New(env, false);
  cork_.Begin(bufferevent()->WriteThroughOn());
  return Napi::Boolean::New(env, cork_.holding_batch());
}

Napi::Value WebSocketConnection::Uncork(const Napi::CallbackInfo& info) {
  // Closed meanwhile: releasing sent or dropped what was held.
  if (!closed() && bufferevent() != nullptr && !parsing_) cork_.End(bufferevent());
  return info.Env().Undefined();
}

Napi::Value WebSocketConnection::Pause(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  paused_ = true;
  bufferevent()->DisableEvents(EV_READ);
  return env.Undefined();
}

Napi::Value WebSocketConnection::Resume(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  if (!paused_) return env.Undefined();
  paused_ = false;
  bufferevent()->EnableEvents(EV_READ);
  // What arrived before the pause is still in the input: parse it on the next pass.
  bufferevent_trigger(bufferevent()->bev(), EV_READ,
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
  // Frames held by the cork must reach the output first, or the shutdown would not wait for them.
  cork_.Flush(bufferevent());
  bufferevent()->ShutdownWhenDrained();
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
