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
  // The defaults apply only when napi refuses the reads: the worker is being terminated, and no
  // JavaScript will ever use the connection (teardown closes it).
  result.role = GetFlag(options, "client") ? Role::kClient : Role::kServer;
  result.limits.max_payload = static_cast<uint64_t>(GetNumber(options, "maxPayload", 0));
  result.limits.max_fragments = GetUint32(options, "maxFragments", 0);
  return result;
}

void FreeMessage(napi_env, void*, void* message) {
  delete static_cast<std::vector<uint8_t>*>(message);
}

}  // namespace

Napi::Object WebSocketConnection::Init(Napi::Env env) {
  napi_property_descriptor functions[] = {
      Function("open", Open),
      Function("send", Call<&WebSocketConnection::Send, 3>),
      Function("bufferedAmount", Call<&WebSocketConnection::BufferedAmount, 0>),
      Function("cork", Call<&WebSocketConnection::Cork, 0>),
      Function("uncork", Call<&WebSocketConnection::Uncork, 0>),
      Function("pause", Call<&WebSocketConnection::Pause, 0>),
      Function("resume", Call<&WebSocketConnection::Resume, 0>),
      Function("notifyDrain", Call<&WebSocketConnection::NotifyDrain, 0>),
      Function("shutdownWrite", Call<&WebSocketConnection::ShutdownWrite, 0>),
      Function("close", Call<&WebSocketConnection::CloseFromJs, 0>),
      Function("subscribe", Call<&WebSocketConnection::Subscribe, 3>),
      Function("unsubscribe", Call<&WebSocketConnection::Unsubscribe, 1>),
      Function("isSubscribed", Call<&WebSocketConnection::IsSubscribed, 1>),
      Function("topics", Call<&WebSocketConnection::Topics, 0>),
      Function("skippedPublishes", Call<&WebSocketConnection::SkippedPublishes, 0>),
  };
  napi_value object = nullptr;
  // Refused only while the environment is going away, when nothing sends any more.
  if (napi_create_object(env, &object) != napi_ok ||
      napi_define_properties(env, object, sizeof functions / sizeof functions[0], functions) !=
          napi_ok) {
    return Napi::Object();
  }
  return Napi::Object(env, object);
}

napi_value WebSocketConnection::Open(napi_env raw_env, napi_callback_info callback_info) {
  Napi::Env env(raw_env);
  size_t argc = 3;
  napi_value argv[3] = {nullptr, nullptr, nullptr};
  if (napi_get_cb_info(env, callback_info, &argc, argv, nullptr, nullptr) != napi_ok)
    return nullptr;
  Napi::Value options(env, argv[1]);
  Napi::Value socket(env, argv[2]);
  if (!options.IsObject() || !socket.IsObject()) {
    return ThrowError(env, "ERR_INVALID_ARG", "open(bufferevent, options, socket) takes objects");
  }
  EventLoop* event_loop = RequireLoop(env);
  if (event_loop == nullptr) return nullptr;  // ERR_LOOP_INIT is pending
  // Refused before the bufferevent is taken over: after that, the connection can only end as any
  // other does (open() may be running inside that bufferevent's own read callback).
  if (event_loop->connections().full()) {
    return ThrowError(env, "ERR_CREATE",
                      "a WebSocket cannot open: 2^23 connections are open in this thread");
  }
  auto* connection =
      new WebSocketConnection(env, argv[0], options.As<Napi::Object>(), socket.As<Napi::Object>());
  // A constructor that failed closed the connection before taking the bufferevent over, and most
  // failures left their exception pending. A bufferevent whose wrap is gone (another connection
  // took it over) is refused without one.
  bool pending = false;
  if (connection->closed() || napi_is_exception_pending(env, &pending) != napi_ok || pending) {
    delete connection;
    if (!pending) {
      ThrowError(env, "ERR_INVALID_ARG",
                 "a WebSocket needs a live socket bufferevent that no connection has taken over");
    }
    return nullptr;
  }
  int32_t id = event_loop->connections().Add(connection);
  connection->id_ = id;
  return Napi::Number::New(env, id);
}

