// Test-only entry points of the WebSocket codec (exported as `wsCodecTest`), so vitest can drive
// the parser, the writer, masking and UTF-8 validation with raw bytes. Not a public API.
#pragma once

#include <napi.h>

namespace node_bufferevent::ws {

Napi::Object CreateCodecTestBinding(Napi::Env env);

}  // namespace node_bufferevent::ws
