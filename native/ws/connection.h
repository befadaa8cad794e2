// WebSocketConnection: one open WebSocket over a socket bufferevent. It owns the bufferevent from
// the end of the handshake on, feeds its input to the ProtocolSession it is built on (parsing,
// message assembly, control frames) in C++, and calls JavaScript once per batch of the small
// messages one read yields (message_batch.h) and once per large message or control frame, always in
// stream order; the close handshake's policy (who closes TCP, the timeouts) lives in
// src/websocket/. It has no JavaScript object: JavaScript knows it by its id in the loop's
// ConnectionTable (connection_table.h) and calls the functions of the addon's `WebSocketConnection`
// object with that id first.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../buffer_event.h"
#include "../event_loop.h"
#include "../native_object.h"
#include "connection_table.h"
#include "deflate_codec.h"
#include "output_cork.h"
#include "protocol_session.h"
#include "topics.h"

namespace node_bufferevent {
class Addon;
}

namespace node_bufferevent::ws {

// What the connection reports to src/websocket/websocket.ts's dispatcher (id, event, ...).
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

class WebSocketConnection : public NativeObject,
                            public BuffereventDelegate,
                            public TopicSubscriber,
                            private ProtocolSession {
 public:
  static constexpr ObjectKind kObjectKind = ObjectKind::kWebSocket;
  // The frames JavaScript wrote into the send slab (ws/send_slab.h) for the connection it is being
  // called for go to that connection now, ahead of whatever reaches the addon next. Every entry
  // that writes to a connection, or reads what it has queued, calls this first.
  static void TakeSendSlab(Addon& addon);
  // Tells the send slab what this connection (the one being called for) has queued now.
  void RefreshSlabQueued(Addon& addon);
  // The addon's `WebSocketConnection` object: open(bufferevent, options, socket) → id, and the
  // functions that take an id first (see the .cc and src/native.ts).
  static Napi::Object Init(Napi::Env env);
  // Deleted only by the loop's ConnectionTable, once closed and retired.
  ~WebSocketConnection() override;

  void OnBuffereventCallback(BuffereventCallback which, short events, int err) override;
  void OnBuffereventReleased() override;
  // The write callback serves only 'drain', asked for while something is queued.
  bool WantsWriteCallback() const override { return drain_wanted_; }
  // A publish: skipped when more than backpressureBytes stay queued once what the connection holds
  // was sent, passed over once a close frame went either way; otherwise held until the end of the
  // pass, with every other publish of the pass, or until the fragmented message being sent ends
  // (connection_topics.cc). Compressed when permessage-deflate was agreed, as a send would be.
  Delivery Deliver(Publication& publication) override;
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

  // open(nativeBufferevent, { client, maxPayload, maxFragments, deflate? }, socket) → id. deflate,
  // when permessage-deflate was agreed: { compressWindowBits, compressNoContextTakeover, level,
  // memLevel, strategy, decompressWindowBits, decompressNoContextTakeover, threshold }. `socket`
  // (the WebSocket) is the async resource its events run in.
  static napi_value Open(napi_env env, napi_callback_info info);
  WebSocketConnection(Napi::Env env, napi_value bufferevent, Napi::Object options,
                      Napi::Object socket);

  // A call's arguments after the id.
  class Arguments {
   public:
    Arguments(napi_env env, const napi_value* values) : env_(env), values_(values) {}
    Napi::Env Env() const { return env_; }
    Napi::Value operator[](size_t i) const { return Napi::Value(env_, values_[i]); }

   private:
    Napi::Env env_;
    const napi_value* values_;
  };
  using Method = Napi::Value (WebSocketConnection::*)(const Arguments& args);
  // The function JavaScript calls as f(id, ...args): hands the send slab over, finds the
  // connection (ERR_FREED when the id finds none) and runs `M` with the `kArgs` arguments after
  // the id.
  template <Method M, size_t kArgs>
  static napi_value Call(napi_env env, napi_callback_info info);
  // The open connection `id` names; null with ERR_INVALID_ARG (not a number) or ERR_FREED (no
  // open connection has it) thrown.
  static WebSocketConnection* Find(Napi::Env env, Addon& addon, napi_value id);

  void ParseInput();
  // Hands the small messages collected so far to JavaScript; what Dispatch returns (true when
  // there were none).
  bool FlushBatch();
  // Calls the dispatcher; false when the connection was closed or paused by the callback.
  // Marks this connection as the one being called for (Addon::dispatching_connection) while the
  // call lasts, and takes the send slab's frames when it returns.
  bool Dispatch(ConnectionEvent event, std::initializer_list<napi_value> args);
  bool CheckUsable(Napi::Env env);
  // bufferedAmount: the output plus what the cork holds and the publishes waiting for the end of
  // a fragmented message.
  size_t QueuedBytes() const;
  // Frames and queues one frame (masked for a client); `payload_owner` lets a server keep a large
  // payload by reference instead of copying it. RSV1 marks a compressed message's first frame.
  bool WriteFrame(Napi::Env env, uint8_t opcode, bool fin, const uint8_t* payload, size_t length,
                  napi_value payload_owner, bool rsv1 = false);
  // Compresses one frame's worth of a message with the deflater and queues it; false with *error
  // when zlib failed or libevent refused the bytes.
  bool WriteCompressedFrame(Napi::Env env, uint8_t opcode, bool fin, const uint8_t* data,
                            size_t length, std::string* error);
  void EnableDeflate(Napi::Env env, Napi::Object settings);
  // Writes a publish's frame (shared or compressed for this connection) to `output`.
  bool WritePublication(Publication& publication, evbuffer* output);
  // A fragmented message ended: the publishes held behind it follow it.
  void SendAfterFragments();
  // Whole frames from the send slab, queued as a send's would be; dropped once the close frame
  // went or the connection is going.
  void WriteSlabFrames(Napi::Env env, const uint8_t* frames, size_t length);

  // send(id, data: Buffer, frame, limit) → bufferedAmount after queueing, or -1 when the message
  // was not queued because the bytes queued plus its own would exceed `limit` (-1: none). `frame`
  // is the header's first byte as the wire has it: the opcode, 0x80 for FIN, 0x40 (RSV1) to ask for
  // permessage-deflate, which applies when agreed and the message is at least the threshold,
  // decided on a message's first frame (its continuations follow it). One number rather than
  // three arguments: each argument napi checks costs the echo path about 1%.
  Napi::Value Send(const Arguments& args);
  Napi::Value SendFrame(Napi::Env env, napi_value data, napi_value frame, napi_value limit);
  Napi::Value BufferedAmount(const Arguments& args);
  // cork() → true when it started holding (false inside a batch or another cork, which hold
  // already); uncork() ends what cork() started.
  Napi::Value Cork(const Arguments& args);
  Napi::Value Uncork(const Arguments& args);
  Napi::Value Pause(const Arguments& args);
  Napi::Value Resume(const Arguments& args);
  Napi::Value NotifyDrain(const Arguments& args);
  Napi::Value ShutdownWrite(const Arguments& args);
  // close(): releases the connection (on return, when called from inside its parsing); its id
  // finds nothing from now on.
  Napi::Value CloseFromJs(const Arguments& args);
  // subscribe(scope, topic, backpressureBytes) / unsubscribe(topic) → changed?;
  // isSubscribed(topic); topics(); skippedPublishes()
  Napi::Value Subscribe(const Arguments& args);
  Napi::Value Unsubscribe(const Arguments& args);
  Napi::Value IsSubscribed(const Arguments& args);
  Napi::Value Topics(const Arguments& args);
  Napi::Value SkippedPublishes(const Arguments& args);

  // The state few connections need, made on first use: every field here costs each idle
  // connection 8 bytes.
  struct RareState {
    // permessage-deflate's sending half, when agreed, and the smallest message it compresses.
    std::unique_ptr<MessageDeflater> deflater;
    double deflate_threshold = 0;
    // Publishes that came while a fragmented message was open: they go out when it ends, since no
    // other data frame may come between its frames. Exists only while it holds something.
    evbuffer* after_fragments = nullptr;
    double skipped_publishes = 0;
  };
  RareState& rare() {
    if (rare_ == nullptr) rare_ = std::make_unique<RareState>();
    return *rare_;
  }
  MessageDeflater* deflater() const { return rare_ != nullptr ? rare_->deflater.get() : nullptr; }
  // The bufferevent while it is live (until it is released).
  BuffereventWrap* bufferevent() const { return bufferevent_live_ ? adopted_ : nullptr; }

  // The flags first, in one byte, and the id: they fill the padding after the ProtocolSession's own
  // (the last base), so that a connection pays nothing for them.
  bool bufferevent_live_ : 1 = false;
  bool client_ : 1 = false;
  bool sending_compressed_ : 1 = false;  // the message being sent in fragments is compressed
  bool sending_fragments_ : 1 = false;   // a message sent with fin false is still open
  bool parsing_ : 1 = false;             // inside ParseInput: releasing must wait for it to return
  bool release_pending_ : 1 = false;     // Close() was asked for while parsing
  bool paused_ : 1 = false;              // JavaScript paused reading
  bool drain_wanted_ : 1 = false;
  int32_t id_ = ConnectionTable::kNoId;  // in the loop's table (kNoId until listed)
  // The bufferevent's wrapper, owned from the constructor on and deleted with the connection.
  BuffereventWrap* adopted_ = nullptr;
  OutputCork cork_;  // holds frames during a read's batch, and publishes until the pass ends
  std::unique_ptr<RareState> rare_;
};

}  // namespace node_bufferevent::ws
