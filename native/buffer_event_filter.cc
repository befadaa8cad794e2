// The filter kind: bufferevent_filter_new over any bufferevent, with JavaScript or native filters
// per side (an omitted side passes bytes through). The binding fixes two libevent 2.1 gaps: a
// filter returning BEV_ERROR produces no event (we raise exactly one ERROR), and an input filter is
// never told about the underlying EOF (we flush it with BEV_FINISHED, deliver the last data, then
// EOF).
#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "addon.h"
#include "buffer_event.h"
#include "evbuffer.h"
#include "event_loop.h"
#include "filters/native_filter.h"
#include "util/errors.h"
#include "util/js_callback.h"
#include "util/napi_checked.h"

namespace node_bufferevent {

namespace {

bool SideIsJs(Napi::Value spec) {
  return spec.IsString() && spec.As<Napi::String>().Utf8Value() == "js";
}

}  // namespace

// options: { underlying: Bufferevent (native), closeOnFree, input?: 'js' | descriptor, output?: ...
// }
bufferevent* BuffereventWrap::CreateFilter(Napi::Env env, Napi::Object options) {
  kind_ = BuffereventKind::kFilter;
  Napi::Value underlying_object = GetProperty(options, "underlying");
  BuffereventWrap* underlying = FromJs(underlying_object, "underlying");
  if (underlying == nullptr) return nullptr;  // ERR_INVALID_ARG is pending
  if (underlying->bev_ == nullptr) {
    ThrowError(env, "ERR_FREED", "the underlying bufferevent was freed");
    return nullptr;
  }
  if (underlying->filtered_by() != nullptr) {
    ThrowError(env, "ERR_FILTERED",
               "the underlying bufferevent is already filtered; filter the filter instead");
    return nullptr;
  }
  const char* sides[2] = {"input", "output"};
  for (int side = 0; side < 2; side++) {
    Napi::Value spec = GetProperty(options, sides[side]);
    if (SideIsJs(spec)) {
      filter()->js_filters[side] = true;
    } else if (spec.IsObject()) {
      filter()->native_filters[side] = NativeFilter::FromDescriptor(env, spec.As<Napi::Object>());
      if (filter()->native_filters[side] == nullptr) return nullptr;
    }
  }
  auto has = [&](int side) {
    return filter()->js_filters[side] || filter()->native_filters[side] != nullptr;
  };
  filter()->close_underlying_on_free = GetFlag(options, "closeOnFree");
  // Deferred callbacks always: an output filter runs inside write(), and the write callback it
  // would trigger must not run there.
  int flags =
      BEV_OPT_DEFER_CALLBACKS | (filter()->close_underlying_on_free ? BEV_OPT_CLOSE_ON_FREE : 0);
  bufferevent* bev = bufferevent_filter_new(underlying->bev_, has(0) ? InputFilter : nullptr,
                                            has(1) ? OutputFilter : nullptr, flags, nullptr, this);
  if (bev == nullptr) return nullptr;
  filter()->underlying = underlying;
  underlying->Rare().filtered_by = this;
  // libevent turned reading on below: the socket's own reads, if any, stop using its ev_read.
  underlying->SyncOwnRead();
  napi_create_reference(env, underlying_object, 1, &filter()->underlying_owner);
  return bev;
}

bufferevent_filter_result BuffereventWrap::InputFilter(evbuffer* src, evbuffer* dst,
                                                       ev_ssize_t limit,
                                                       bufferevent_flush_mode mode, void* self) {
  return static_cast<BuffereventWrap*>(self)->RunFilter(FilterSide::kInput, src, dst, limit, mode);
}

bufferevent_filter_result BuffereventWrap::OutputFilter(evbuffer* src, evbuffer* dst,
                                                        ev_ssize_t limit,
                                                        bufferevent_flush_mode mode, void* self) {
  return static_cast<BuffereventWrap*>(self)->RunFilter(FilterSide::kOutput, src, dst, limit, mode);
}

// A filter function may do anything from inside libevent's filter call, including freeing this
// filter (with its underlying). That is safe for libevent: bufferevent_free only drops a reference,
// and the memory goes in a finalizer of a later loop pass, after libevent has returned. The binding
// itself re-checks its state after every call into JavaScript and touches nothing of a freed
// filter.
bufferevent_filter_result BuffereventWrap::RunFilter(FilterSide side, evbuffer* src, evbuffer* dst,
                                                     ev_ssize_t limit,
                                                     bufferevent_flush_mode mode) {
  EventLoop* event_loop = loop();
  FilterState* state = filter();  // lives as long as the wrapper, across calls into JavaScript
  if (closed() || state->failed || event_loop == nullptr || event_loop->shutting_down())
    return BEV_ERROR;
  int index = static_cast<int>(side);
  const std::string name = side == FilterSide::kInput ? "input" : "output";
  std::string message;
  bufferevent_filter_result result = BEV_ERROR;
  if (state->native_filters[index] != nullptr) {
    result = state->native_filters[index]->Run(src, dst, limit, mode, &message);
  } else {
    event_loop->NoteCallback();
    Napi::Env env(event_loop->env());
    Napi::HandleScope scope(env);
    Napi::Value owner = OwnerValue(env);
    if (owner.IsUndefined()) return BEV_ERROR;
    const size_t src_before = evbuffer_get_length(src);
    const size_t dst_before = evbuffer_get_length(dst);
    napi_value returned = nullptr;
    napi_value exception = nullptr;
    JsCallOutcome outcome = CallIntoJsForResult(
        env, async_context(), Addon::Of(env).filter_dispatch.Value(),
        {owner, Napi::Number::New(env, index), Napi::Number::New(env, static_cast<double>(limit)),
         Napi::Number::New(env, static_cast<int>(mode))},
        &returned, &exception);
    // Freed inside its own filter function: a clean stop, nothing more is reported. Failed in a
    // nested run (the function flushed or wrote to its own filter): that run reported it.
    if (closed() || state->failed) return BEV_ERROR;
    std::string verdict;
    if (outcome == JsCallOutcome::kNotRun) {
      return BEV_ERROR;  // the environment is going away; nothing can hear an error event
    } else if (outcome == JsCallOutcome::kThrew) {
      message = "the " + name + " filter threw: " + DescribeThrown(env, exception);
    } else if (!JsStringText(env, returned, &verdict)) {
      message = "the " + name + " filter returned something that is not a verdict";
    } else if (verdict == "ok") {
      // 'ok' without moving a byte would make libevent call the filter again at once, forever.
      bool progressed =
          evbuffer_get_length(src) != src_before || evbuffer_get_length(dst) != dst_before;
      result = progressed || mode != BEV_NORMAL ? BEV_OK : BEV_NEED_MORE;
    } else if (verdict == "need-more") {
      result = BEV_NEED_MORE;
    } else {
      message = "the " + name + " filter returned '" + verdict + "'";
    }
  }
  if (result == BEV_ERROR) {
    state->failed = true;  // exactly one ERROR: every later run fails silently
    short direction = side == FilterSide::kInput ? BEV_EVENT_READING : BEV_EVENT_WRITING;
    RaiseError(static_cast<short>(BEV_EVENT_ERROR | direction), "ERR_FILTER", message, 0);
  }
  return result;
}

bool BuffereventWrap::FilterInterceptsEvent(short what) {
  if (kind_ != BuffereventKind::kFilter || !(what & BEV_EVENT_EOF) || filter()->input_finished ||
      bev_ == nullptr) {
    return false;
  }
  filter()->input_finished = true;
  // Let the input filter finish its stream (an inflater flushes its tail, a line splitter its last
  // line), then deliver the data and, after it, the EOF: both deferred, in libevent's
  // read-then-event order.
  bufferevent_flush(bev_, EV_READ, BEV_FINISHED);
  // Freed by the filter function: nothing more is delivered. Failed: its ERROR is queued and
  // replaces the EOF.
  if (closed() || filter()->failed) return true;
  if (evbuffer_get_length(bufferevent_get_input(bev_)) > 0)
    bufferevent_trigger(bev_, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
  bufferevent_trigger_event(bev_, what, BEV_TRIG_DEFER_CALLBACKS);
  loop()->MarkDirty();
  return true;
}

// filterBuffers(side) → [src, dst] views for a JavaScript filter, made once and reused.
Napi::Value BuffereventWrap::FilterBuffers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  if (kind_ != BuffereventKind::kFilter || filter()->underlying == nullptr ||
      filter()->underlying->bev_ == nullptr) {
    return ThrowError(env, "ERR_INVALID_ARG", "not a filter bufferevent");
  }
  int side = info[0].As<Napi::Number>().Int32Value() == 0 ? 0 : 1;
  evbuffer* src =
      side == 0 ? bufferevent_get_input(filter()->underlying->bev_) : bufferevent_get_output(bev_);
  evbuffer* dst =
      side == 0 ? bufferevent_get_input(bev_) : bufferevent_get_output(filter()->underlying->bev_);
  Napi::Array result = Napi::Array::New(env, 2);
  SetElement(result, 0, EvBufferWrap::NewView(env, src, &filter()->views[side * 2]));
  SetElement(result, 1, EvBufferWrap::NewView(env, dst, &filter()->views[side * 2 + 1]));
  return result;
}

void BuffereventWrap::ReleaseFilter() {
  for (EvBufferWrap*& view : filter()->views) {
    if (view != nullptr) view->Invalidate();
  }
  BuffereventWrap* underlying = filter()->underlying;
  filter()->underlying = nullptr;
  if (underlying != nullptr) {
    underlying->rare_->filtered_by = nullptr;
    if (filter()->close_underlying_on_free) {
      underlying->DetachFreedByOwner();  // libevent freed it together with the filter
    } else if (underlying->bev_ != nullptr) {
      underlying->InstallCallbacks();  // libevent cleared them when unlinking the filter
    }
  }
  if (filter()->underlying_owner != nullptr) {
    napi_delete_reference(loop() != nullptr ? loop()->env() : nullptr, filter()->underlying_owner);
    filter()->underlying_owner = nullptr;
  }
}

void BuffereventWrap::DetachFreedByOwner() {
  bev_ = nullptr;
  Close();
}

}  // namespace node_bufferevent
