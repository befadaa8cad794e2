// filters.deflate() / filters.inflate(): zlib streams as bufferevent filters. BEV_FLUSH makes the
// compressor emit everything so far (sync flush); BEV_FINISHED ends the stream, and an inflater
// that is finished before its stream ended reports a truncated stream.
#include <string>

#include "../util/errors.h"
#include "../util/napi_checked.h"
#include "../util/zlib_stream.h"
#include "native_filter.h"

namespace node_bufferevent {

namespace {

class ZlibFilter : public NativeFilter {
 public:
  explicit ZlibFilter(bool compress) : compress_(compress) {}

  bool Init(int level, int window_bits, int mem_level, int strategy, std::string* error) {
    return stream_.Init(
        compress_ ? ZlibStream::Direction::kDeflate : ZlibStream::Direction::kInflate, level,
        window_bits, mem_level, strategy, error);
  }

  bufferevent_filter_result Run(evbuffer* src, evbuffer* dst, ev_ssize_t limit,
                                bufferevent_flush_mode mode, std::string* error) override {
    if (ended_) {
      if (evbuffer_get_length(src) == 0) return BEV_OK;
      if (compress_) {
        *error = "data was written after the deflate stream was finished";
        return BEV_ERROR;
      }
      *error = "data follows the end of the compressed stream";
      return BEV_ERROR;
    }
    size_t total_produced = 0;
    bool output_full = false;
    // Feed the source chunk by chunk, without linearising it.
    while (evbuffer_get_length(src) > 0 && !output_full) {
      evbuffer_iovec chunk;
      if (evbuffer_peek(src, -1, nullptr, &chunk, 1) < 1) break;
      size_t consumed = 0;
      size_t produced = 0;
      ev_ssize_t room = limit < 0 ? -1 : limit - static_cast<ev_ssize_t>(total_produced);
      auto status = stream_.Process(static_cast<const uint8_t*>(chunk.iov_base), chunk.iov_len,
                                    Z_NO_FLUSH, dst, room, &consumed, &produced, error);
      evbuffer_drain(src, consumed);
      total_produced += produced;
      if (status == ZlibStream::Status::kError) return Fail(error);
      if (status == ZlibStream::Status::kStreamEnd) {
        ended_ = true;
        if (evbuffer_get_length(src) > 0) {
          *error = "data follows the end of the compressed stream";
          return BEV_ERROR;
        }
        return BEV_OK;
      }
      output_full = status == ZlibStream::Status::kOutputFull;
      if (consumed == 0 && produced == 0) break;
    }
    if (!output_full && evbuffer_get_length(src) == 0 && mode != BEV_NORMAL) {
      if (!compress_) {
        if (mode == BEV_FINISHED) {
          *error = "the compressed stream ended before its end marker (truncated input)";
          return BEV_ERROR;
        }
      } else {
        size_t consumed = 0;
        size_t produced = 0;
        ev_ssize_t room = limit < 0 ? -1 : limit - static_cast<ev_ssize_t>(total_produced);
        auto status = stream_.Process(nullptr, 0, mode == BEV_FINISHED ? Z_FINISH : Z_SYNC_FLUSH,
                                      dst, room, &consumed, &produced, error);
        total_produced += produced;
        if (status == ZlibStream::Status::kError) return Fail(error);
        if (status == ZlibStream::Status::kStreamEnd) ended_ = true;
      }
    }
    return total_produced > 0 ? BEV_OK : BEV_NEED_MORE;
  }

 private:
  bufferevent_filter_result Fail(std::string* error) {
    *error = std::string(compress_ ? "deflate failed: " : "invalid compressed data: ") + *error;
    return BEV_ERROR;
  }

  bool compress_;
  bool ended_ = false;
  ZlibStream stream_;
};

int IntOption(Napi::Object options, const char* name, int fallback) {
  return GetInt32(options, name, fallback);
}

}  // namespace

std::unique_ptr<NativeFilter> MakeZlibFilter(Napi::Env env, bool compress, Napi::Object options) {
  auto filter = std::make_unique<ZlibFilter>(compress);
  std::string error;
  if (!filter->Init(IntOption(options, "level", Z_DEFAULT_COMPRESSION),
                    IntOption(options, "windowBits", 15), IntOption(options, "memLevel", 8),
                    IntOption(options, "strategy", Z_DEFAULT_STRATEGY), &error)) {
    ThrowError(env, "ERR_INVALID_FILTER", error);
    return nullptr;
  }
  return filter;
}

}  // namespace node_bufferevent
