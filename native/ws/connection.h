// WebSocketConnection: one open WebSocket over a socket bufferevent. It owns the bufferevent from
// the end of the handshake on, parses frames straight from its input in C++, assembles messages,
// checks control frames, and calls JavaScript once per message or control frame; the close
// handshake's policy (who closes TCP, the timeouts) lives in src/websocket/.
#pragma once

#include <napi.h>

#include <cstdint>
#include <vector>

#include "../buffer_event.h"
#include "../native_object.h"
#include "frame_parser.h"
#include "mask_keys.h"

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
};

class WebSocketConnection : public Napi::ObjectWrap<WebSocketConnection>,
                            public NativeObject,
                            public BuffereventDelegate,
                            private FrameHandler {
 public:
  static Napi::Function Init(Napi::Env env);
  // new WebSocketConnection(owner, nativeBufferevent, { client, maxPayload, maxFragments })
  explicit WebSocketConnection(const Napi::CallbackInfo& info);
  ~WebSocketConnection() override;

  void OnBuffereventCallback(BuffereventCallback which, short events, int err) override;
  void OnBuffereventReleased() override;

 protected:
  void ReleaseNative() override;

 private:
  bool OnFrameStart(const FrameHeader& header) override;
  bool OnPayload(const uint8_t* data, size_t length) override;
  bool OnFrameEnd() override;

  void ParseInput();
  bool DeliverMessage();
  bool DeliverControl();
  // Reports a protocol error once and stops parsing for good.
  bool Fail(const ProtocolError& error);
  // Calls the dispatcher; false when the connection was closed or paused by the callback.
  bool Dispatch(ConnectionEvent event, std::initializer_list<napi_value> args);
  bool CheckUsable(Napi::Env env);
  // Frames and queues one frame (masked for a client); `payload_owner` lets a server keep a large
  // payload by reference instead of copying it.
  bool WriteFrame(Napi::Env env, uint8_t opcode, bool fin, const uint8_t* payload, size_t length,
                  const Napi::Buffer<uint8_t>* payload_owner);

  // send(data: Buffer, opcode, fin) → bufferedAmount after queueing
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value BufferedAmount(const Napi::CallbackInfo& info);
  Napi::Value Pause(const Napi::CallbackInfo& info);
  Napi::Value Resume(const Napi::CallbackInfo& info);
  Napi::Value NotifyDrain(const Napi::CallbackInfo& info);
  Napi::Value ShutdownWrite(const Napi::CallbackInfo& info);
  Napi::Value CloseFromJs(const Napi::CallbackInfo& info);

  BuffereventWrap* bufferevent_ = nullptr;
  napi_ref bufferevent_ref_ = nullptr;  // keeps the bufferevent's JavaScript object alive
  bool client_ = false;
  FrameParser parser_;
  MaskKeySource mask_keys_;

  // The message being assembled and the control frame being read.
  std::vector<uint8_t> message_;
  uint8_t message_opcode_ = 0;
  uint8_t control_[125];
  size_t control_length_ = 0;
  uint8_t frame_opcode_ = 0;
  bool frame_fin_ = false;

  bool parsing_ = false;          // inside ParseInput: releasing must wait for it to return
  bool release_pending_ = false;  // Close() was asked for while parsing
  bool paused_ = false;           // JavaScript paused reading
  bool failed_ = false;           // a protocol error was reported; nothing more is parsed
  bool close_received_ = false;   // the peer's close frame came; later bytes are discarded
  bool close_sent_ = false;       // our close frame is queued; pings are no longer answered
  bool drain_wanted_ = false;
};

}  // namespace node_bufferevent::ws
