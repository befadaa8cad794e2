// The state only filtering bufferevents have (libevent's bufferevent_filter.c): the bufferevent
// filtered, the filter functions of each side and what the binding remembers of their failures.
#pragma once

#include <napi.h>

#include <memory>

#include "filters/native_filter.h"

namespace node_bufferevent {

class BuffereventWrap;
class EvBufferWrap;

struct FilterState {
  BuffereventWrap* underlying = nullptr;  // the bufferevent filtered
  napi_ref underlying_owner = nullptr;    // keeps the underlying's JavaScript object alive
  bool close_underlying_on_free = false;
  std::unique_ptr<NativeFilter> native_filters[2];  // by FilterSide
  bool js_filters[2] = {false, false};
  EvBufferWrap* views[4] = {nullptr, nullptr, nullptr, nullptr};  // input src/dst, output src/dst
  bool failed = false;          // after the first filter error no second ERROR event is raised
  bool input_finished = false;  // the input filter has been flushed with BEV_FINISHED
};

}  // namespace node_bufferevent
