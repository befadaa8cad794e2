// Filters implemented in C++ for filtering bufferevents: they run inside libevent's filter callback
// and never cross into JavaScript per chunk.
#pragma once

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <napi.h>

#include <memory>
#include <string>

namespace node_bufferevent {

class NativeFilter {
 public:
  virtual ~NativeFilter() = default;
  // libevent's filter contract: move what can be moved from src to dst, adding at most `limit`
  // bytes to dst (negative: no limit); `mode` BEV_NORMAL, BEV_FLUSH or BEV_FINISHED. On BEV_ERROR,
  // *error says why.
  virtual bufferevent_filter_result Run(evbuffer* src, evbuffer* dst, ev_ssize_t limit,
                                        bufferevent_flush_mode mode, std::string* error) = 0;

  // From a descriptor made by src/filters.ts: { native: 'deflate' | 'inflate' | 'lines', ...options
  // }. Returns null and throws into JavaScript on bad options.
  static std::unique_ptr<NativeFilter> FromDescriptor(Napi::Env env, Napi::Object descriptor);
};

std::unique_ptr<NativeFilter> MakeZlibFilter(Napi::Env env, bool compress, Napi::Object options);
std::unique_ptr<NativeFilter> MakeLinesFilter(Napi::Env env, Napi::Object options);

}  // namespace node_bufferevent
