// The server side of the opening handshake that is cheaper in C++ than in JavaScript: finding and
// taking the request head out of a bufferevent's input, and computing Sec-WebSocket-Accept.
// The checks of the request stay in src/websocket/handshake.ts.
#pragma once

#include <napi.h>

namespace node_bufferevent::ws {

// wsReadRequestHead(bufferevent, maxHeaderSize, drain): the head (up to, not including, the blank
// line) as a latin1 string once "\r\n\r\n" is in the input, removing it and the blank line when
// `drain`; otherwise kHeadIncomplete, or kHeadTooLarge when the head (complete or not) is over
// maxHeaderSize bytes.
napi_value ReadRequestHeadFromJs(napi_env env, napi_callback_info info);
constexpr int kHeadIncomplete = 0;
constexpr int kHeadTooLarge = 1;

// wsAcceptKey(key): base64(SHA-1(key + the RFC 6455 GUID)), the key taken as UTF-8.
napi_value AcceptKeyFromJs(napi_env env, napi_callback_info info);

}  // namespace node_bufferevent::ws
