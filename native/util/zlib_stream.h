// A zlib deflate or inflate stream that reads from memory and appends to an evbuffer, writing its
// output straight into space reserved in the evbuffer. Shared by the deflate/inflate filters and,
// later, the WebSocket permessage-deflate code.
#pragma once

#include <event2/buffer.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace node_bufferevent {

class ZlibStream {
 public:
  enum class Direction { kDeflate, kInflate };
  enum class Status { kOk, kStreamEnd, kOutputFull, kError };

  ZlibStream() = default;
  ~ZlibStream() { End(); }
  ZlibStream(const ZlibStream&) = delete;
  ZlibStream& operator=(const ZlibStream&) = delete;

  // window_bits as zlib takes them: 8..15 zlib format, -8..-15 raw, 24..31 gzip. Level -1..9.
  bool Init(Direction direction, int level, int window_bits, int mem_level, int strategy,
            std::string* error) {
    direction_ = direction;
    int result = direction == Direction::kDeflate
                     ? deflateInit2(&stream_, level, Z_DEFLATED, window_bits, mem_level, strategy)
                     : inflateInit2(&stream_, window_bits);
    if (result != Z_OK) {
      *error = std::string("zlib initialisation failed: ") +
               (stream_.msg ? stream_.msg : zError(result));
      return false;
    }
    initialised_ = true;
    return true;
  }

  // Feeds `input` with `flush` (Z_NO_FLUSH, Z_SYNC_FLUSH, Z_FINISH; Z_NO_FLUSH for inflate) and
  // appends at most `limit` bytes (negative: no limit) of output to `out`. *consumed tells how much
  // input was used; with kOutputFull, call again with the rest once there is room.
  Status Process(const uint8_t* input, size_t length, int flush, evbuffer* out, ev_ssize_t limit,
                 size_t* consumed, size_t* produced, std::string* error) {
    if (length <= kMaxSlice)
      return ProcessSlice(input, length, flush, out, limit, consumed, produced, error);
    // zlib counts its input in 32 bits: a longer input goes in slices, only the last one flushed.
    *consumed = 0;
    *produced = 0;
    for (;;) {
      size_t slice = length - *consumed < kMaxSlice ? length - *consumed : kMaxSlice;
      bool last_slice = *consumed + slice == length;
      ev_ssize_t slice_limit = limit < 0 ? -1 : limit - static_cast<ev_ssize_t>(*produced);
      size_t slice_consumed = 0;
      size_t slice_produced = 0;
      Status status = ProcessSlice(input + *consumed, slice, last_slice ? flush : Z_NO_FLUSH, out,
                                   slice_limit, &slice_consumed, &slice_produced, error);
      *consumed += slice_consumed;
      *produced += slice_produced;
      if (last_slice || status != Status::kOk || slice_consumed < slice) return status;
    }
  }

  // Inflating straight into memory: one inflate() over `input` into out[0..room). kOutputFull
  // when it filled `room` (call again: zlib may hold more), kOk when it needs more input.
  Status InflateInto(const uint8_t* input, size_t length, uint8_t* out, size_t room,
                     size_t* consumed, size_t* produced, std::string* error) {
    size_t in = length < kMaxSlice ? length : kMaxSlice;
    size_t space = room < kMaxSlice ? room : kMaxSlice;
    stream_.next_in = const_cast<Bytef*>(input);
    stream_.avail_in = static_cast<uInt>(in);
    stream_.next_out = out;
    stream_.avail_out = static_cast<uInt>(space);
    int result = inflate(&stream_, Z_SYNC_FLUSH);
    *consumed = in - stream_.avail_in;
    *produced = space - stream_.avail_out;
    if (result == Z_STREAM_END) return Status::kStreamEnd;
    if (result != Z_OK && result != Z_BUF_ERROR) {
      *error = stream_.msg ? stream_.msg : zError(result);
      return Status::kError;
    }
    return stream_.avail_out == 0 ? Status::kOutputFull : Status::kOk;
  }

  // Inflating: whether the last Process stopped between two DEFLATE blocks (zlib sets bit 7 of
  // data_type there), rather than inside one. A message that ends in the middle of a block is
  // truncated.
  bool AtBlockBoundary() const { return (stream_.data_type & 128) != 0; }

