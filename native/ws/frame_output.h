// The WebSocket connection's write path: a frame's header and payload go to the socket through the
// bufferevent's write-through when they can, and what the kernel does not take is queued.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

#include "../buffer_event.h"

namespace node_bufferevent::ws {

// Sends or queues `head` (copied) then `body`; with a `holder` (the connection is corked, see
// output_cork.h) both are appended to it instead. When `body_owner` (the JavaScript value whose
// memory `body` is) is given, a large body left over is kept by reference instead of copied.
// Returns false when libevent refused the bytes.
bool QueueFrame(Napi::Env env, BuffereventWrap* bufferevent, evbuffer* holder, const uint8_t* head,
                size_t head_length, const uint8_t* body, size_t body_length, napi_value body_owner);

}  // namespace node_bufferevent::ws
