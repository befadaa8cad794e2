// The WebSocket connection's permessage-deflate half: setting up its codecs from the agreement,
// and compressing what it sends (inflating is the ProtocolSession's).
#include <event2/buffer.h>

#include <algorithm>
#include <memory>
#include <string>

#include "../addon.h"
#include "../util/napi_checked.h"
#include "connection.h"

namespace node_bufferevent::ws {

void WebSocketConnection::EnableDeflate(Napi::Env env, Napi::Object settings) {
  // src/websocket/deflate/ checked these; the clamps only keep a stray value away from zlib.
  auto bits = [&](const char* key) { return std::clamp(GetInt32(settings, key, 15), 9, 15); };
  ZlibContextPool* pool = &Addon::Of(env).zlib_contexts;
  CompressSettings compress;
  compress.window_bits = bits("compressWindowBits");
  compress.no_context_takeover = GetFlag(settings, "compressNoContextTakeover");
  compress.level = std::clamp(GetInt32(settings, "level", -1), -1, 9);
  compress.mem_level = std::clamp(GetInt32(settings, "memLevel", 8), 1, 9);
  compress.strategy = std::clamp(GetInt32(settings, "strategy", 0), 0, 4);
  rare().deflater = std::make_unique<MessageDeflater>(compress, pool);
  DecompressSettings decompress;
  decompress.window_bits = bits("decompressWindowBits");
  decompress.no_context_takeover = GetFlag(settings, "decompressNoContextTakeover");
  EnableInflate(decompress, pool);
  rare().deflate_threshold = GetNumber(settings, "threshold", 1024);
}

bool WebSocketConnection::WriteCompressedFrame(Napi::Env env, uint8_t opcode, bool fin,
                                               const uint8_t* data, size_t length,
                                               std::string* error) {
  evbuffer* compressed = evbuffer_new();
  if (compressed == nullptr) {
    *error = "out of memory allocating a buffer";
    return false;
  }
  bool written = deflater()->Compress(data, length, fin, compressed, error) == DeflateResult::kOk;
  if (written) {
    // One contiguous payload for framing (and masking, on a client): the compressed bytes are
    // usually a fraction of the message.
    size_t size = evbuffer_get_length(compressed);
    const uint8_t* bytes = size > 0 ? evbuffer_pullup(compressed, -1) : nullptr;
    written = (size == 0 || bytes != nullptr) &&
              WriteFrame(env, opcode, fin, bytes, size, nullptr, opcode != kContinuation);
    if (!written) *error = "the frame could not be queued (libevent refused the bytes)";
  }
  evbuffer_free(compressed);
  return written;
}

}  // namespace node_bufferevent::ws