WebSocketConnection::WebSocketConnection(Napi::Env env, napi_value bufferevent_value,
                                         Napi::Object options, Napi::Object socket)
    : NativeObject(env, ObjectKind::kWebSocket), ProtocolSession(ParserOptions(options)) {
  if (loop() == nullptr) return;
  // The WebSocket is the async resource: its events run in the context it was made in.
  SetAsyncResource(socket, env, "WebSocket");
  client_ = GetFlag(options, "client");
  BuffereventWrap* bufferevent =
      BuffereventWrap::FromJs(Napi::Value(env, bufferevent_value), "bufferevent");
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
  Napi::Value deflate = GetProperty(options, "deflate");
  if (!deflate.IsEmpty() && deflate.IsObject()) EnableDeflate(env, deflate.As<Napi::Object>());
  // The connection takes the bufferevent over: its JavaScript object no longer owns it (and may be
  // collected at once), which saves that object, its wrap and a reference on every connection.
  void* unwrapped = nullptr;
  if (napi_remove_wrap(env, bufferevent_value, &unwrapped) != napi_ok || unwrapped != bufferevent) {
    NativeObject::Close();
    ThrowError(env, "ERR_INVALID_ARG", "the bufferevent could not be taken over by the WebSocket");
    return;
  }
  adopted_ = bufferevent;
  bufferevent_live_ = true;
  bufferevent->SetDelegate(this);
  // Bytes that came with the handshake are parsed on the next pass, once JavaScript has set up.
  bufferevent_trigger(bufferevent->bev(), EV_READ,
                      BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
  loop()->MarkDirty();
}

WebSocketConnection::~WebSocketConnection() {
  // Closed before (or never opened): libevent no longer knows the bufferevent, nothing calls it.
  NativeObject::Close();
  delete adopted_;
}

void WebSocketConnection::ReleaseNative() {
  // Its id finds nothing from now on; the object itself goes when nothing of it can be on the
  // stack: at the end of this pass, or of the one run soon when JavaScript closed it outside one.
  if (id_ != ConnectionTable::kNoId && loop() != nullptr) {
    loop()->connections().Remove(id_, this);
    loop()->connections().Retire(this);
    id_ = ConnectionTable::kNoId;
    if (!loop()->shutting_down()) loop()->MarkDirty();
  }
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
  // kStopped means a callback paused or closed the connection, or (with no dispatcher to call)
  // only that one event went unreported: the loop conditions tell which.
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
  // Refused (the worker is being terminated): the message goes unreported, like one without a
  // dispatcher to call.
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
  Addon& addon = Addon::Of(env);
  napi_value dispatch = addon.websocket_dispatch.Value();
  if (dispatch == nullptr) return false;
  napi_value argv[5] = {Napi::Number::New(env, id_),
                        Napi::Number::New(env, static_cast<int>(event)), env.Undefined(),
                        env.Undefined(), env.Undefined()};
  size_t i = 2;
  for (napi_value arg : args) argv[i++] = arg;
  // Restored after, in case a handler made another connection dispatch (nothing does today). The
  // slab's frames are the outer connection's until then.
  TakeSendSlab(addon);
  WebSocketConnection* outer_connection = addon.dispatching_connection;
  addon.dispatching_connection = this;
  RefreshSlabQueued(addon);
  // The dispatcher ignores `this`; napi wants an object there, and the function is one.
  CallIntoJs(env, async_context(), dispatch, dispatch,
             {argv[0], argv[1], argv[2], argv[3], argv[4]});
  TakeSendSlab(addon);
  addon.dispatching_connection = outer_connection;
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

template <WebSocketConnection::Method M, size_t kArgs>
napi_value WebSocketConnection::Call(napi_env raw_env, napi_callback_info callback_info) {
  napi_value argv[kArgs + 1];
  size_t argc = kArgs + 1;
  // napi fills what the caller left out with undefined.
  if (napi_get_cb_info(raw_env, callback_info, &argc, argv, nullptr, nullptr) != napi_ok)
    return nullptr;
  Napi::Env env(raw_env);
  Addon& addon = Addon::Of(env);
  // Whatever this call does (send, close, bufferedAmount, cork, ...) comes after the frames already
  // in the slab.
  TakeSendSlab(addon);
  WebSocketConnection* connection = Find(env, addon, argv[0]);
  if (connection == nullptr) return nullptr;
  return (connection->*M)(Arguments(env, argv + 1));
}

WebSocketConnection* WebSocketConnection::Find(Napi::Env env, Addon& addon, napi_value id_value) {
  double id = 0;
  if (napi_get_value_double(env, id_value, &id) != napi_ok) {
    ThrowError(env, "ERR_INVALID_ARG", "a WebSocket connection's id must be a number");
    return nullptr;
  }
  EventLoop* event_loop = addon.Loop(env);
  if (event_loop == nullptr) return nullptr;  // ERR_LOOP_INIT is pending
  WebSocketConnection* connection = event_loop->connections().Find(id);
  if (connection == nullptr) {
    ThrowError(env, "ERR_FREED", "no open WebSocket connection has this id (it was closed)");
  }
  return connection;
}

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

Napi::Value WebSocketConnection::Send(const Arguments& args) {
  return SendFrame(args.Env(), args[0], args[1], args[2]);
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

Napi::Value WebSocketConnection::BufferedAmount(const Arguments& args) {
  Napi::Env env = args.Env();
  if (closed() || bufferevent() == nullptr) return Napi::Number::New(env, 0);
  return Napi::Number::New(env, static_cast<double>(QueuedBytes()));
}

Napi::Value WebSocketConnection::Cork(const Arguments& args) {
  Napi::Env env = args.Env();
  if (!CheckUsable(env)) return Napi::Value();
  if (parsing_ || cork_.holding_batch()) return Napi::Boolean::New(env, false);
  cork_.Begin(bufferevent()->WriteThroughOn());
  return Napi::Boolean::New(env, cork_.holding_batch());
}

Napi::Value WebSocketConnection::Uncork(const Arguments& args) {
  // Closed meanwhile: releasing sent or dropped what was held.
  if (!closed() && bufferevent() != nullptr && !parsing_) cork_.End(bufferevent());
  return args.Env().Undefined();
}

Napi::Value WebSocketConnection::Pause(const Arguments& args) {
  Napi::Env env = args.Env();
  if (!CheckUsable(env)) return Napi::Value();
  paused_ = true;
  bufferevent()->DisableEvents(EV_READ);
  return env.Undefined();
}

Napi::Value WebSocketConnection::Resume(const Arguments& args) {
  Napi::Env env = args.Env();
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

Napi::Value WebSocketConnection::NotifyDrain(const Arguments& args) {
  Napi::Env env = args.Env();
  if (!CheckUsable(env)) return Napi::Value();
  drain_wanted_ = true;
  return env.Undefined();
}

Napi::Value WebSocketConnection::ShutdownWrite(const Arguments& args) {
  Napi::Env env = args.Env();
  if (!CheckUsable(env)) return Napi::Value();
  // Frames held by the cork must reach the output first, or the shutdown would not wait for them.
  cork_.Flush(bufferevent());
  bufferevent()->ShutdownWhenDrained();
  loop()->MarkDirty();
  return env.Undefined();
}

Napi::Value WebSocketConnection::CloseFromJs(const Arguments& args) {
  if (parsing_) {
    // Inside a callback from ParseInput the input evbuffer is still in use: release on return.
    // The id finds nothing from now on, as after any close.
    release_pending_ = true;
    loop()->connections().Remove(id_, this);
  } else {
    NativeObject::Close();
  }
  return args.Env().Undefined();
}

}  // namespace node_bufferevent::ws
