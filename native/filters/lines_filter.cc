// filters.lines({ maxLength }): passes only whole lines (up to and including "\n"), holding a
// partial line until it is complete; a line longer than maxLength is an error. BEV_FINISHED passes
// an unterminated last line through.
#include <string>

#include "../util/errors.h"
#include "../util/napi_checked.h"
#include "native_filter.h"

namespace node_bufferevent {

namespace {

class LinesFilter : public NativeFilter {
 public:
  explicit LinesFilter(size_t max_length) : max_length_(max_length) {}

  bufferevent_filter_result Run(evbuffer* src, evbuffer* dst, ev_ssize_t limit,
                                bufferevent_flush_mode mode, std::string* error) override {
    size_t moved = 0;
    for (;;) {
      evbuffer_ptr newline = evbuffer_search(src, "\n", 1, nullptr);
      if (newline.pos < 0) break;
      size_t line = static_cast<size_t>(newline.pos) + 1;
      if (line - 1 > max_length_) return TooLong(error);
      // Respect dst's room, but always move at least one line so a long line cannot stall the
      // stream.
      if (limit >= 0 && moved > 0 && moved + line > static_cast<size_t>(limit)) return BEV_OK;
      evbuffer_remove_buffer(src, dst, line);
      moved += line;
    }
    size_t partial = evbuffer_get_length(src);
    if (partial > max_length_) return TooLong(error);
    if (mode == BEV_FINISHED && partial > 0) {
      evbuffer_remove_buffer(src, dst, partial);
      moved += partial;
    }
    return moved > 0 ? BEV_OK : BEV_NEED_MORE;
  }

 private:
  bufferevent_filter_result TooLong(std::string* error) {
    *error = "a line is longer than maxLength (" + std::to_string(max_length_) + " bytes)";
    return BEV_ERROR;
  }

  size_t max_length_;
};

}  // namespace

std::unique_ptr<NativeFilter> MakeLinesFilter(Napi::Env, Napi::Object options) {
  return std::make_unique<LinesFilter>(static_cast<size_t>(GetNumber(options, "maxLength", 0)));
}

}  // namespace node_bufferevent
