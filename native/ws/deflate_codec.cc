#include "deflate_codec.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

namespace node_bufferevent::ws {

namespace {

// The end of a sync flush: an empty stored block's LEN and NLEN (RFC 7692 §7.2.1).
constexpr uint8_t kTail[4] = {0x00, 0x00, 0xff, 0xff};
// An empty stored block with that tail stripped: a whole empty message (RFC 7692 §7.2.3.6).
constexpr uint8_t kEmptyMessage[1] = {0x00};

std::unique_ptr<ZlibStream> AcquireContext(ZlibContextPool* pool, const ZlibContextKey& key,
                                           std::string* error) {
  return pool != nullptr ? pool->Acquire(key, error) : ZlibContextPool::Create(key, error);
}

void ReleaseToPool(ZlibContextPool* pool, const ZlibContextKey& key,
                   std::unique_ptr<ZlibStream> stream) {
  if (pool != nullptr) pool->Release(key, std::move(stream));
}

}  // namespace

const char* DeflateResultName(DeflateResult result) {
  switch (result) {
    case DeflateResult::kOk:
      return "ok";
    case DeflateResult::kTooBig:
      return "too-big";
    case DeflateResult::kInvalidData:
      return "invalid-data";
    case DeflateResult::kFailed:
      return "failed";
  }
  return "unknown";
}

MessageDeflater::MessageDeflater(const CompressSettings& settings, ZlibContextPool* pool)
    : settings_(settings), pool_(pool) {}

MessageDeflater::~MessageDeflater() { ReleaseContext(); }

bool MessageDeflater::Park() {
  if (!stream_ || message_open_ || settings_.no_context_takeover) return false;
  if (!stream_->GetDictionary(&parked_window_)) return false;
  parked_ = true;
  ReleaseContext();
  return true;
}

bool MessageDeflater::TakeContext(std::string* error) {
  stream_ = AcquireContext(pool_, Key(), error);
  if (!stream_) return false;
  if (parked_) {
    // Failing to restore only costs ratio: output that does not refer to the window is still
    // what the peer (which has it) can inflate.
    stream_->SetDictionary(parked_window_.data(), parked_window_.size());
    std::vector<uint8_t>().swap(parked_window_);
    parked_ = false;
  }
  return true;
}

ZlibContextKey MessageDeflater::Key() const {
  return ZlibContextKey{ZlibStream::Direction::kDeflate, settings_.window_bits, settings_.level,
                        settings_.mem_level, settings_.strategy};
}

void MessageDeflater::ReleaseContext() {
  if (pool_ != nullptr) pool_->Forget(this);
  ReleaseToPool(pool_, Key(), std::move(stream_));
}

DeflateResult MessageDeflater::Compress(const uint8_t* data, size_t length, bool last,
                                        evbuffer* out, std::string* error) {
  if (length > 0) message_has_input_ = true;
  if (last && !message_has_input_) {
    // zlib would flush nothing after a flush with no input in between (Z_BUF_ERROR), and an
    // empty message needs no context anyway.
    message_open_ = false;
    if (evbuffer_add(out, kEmptyMessage, sizeof kEmptyMessage) != 0) {
      *error = "out of memory queueing compressed output";
      return DeflateResult::kFailed;
    }
    return DeflateResult::kOk;
  }
  if (!last && length == 0) return DeflateResult::kOk;  // nothing to do, no context needed yet
  if (!stream_ && !TakeContext(error)) return DeflateResult::kFailed;
  if (!settings_.no_context_takeover && pool_ != nullptr) pool_->Touch(this);
  // The last call's output goes through a scratch buffer so its tail can be left off: an evbuffer
  // can only be drained from the front. Moving the rest over moves whole chains, not bytes.
  evbuffer* target = last ? evbuffer_new() : out;
  if (target == nullptr) {
    *error = "out of memory allocating a buffer";
    return DeflateResult::kFailed;
  }
  size_t consumed = 0;
  size_t produced = 0;
  ZlibStream::Status status = stream_->Process(data, length, last ? Z_SYNC_FLUSH : Z_NO_FLUSH,
                                               target, -1, &consumed, &produced, error);
  DeflateResult result = DeflateResult::kOk;
  if (status == ZlibStream::Status::kError || consumed != length) {
    if (status != ZlibStream::Status::kError) *error = "zlib did not take all of the input";
    result = DeflateResult::kFailed;
  } else if (last) {
    size_t total = evbuffer_get_length(target);
    uint8_t tail[4];
    evbuffer_ptr at;
    if (total < sizeof kTail ||
        evbuffer_ptr_set(target, &at, total - sizeof kTail, EVBUFFER_PTR_SET) != 0 ||
        evbuffer_copyout_from(target, &at, tail, sizeof tail) !=
            static_cast<ev_ssize_t>(sizeof tail) ||
        std::memcmp(tail, kTail, sizeof kTail) != 0) {
      *error = "zlib's sync flush did not end with 00 00 ff ff";
      result = DeflateResult::kFailed;
    } else if (size_t before = evbuffer_get_length(out);
               evbuffer_remove_buffer(target, out, total - sizeof kTail) < 0 ||
               evbuffer_get_length(out) - before != total - sizeof kTail) {
      *error = "out of memory queueing compressed output";
      result = DeflateResult::kFailed;
    }
  }
  if (last) evbuffer_free(target);
  if (last || result != DeflateResult::kOk) {
    message_open_ = false;
    message_has_input_ = false;
    // Without context takeover the next message starts from an empty window: the context goes
    // back to the pool (which resets it). After a failure its state is unknown: same.
    if (settings_.no_context_takeover || result != DeflateResult::kOk) ReleaseContext();
  } else {
    message_open_ = true;
  }
  return result;
}

MessageInflater::MessageInflater(const DecompressSettings& settings, ZlibContextPool* pool)
    : settings_(settings), pool_(pool) {}

MessageInflater::~MessageInflater() { EndMessage(Context::kRelease); }

bool MessageInflater::Park() {
  if (!stream_ || settings_.no_context_takeover || message_input_ != 0) return false;
  if (!stream_->GetDictionary(&parked_window_)) return false;
  parked_ = true;
  EndMessage(Context::kRelease);
  return true;
}

bool MessageInflater::TakeContext(std::string* error) {
  stream_ = AcquireContext(pool_, Key(), error);
  if (!stream_) return false;
  if (parked_) {
    // Unlike the compressor's, this window is not optional: the peer's next message may refer
    // to any of it.
    bool restored = stream_->SetDictionary(parked_window_.data(), parked_window_.size());
    std::vector<uint8_t>().swap(parked_window_);
    parked_ = false;
    if (!restored) {
      *error = "zlib refused to restore the parked window";
      return false;
    }
  }
  return true;
}

ZlibContextKey MessageInflater::Key() const {
  return ZlibContextKey{ZlibStream::Direction::kInflate, settings_.window_bits, 0, 0, 0};
}

void MessageInflater::EndMessage(Context context) {
  message_input_ = 0;
  message_output_ = 0;
  stream_ended_ = false;
  if (context == Context::kRelease) {
    if (pool_ != nullptr) pool_->Forget(this);
    ReleaseToPool(pool_, Key(), std::move(stream_));
  }
}

bool MessageInflater::RestartStream(std::string* error) {
  std::vector<uint8_t> window;
  bool restarted = stream_->GetDictionary(&window);
  stream_->Reset();
  restarted = restarted && stream_->SetDictionary(window.data(), window.size());
  stream_ended_ = false;
  if (!restarted) *error = "zlib could not carry the window over to a new stream";
  return restarted;
}

DeflateResult MessageInflater::Feed(const uint8_t* data, size_t length, std::vector<uint8_t>* out,
                                    std::string* error) {
  // Output goes straight into `out`, in steps sized from the input (compressed data usually
  // inflates to a few times its size), never past one byte over the limit: that byte tells a
  // message that is too big from one exactly at it.
  constexpr size_t kSmallestStep = 4 * 1024;
  constexpr size_t kLargestStep = 256 * 1024;
  size_t offset = 0;
  for (;;) {
    if (stream_ended_) {
      if (offset == length) break;
      if (!RestartStream(error)) return DeflateResult::kFailed;
    }
    size_t step = std::clamp((length - offset) * 4, kSmallestStep, kLargestStep);
    if (settings_.max_output != 0) {
      step =
          static_cast<size_t>(std::min<uint64_t>(step, settings_.max_output - message_output_ + 1));
    }
    size_t start = out->size();
    out->resize(start + step);
    size_t consumed = 0;
    size_t produced = 0;
    ZlibStream::Status status = stream_->InflateInto(
        data + offset, length - offset, out->data() + start, step, &consumed, &produced, error);
    out->resize(start + produced);
    offset += consumed;
    message_output_ += produced;
    if (status == ZlibStream::Status::kError) return DeflateResult::kInvalidData;
    if (settings_.max_output != 0 && message_output_ > settings_.max_output) {
      *error = "the message inflates past maxPayload (" + std::to_string(settings_.max_output) +
               " bytes)";
      return DeflateResult::kTooBig;
    }
    if (status == ZlibStream::Status::kStreamEnd) {
      stream_ended_ = true;
      continue;
    }
    if (status == ZlibStream::Status::kOk && offset == length) break;  // wants more input
    if (consumed == 0 && produced == 0) {
      *error = "zlib made no progress on the compressed data";
      return DeflateResult::kInvalidData;
    }
  }
  return DeflateResult::kOk;
}

DeflateResult MessageInflater::Decompress(const uint8_t* data, size_t length, bool last,
                                          std::vector<uint8_t>* out, std::string* error) {
  message_input_ += length;
  if (last && message_input_ == 0) {
    // A compressed message of no bytes at all: empty. Not fed to zlib, whose stream would take
    // the lone tail as the start of a stored block and swallow the next message.
    EndMessage(settings_.no_context_takeover ? Context::kRelease : Context::kKeep);
    return DeflateResult::kOk;
  }
  if (!stream_ && !TakeContext(error)) {
    EndMessage(Context::kRelease);
    return DeflateResult::kFailed;
  }
  if (!settings_.no_context_takeover && pool_ != nullptr) pool_->Touch(this);
  DeflateResult result = Feed(data, length, out, error);
  // A stream the peer ended with a final block needs no tail (RFC 7692 §7.2.3.4 allows BFINAL).
  if (result == DeflateResult::kOk && last && !stream_ended_) {
    result = Feed(kTail, sizeof kTail, out, error);
    // The tail completes the empty stored block the peer's sync flush began. Inside a block it
    // would be taken as data instead: the message was cut short.
    if (result == DeflateResult::kOk && !stream_ended_ && !stream_->AtBlockBoundary()) {
      *error = "the message ends inside a DEFLATE block (truncated compressed data)";
      result = DeflateResult::kInvalidData;
    }
  }
  // A message that ended on a final block leaves the next one a new stream, window kept.
  if (result == DeflateResult::kOk && last && stream_ended_ && !settings_.no_context_takeover &&
      !RestartStream(error)) {
    result = DeflateResult::kFailed;
  }
  if (result != DeflateResult::kOk) {
    EndMessage(Context::kRelease);
  } else if (last) {
    EndMessage(settings_.no_context_takeover ? Context::kRelease : Context::kKeep);
  }
  return result;
}

}  // namespace node_bufferevent::ws
