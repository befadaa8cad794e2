// WebSocketConnection: one open WebSocket over a socket bufferevent. It owns the bufferevent from
// the end of the handshake on, feeds its input to a ProtocolSession (parsing, message assembly,
// control frames) in C++, and calls JavaScript once per batch of the small messages one read
// yields (message_batch.h) and once per large message or control frame, always in stream order;
// the close handshake's policy (who closes TCP, the timeouts) lives in src/websocket/.
#pragma once

#include <napi.h>

#include <cstdint>
#include <vector>

#include "../buffer_event.h"
#include "../event_loop.h"
#include "../native_class.h"
#include "../native_object.h"
#include "output_cork.h"
#include "protocol_session.h"
#include "topics.h"

namespace node_bufferevent::ws {

// What the connection reports to src/websocket/websocket.ts's dispatcher (owner, kind, ...).
enum class ConnectionEvent {
  kMessage = 0,  // (data: Buffer, isBinary)
  kPing = 1,     // (data)
  kPong = 2,     // (data)
  kClose = 3,    // (code, reason: Buffer): the peer's close frame, already checked
  kError = 4,    // (closeCode, code, message): a protocol error; nothing more is parsed
  kSocket = 5,   // (events, errno): EOF, a socket error or a timeout from the bufferevent
  kDrain = 6,    // (): the output became empty after JavaScript asked to hear of it
  kBatch = 7,    // (pool: Buffer, count, indexAt): small messages, see message_batch.h
};

class WebSocketConnection : public NativeClass<WebSocketConnection>,
                            public NativeObject,
                            public BuffereventDelegate,
                            public TopicSubscriber,
                            public PassEndWriter,
                            private ProtocolSink {
 public:
  static constexpr ObjectKind kObjectKind = ObjectKind::kWebSocket;
  static Napi::Function Init(Napi::Env env);
  // new WebSocketConnection(owner, nativeBufferevent,
  //                         { client, maxPayload, maxFragments, backpressureBytes })
  explicit WebSocketConnection(const Napi::CallbackInfo& info);
  ~WebSocketConnection() override;

  void OnBuffereventCallback(BuffereventCallback which, short events, int err) override;
  void OnBuffereventReleased() override;
  // The write callback serves only 'drain', asked for while something is queued.
  bool WantsWriteCallback() const override { return drain_wanted_; }
  // A publish: skipped when more than backpressureBytes stay queued once what the connection holds
  // was sent, passed over once a close frame went either way; otherwise held until the end of the
  // pass, with every other publish of the pass (connection_topics.cc).
  Delivery Deliver(SharedFrame& frame) override;
  // The end of the pass: the held publishes, and what was sent behind them, leave in one writev.
  void WriteAtPassEnd() override;

 protected:
  void ReleaseNative() override;

 private:
  bool OnMessage(std::vector<uint8_t>& data, bool binary) override;
  bool OnPing(const uint8_t* data, size_t length) override;
  bool OnPong(const uint8_t* data, size_t length) override;
  void OnClose(uint16_t code, const uint8_t* reason, size_t reason_length) override;
  void OnError(const ProtocolError& error) override;
  void WritePong(const uint8_t* data, size_t length) override;

  void ParseInput();
  // Hands the small messages collected so far to JavaScript; what Dispatch returns (true when
  // there were none).
  bool FlushBatch();
  // Calls the dispatcher; false when the connection was closed or paused by the callback.
  bool Dispatch(ConnectionEvent event, std::initializer_list<napi_value> args);
  bool CheckUsable(Napi::Env env);
  // bufferedAmount: the output plus what the cork holds.
  size_t QueuedBytes() const;
  // Frames and queues one frame (masked for a client); `payload_owner` lets a server keep a large
  // payload by reference instead of copying it.
  bool WriteFrame(Napi::Env env, uint8_t opcode, bool fin, const uint8_t* payload, size_t length,
                  const Napi::Buffer<uint8_t>* payload_owner);

  // send(data: Buffer, opcode, fin, limit) → bufferedAmount after queueing, or -1 when the message
  // was not queued because the bytes queued plus its own would exceed `limit`
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value BufferedAmount(const Napi::CallbackInfo& info);
  // cork() → true when it started holding (false inside a batch or another cork, which hold
  // already); uncork() ends what cork() started.
  Napi::Value Cork(const Napi::CallbackInfo& info);
  Napi::Value Uncork(const Napi::CallbackInfo& info);
  Napi::Value Pause(const Napi::CallbackInfo& info);
  Napi::Value Resume(const Napi::CallbackInfo& info);
  Napi::Value NotifyDrain(const Napi::CallbackInfo& info);
  Napi::Value ShutdownWrite(const Napi::CallbackInfo& info);
  Napi::Value CloseFromJs(const Napi::CallbackInfo& info);
  // subscribe(scope, topic) / unsubscribe(topic) → changed?; isSubscribed(topic); topics();
  // skippedPublishes()
  Napi::Value Subscribe(const Napi::CallbackInfo& info);
  Napi::Value Unsubscribe(const Napi::CallbackInfo& info);
  Napi::Value IsSubscribed(const Napi::CallbackInfo& info);
  Napi::Value Topics(const Napi::CallbackInfo& info);
  Napi::Value SkippedPublishes(const Napi::CallbackInfo& info);

  napi_env env_ = nullptr;
  BuffereventWrap* bufferevent_ = nullptr;
  napi_ref bufferevent_ref_ = nullptr;  // keeps the bufferevent's JavaScript object alive
  bool client_ = false;
  ProtocolSession session_;
  OutputCork cork_;  // holds frames during a read's batch, and publishes until the pass ends

  bool parsing_ = false;          // inside ParseInput: releasing must wait for it to return
  bool release_pending_ = false;  // Close() was asked for while parsing
  bool paused_ = false;           // JavaScript paused reading
  bool drain_wanted_ = false;
  double backpressure_bytes_ = 0;
  double skipped_publishes_ = 0;
};

}  // namespace node_bufferevent::ws
