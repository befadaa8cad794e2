// The table of open WebSocket connections (see connection_table.h).
#include "connection_table.h"

#include <cstdint>

#include "../addon.h"
#include "../event_loop.h"
#include "connection.h"

namespace node_bufferevent::ws {

// An open connection cannot be left here: teardown closed every one (retiring it) before the loop
// that owns this table is deleted.
ConnectionTable::~ConnectionTable() { DeleteRetired(); }

int32_t ConnectionTable::Add(WebSocketConnection* connection) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    if (slots_.size() > kSlotMask) return kNoId;
    slot = static_cast<uint32_t>(slots_.size());
    slots_.push_back(nullptr);
    generations_.push_back(0);
  }
  // Generations 1..255: 0 never occurs, so no id is 0.
  uint8_t generation = generations_[slot] == 255 ? 1 : generations_[slot] + 1;
  generations_[slot] = generation;
  slots_[slot] = connection;
  objects_++;
  return static_cast<int32_t>((static_cast<uint32_t>(generation) << kSlotBits) | slot);
}

WebSocketConnection* ConnectionTable::Find(double id) const {
  // NaN fails the range check; a fraction of a real id fails the integer check.
  if (!(id >= 1 && id <= INT32_MAX) || id != static_cast<double>(static_cast<int32_t>(id))) {
    return nullptr;
  }
  uint32_t number = static_cast<uint32_t>(id);
  uint32_t slot = number & kSlotMask;
  if (slot >= slots_.size() || generations_[slot] != (number >> kSlotBits)) return nullptr;
  return slots_[slot];
}

void ConnectionTable::Remove(int32_t id, const WebSocketConnection* connection) {
  if (connection == nullptr || Find(id) != connection) return;
  uint32_t slot = static_cast<uint32_t>(id) & kSlotMask;
  slots_[slot] = nullptr;
  free_slots_.push_back(slot);
}

void ConnectionTable::DeleteRetired() {
  // A destructor that retired another connection (none does) would add to the list: swap first.
  while (!retired_.empty()) {
    std::vector<WebSocketConnection*> deleting;
    deleting.swap(retired_);
    for (WebSocketConnection* connection : deleting) delete connection;
    objects_ -= static_cast<uint32_t>(deleting.size());
  }
}

napi_value ConnectionObjectsFromJs(napi_env raw_env, napi_callback_info) {
  Napi::Env env(raw_env);
  EventLoop* loop = RequireLoop(env);
  if (loop == nullptr) return nullptr;
  return Napi::Number::New(env, loop->connections().objects());
}

}  // namespace node_bufferevent::ws
