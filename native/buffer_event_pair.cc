// The pair kind: bufferevent_pair_new. Each half has its own wrapper; they know each other so that
// freeing one half gives the other EOF (libevent itself tells the partner nothing).
#include <event2/bufferevent.h>

#include "buffer_event.h"
#include "event_loop.h"
#include "filters/native_filter.h"
#include "util/errors.h"
#include "util/napi_checked.h"

namespace node_bufferevent {

// options: { partnerOf?: Bufferevent (native) } — without partnerOf, creates a new pair and this
// wrapper takes its first half; with it, this wrapper takes the second half of that pair.
bufferevent* BuffereventWrap::CreatePair(Napi::Env env, Napi::Object options) {
  kind_ = BuffereventKind::kPair;
  if (HasProperty(options, "partnerOf")) {
    BuffereventWrap* first = FromJs(GetProperty(options, "partnerOf"), "partnerOf");
    if (first == nullptr) return nullptr;  // ERR_INVALID_ARG is pending
    bufferevent* second =
        first->bev_ == nullptr ? nullptr : bufferevent_pair_get_partner(first->bev_);
    if (second == nullptr || first->pair()->partner != nullptr) {
      ThrowError(env, "ERR_INVALID_ARG", "partnerOf must be the first half of a new pair");
      return nullptr;
    }
    pair()->partner = first;
    first->pair()->partner = this;
    return second;
  }
  // Deferred callbacks always: without them, a write on one half would run the other half's
  // callbacks inside write().
  bufferevent* halves[2] = {nullptr, nullptr};
  if (bufferevent_pair_new(loop()->base(), BEV_OPT_DEFER_CALLBACKS, halves) != 0) return nullptr;
  return halves[0];
}

void BuffereventWrap::UnlinkPartner() {
  if (pair()->partner == nullptr) return;
  BuffereventWrap* partner = pair()->partner;
  pair()->partner = nullptr;
  partner->pair()->partner = nullptr;
  partner->PartnerFreed();
}

void BuffereventWrap::PartnerFreed() {
  pair()->partner_freed = true;
  if (bev_ == nullptr) return;
  // What a socket's reader sees when the peer closes: EOF while reading; reading stops.
  if (high_watermark() != nullptr) high_watermark()->paused = false;
  bufferevent_disable(bev_, EV_READ);
  bufferevent_trigger_event(bev_, BEV_EVENT_EOF | BEV_EVENT_READING, BEV_TRIG_DEFER_CALLBACKS);
  loop()->MarkDirty();
}

}  // namespace node_bufferevent