  // The window of uncompressed data the stream holds (deflate: the input, inflate: the output),
  // its most recent bytes, at most the window's size: the history a context with takeover needs
  // to go on after a reset (SetDictionary). Call only between flushed messages.
  bool GetDictionary(std::vector<uint8_t>* window) {
    uInt length = 0;
    bool deflating = direction_ == Direction::kDeflate;
    if ((deflating ? deflateGetDictionary(&stream_, nullptr, &length)
                   : inflateGetDictionary(&stream_, nullptr, &length)) != Z_OK) {
      return false;
    }
    window->resize(length);
    if (length == 0) return true;
    return (deflating ? deflateGetDictionary(&stream_, window->data(), &length)
                      : inflateGetDictionary(&stream_, window->data(), &length)) == Z_OK;
  }
  // Gives a freshly reset raw stream a window as history (zlib allows it for raw deflate before
  // the first input, and for raw inflate at any time).
  bool SetDictionary(const uint8_t* window, size_t length) {
    if (length == 0) return true;
    uInt size = static_cast<uInt>(length);
    return (direction_ == Direction::kDeflate
                ? deflateSetDictionary(&stream_, window, size)
                : inflateSetDictionary(&stream_, window, size)) == Z_OK;
  }

  void Reset() {
    if (!initialised_) return;
    if (direction_ == Direction::kDeflate)
      deflateReset(&stream_);
    else
      inflateReset(&stream_);
  }

 private:
  // Slices of at most 1 GiB stay well inside zlib's 32-bit counters. The codec test module makes
  // them tiny, so that its round trips go through the slicing.
#ifdef BUFFEREVENT_ZLIB_MAX_SLICE
  static constexpr size_t kMaxSlice = BUFFEREVENT_ZLIB_MAX_SLICE;
#else
  static constexpr size_t kMaxSlice = size_t{1} << 30;
#endif

  Status ProcessSlice(const uint8_t* input, size_t length, int flush, evbuffer* out,
                      ev_ssize_t limit, size_t* consumed, size_t* produced, std::string* error) {
    stream_.next_in = const_cast<Bytef*>(input);
    stream_.avail_in = static_cast<uInt>(length);
    *consumed = 0;
    *produced = 0;
    for (;;) {
      size_t room = kChunk;
      if (limit >= 0) {
        if (static_cast<size_t>(limit) <= *produced)
          return Finish(length, consumed, Status::kOutputFull);
        room = static_cast<size_t>(limit) - *produced < room
                   ? static_cast<size_t>(limit) - *produced
                   : room;
      }
      evbuffer_iovec vector;
      if (evbuffer_reserve_space(out, static_cast<ev_ssize_t>(room), &vector, 1) < 1) {
        *error = "out of memory reserving space for zlib output";
        return Status::kError;
      }
      stream_.next_out = static_cast<Bytef*>(vector.iov_base);
      stream_.avail_out = static_cast<uInt>(room);
      int result = direction_ == Direction::kDeflate ? deflate(&stream_, flush)
                                                     : inflate(&stream_, Z_SYNC_FLUSH);
      size_t written = room - stream_.avail_out;
      vector.iov_len = written;
      evbuffer_commit_space(out, &vector, 1);
      *produced += written;
      if (result == Z_STREAM_END) return Finish(length, consumed, Status::kStreamEnd);
      if (result == Z_BUF_ERROR)
        return Finish(length, consumed, Status::kOk);  // no progress possible
      if (result != Z_OK) {
        *error = stream_.msg ? stream_.msg : zError(result);
        return Status::kError;
      }
      // Done when zlib left output room unused: it has nothing more to say for this input.
      if (stream_.avail_out != 0 && stream_.avail_in == 0)
        return Finish(length, consumed, Status::kOk);
    }
  }

  static constexpr size_t kChunk = 64 * 1024;

  Status Finish(size_t length, size_t* consumed, Status status) {
    *consumed = length - stream_.avail_in;
    return status;
  }

  void End() {
    if (!initialised_) return;
    if (direction_ == Direction::kDeflate)
      deflateEnd(&stream_);
    else
      inflateEnd(&stream_);
    initialised_ = false;
  }

  z_stream stream_{};
  Direction direction_ = Direction::kDeflate;
  bool initialised_ = false;
};

}  // namespace node_bufferevent
