// ConnectionTable: the open WebSocket connections of an environment, by number. JavaScript holds a
// connection as that number, a small integer in its WebSocket's own object, not as an object of its
// own: a wrapper object would cost every connection its JavaScript header, napi's wrap (an External
// and a reference with its global handle), and every call an unwrap of `this` in V8's runtime.
// A number proves nothing by itself, so the table does: it finds a connection only when the slot
// the number names holds one of the same generation, and a stale or forged number finds nothing
// rather than freed memory. Owned by the EventLoop, which deletes closed connections at the end of
// the pass they were closed in (nothing of theirs is on the stack then) and at teardown.
#pragma once

#include <node_api.h>

#include <cstdint>
#include <vector>

namespace node_bufferevent::ws {

class WebSocketConnection;

class ConnectionTable {
 public:
  // An id is (generation << kSlotBits) | slot: at most 2^23 connections open at once, and a slot's
  // id changes on each of 255 reuses before one comes back (the library drops an id when its
  // connection closes, so that only matters to a caller keeping ids of its own). Never 0, never
  // negative: a small integer (a V8 Smi) on both sides.
  static constexpr uint32_t kSlotBits = 23;
  static constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1;
  static constexpr int32_t kNoId = -1;

  ConnectionTable() = default;
  ConnectionTable(const ConnectionTable&) = delete;
  ConnectionTable& operator=(const ConnectionTable&) = delete;
  // Deletes the retired connections still waiting.
  ~ConnectionTable();

  // Every slot taken: 2^23 connections are open.
  bool full() const { return free_slots_.empty() && slots_.size() > kSlotMask; }
  // Lists `connection` and returns its id; kNoId when full().
  int32_t Add(WebSocketConnection* connection);
  // The open connection with this id, or null: also for a number that is not an integer.
  WebSocketConnection* Find(double id) const;
  // Unlists `connection`, listed under `id`: from now on the id finds nothing. Nothing when the
  // id's slot holds another connection now (it was unlisted before, and its slot reused).
  void Remove(int32_t id, const WebSocketConnection* connection);
  // Hands a closed connection over for deletion by DeleteRetired.
  void Retire(WebSocketConnection* connection) { retired_.push_back(connection); }
  void DeleteRetired();
  // Connections listed and not yet deleted: the open ones and those waiting in the retired list
  // (for tests: after the pass that closed them, only the open ones).
  uint32_t objects() const { return objects_; }

 private:
  std::vector<WebSocketConnection*> slots_;  // null in a free slot
  std::vector<uint8_t> generations_;         // of each slot's current or last connection
  std::vector<uint32_t> free_slots_;         // reused last-freed first, so the table stays dense
  std::vector<WebSocketConnection*> retired_;
  uint32_t objects_ = 0;
};

// wsConnectionObjects() → ConnectionTable::objects() of this environment's loop.
napi_value ConnectionObjectsFromJs(napi_env env, napi_callback_info info);

}  // namespace node_bufferevent::ws
