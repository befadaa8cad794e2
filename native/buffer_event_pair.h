// The state only pair bufferevents have (libevent's bufferevent_pair.c): the wrapper of the other
// half, so that freeing one half can tell the other (libevent does not).
#pragma once

namespace node_bufferevent {

class BuffereventWrap;

struct PairState {
  BuffereventWrap* partner = nullptr;  // the other half while both live
  bool partner_freed = false;
};

}  // namespace node_bufferevent
