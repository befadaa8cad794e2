// permessage-deflate's per-message compression (RFC 7692 §7.2): raw DEFLATE, each message ended
// with a sync flush whose 00 00 ff ff tail is stripped on the way out and put back on the way in.
// With context takeover a codec keeps its zlib context (and so its history) for the connection's
// life; without, it holds one only while a message is in progress, borrowed from a
// ZlibContextPool (or made and freed, when it has no pool), so an idle connection costs no zlib
// memory; with takeover, the pool may park it while idle (HistoryHolder, zlib_context_pool.h).
// Contexts are made lazily: a connection that never sends (or never receives) a compressed message
// never allocates that side. No I/O, no JS: the connection drives it.
#pragma once

#include <event2/buffer.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "zlib_context_pool.h"

namespace node_bufferevent::ws {

enum class DeflateResult : uint8_t {
  kOk,
  kTooBig,       // inflating: the message inflates past max_output (close 1009)
  kInvalidData,  // inflating: not a valid DEFLATE stream (close 1007 for text, else 1002)
  kFailed,       // zlib could not be initialised (out of memory): close 1011
};

const char* DeflateResultName(DeflateResult result);

struct CompressSettings {
  int window_bits = 15;  // 9..15: what was agreed for this side (8 is never agreed for our side)
  int level = -1;        // -1 (zlib's default, 6) .. 9
  int mem_level = 8;     // 1..9
  int strategy = 0;      // Z_DEFAULT_STRATEGY .. Z_FIXED
  bool no_context_takeover = false;

  bool operator==(const CompressSettings& other) const = default;
};

struct DecompressSettings {
  int window_bits = 15;  // 9..15 (a peer limited to 8 is inflated with 9: larger is always safe)
  bool no_context_takeover = false;
  uint64_t max_output = 0;  // inflated bytes per message; 0 = no limit
};

class MessageDeflater final : public HistoryHolder {
 public:
  // `pool` may be null (contexts are then made and freed by this codec); it must outlive it.
  MessageDeflater(const CompressSettings& settings, ZlibContextPool* pool);
  ~MessageDeflater();
  MessageDeflater(const MessageDeflater&) = delete;
  MessageDeflater& operator=(const MessageDeflater&) = delete;

  // Compresses the next `length` bytes of the message being sent and appends the output to `out`;
  // `last` ends the message: the output is flushed and its 00 00 ff ff tail left off. Output of a
  // call that is not the last may be empty (zlib holds it until it has a block's worth). An empty
  // message is the single byte 00 (an empty stored block, tail stripped).
  DeflateResult Compress(const uint8_t* data, size_t length, bool last, evbuffer* out,
                         std::string* error);

  // With context takeover, between messages: the window is kept, the context given back.
  bool Park() override;
  const CompressSettings& settings() const { return settings_; }
  // Whether a zlib context is held now (with no_context_takeover: only inside a message).
  bool holds_context() const { return stream_ != nullptr; }
  bool message_open() const { return message_open_; }

 private:
  ZlibContextKey Key() const;
  void ReleaseContext();
  // Takes a context for the next message: from the pool, with the parked window restored.
  bool TakeContext(std::string* error);

  CompressSettings settings_;
  ZlibContextPool* pool_;
  std::unique_ptr<ZlibStream> stream_;
  bool message_open_ = false;  // a call without `last` was made for the current message
  bool message_has_input_ = false;
};

class MessageInflater final : public HistoryHolder {
 public:
  MessageInflater(const DecompressSettings& settings, ZlibContextPool* pool);
  ~MessageInflater();
  MessageInflater(const MessageInflater&) = delete;
  MessageInflater& operator=(const MessageInflater&) = delete;

  // Inflates the next `length` compressed bytes of the message being received, appending to
  // `out`; `last` (the FIN frame's end) appends the 00 00 ff ff tail and ends the message. A final
  // block (BFINAL) may be followed by more data: a new stream, as RFC 7692 §7.2.3.4's example
  // has it, inflated with the window kept. With max_output set,
  // a message stops inflating as soon as it passes it: at most max_output + 1 bytes are ever
  // produced (the extra byte is how "too big" is told from "exactly at the limit"), whatever the
  // compression ratio, and kTooBig is returned. After kTooBig or kInvalidData the codec has
  // forgotten the message and its context: the connection is expected to close.
  DeflateResult Decompress(const uint8_t* data, size_t length, bool last, std::vector<uint8_t>* out,
                           std::string* error);

  bool Park() override;
  const DecompressSettings& settings() const { return settings_; }
  bool holds_context() const { return stream_ != nullptr; }
  uint64_t message_output() const { return message_output_; }

 private:
  ZlibContextKey Key() const;
  bool TakeContext(std::string* error);
  DeflateResult Feed(const uint8_t* data, size_t length, std::vector<uint8_t>* out,
                     std::string* error);
  // After a final block: a new stream, with the window kept (it costs nothing to data that does
  // not refer to it, and a peer that goes on with takeover may).
  bool RestartStream(std::string* error);
  // What happens to the context when a message ends: kept with its history, or given back.
  enum class Context : uint8_t { kKeep, kRelease };
  void EndMessage(Context context);

  DecompressSettings settings_;
  ZlibContextPool* pool_;
  std::unique_ptr<ZlibStream> stream_;
  uint64_t message_input_ = 0;
  uint64_t message_output_ = 0;
  bool stream_ended_ = false;  // the peer ended its DEFLATE stream (BFINAL) in this message
};

}  // namespace node_bufferevent::ws
