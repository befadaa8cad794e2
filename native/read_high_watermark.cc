// The read high watermark without libevent 2.1's busy loop.
//
// Why libevent 2.1.12 spins: after every read callback (bufferevent_run_readcb_, or the deferred
// bufferevent_run_deferred_callbacks_*), bufferevent.c runs bufferevent_inbuf_wm_check: if a read
// high watermark is set, EV_READ is in `enabled` and the input still holds `high` bytes or more, it
// calls bufferevent_trigger(bev, EV_READ, BEV_OPT_DEFER_CALLBACKS). That schedules the deferred
// read callback again (bufferevent_trigger_nolock_ only checks the low watermark), which runs in
// the same event_base_loop pass, returns with the input unchanged, and schedules itself again:
// forever. It was added so that a callback that consumes a little at a time is not stranded above
// the mark (reading is suspended there: bufferevent_inbuf_wm_cb calls bufferevent_wm_suspend_read
// when the input reaches `high`, so no new data would ever call it again). The suspension itself is
// not visible in `enabled`, which is why the check fires. Every kind is affected: a socket's
// bufferevent_readcb, a pair's be_pair_transfer and a filter's be_filter_read_nolock_ all end in
// bufferevent_trigger_nolock_(bev, EV_READ, 0).
//
// What the binding does instead, for every kind: while the input is at or above the mark and the
// user wants to read, EV_READ is disabled in libevent (so the check above never fires, and a
// socket's read event, a pair's transfers and a filter's reads from its underlying all stop,
// exactly as under libevent's own suspension) and the state's `paused` remembers that the
// user's EV_READ is still on. An evbuffer callback on the input resumes reading
// (bufferevent_enable) as soon as the input drops below the mark, however it was drained (read(),
// input.drain/remove, write(input) moving it). What the check was for is kept where it makes sense:
// a read callback that took something out of the input yet left it at or above the mark is called
// again; one that took nothing is not, until new data arrives after a drain. `enabled` reports
// EV_READ throughout; disable(EV_READ) ends the pause.
//
// Read timeouts: libevent does not count its suspension as idle for sockets (suspending deletes the
// read event with its timeout; resuming re-adds it, restarting the timeout), and neither does the
// pause. Pairs and filters re-arm their generic read timeout right after moving data in
// (BEV_RESET_GENERIC_READ_TIMEOUT in be_pair_transfer and be_filter_process_input), i.e. after the
// evbuffer callback paused them, so in plain libevent they time out while suspended; the binding
// disables EV_READ once more from an active event, after libevent's code has returned, which
// deletes that timeout again. The binding's own reads (maxReadPerWakeup, socket_own_reads.cc) never
// enable libevent's EV_READ: they stop at the mark by themselves, and only the call-again rule
// applies.
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "buffer_event.h"
#include "event_loop.h"

namespace node_bufferevent {

// After bufferevent_setwatermark: starts or stops watching the input and pauses or resumes reading
// for the new mark.
void BuffereventWrap::WatchReadHighWatermark(size_t high) {
  if (high_watermark() == nullptr) {
    if (high == 0) {
      SyncOwnRead();
      return;
    }
    // Made on the first mark: most bufferevents never set one, and an idle one pays 8 bytes.
    Rare().high_watermark = std::make_unique<ReadHighWatermarkState>();
  }
  ReadHighWatermarkState* mark = high_watermark();
  mark->high = high;
  evbuffer* input = bufferevent_get_input(bev_);
  // Added after libevent's own watermark callback and after a filter's input callback, so it runs
  // before both (newest first): a resumed filter's EV_READ is back before the filter looks at it.
  if (high > 0 && mark->watch == nullptr) {
    mark->watch = evbuffer_add_cb(input, OnInputForHighWatermark, this);
    mark->settle = event_new(loop()->base(), -1, 0, OnPauseSettled, this);
    if (mark->settle != nullptr) event_priority_set(mark->settle, 0);
  }
  SyncReadPause();
  SyncOwnRead();  // the binding's own reads (maxReadPerWakeup) stop and resume at the mark by
                  // themselves
  // Unpaused by SyncReadPause above (nothing is full below no mark): nothing left to remember.
  if (high == 0) ReleaseReadHighWatermark();
}

void BuffereventWrap::ReleaseReadHighWatermark() {
  ReadHighWatermarkState* mark = high_watermark();
  if (mark == nullptr) return;
  if (mark->watch != nullptr && bev_ != nullptr)
    evbuffer_remove_cb_entry(bufferevent_get_input(bev_), mark->watch);
  if (mark->settle != nullptr) event_free(mark->settle);
  rare_->high_watermark.reset();
}

// Pauses reading when the input has reached the mark while libevent's EV_READ is on, and resumes it
// when a paused input has dropped below the mark (or the mark was raised or removed).
void BuffereventWrap::SyncReadPause() {
  ReadHighWatermarkState* mark = high_watermark();
  if (bev_ == nullptr || mark == nullptr) return;
  bool full = mark->high > 0 && evbuffer_get_length(bufferevent_get_input(bev_)) >= mark->high;
  if (full && !mark->paused && (bufferevent_get_enabled(bev_) & EV_READ)) {
    mark->paused = true;
    bufferevent_disable(bev_, EV_READ);
    if (mark->settle != nullptr) event_active(mark->settle, EV_TIMEOUT, 1);
  } else if (!full && mark->paused) {
    mark->paused = false;
    bufferevent_enable(bev_, EV_READ);  // restarts the read timeout, as libevent's resume does
    loop()->MarkDirty();
  }
}

// For enable(EV_READ): true when reading must stay paused instead (the input is full), which then
// counts as enabled.
bool BuffereventWrap::HoldReadAtWatermark() {
  ReadHighWatermarkState* mark = high_watermark();
  if (mark == nullptr) return false;
  if (mark->paused) return true;
  if (mark->high == 0 || evbuffer_get_length(bufferevent_get_input(bev_)) < mark->high)
    return false;
  mark->paused = true;
  return true;
}

// After the read callback returned: libevent's call-again rule, limited to callbacks that made
// progress (see the top of this file).
void BuffereventWrap::AfterReadCallback() {
  ReadHighWatermarkState* mark = high_watermark();
  if (bev_ == nullptr || mark == nullptr || !mark->input_drained) return;
  if (evbuffer_get_length(bufferevent_get_input(bev_)) < mark->high) return;  // new data will come
  bool wanted = mark->paused || (bufferevent_get_enabled(bev_) & EV_READ) ||
                (OwnReadsOn() && socket_.own_read_enabled);
  if (!wanted) return;
  mark->input_drained = false;
  bufferevent_trigger(bev_, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
  loop()->MarkDirty();
}

void BuffereventWrap::OnInputForHighWatermark(evbuffer*, const evbuffer_cb_info* info, void* self) {
  auto* wrap = static_cast<BuffereventWrap*>(self);
  if (info->n_deleted > 0) wrap->high_watermark()->input_drained = true;
  wrap->SyncReadPause();
  wrap->SyncOwnRead();  // own reads stop at the mark and resume below it (socket_own_reads.cc)
}

void BuffereventWrap::OnPauseSettled(evutil_socket_t, short, void* self) {
  auto* wrap = static_cast<BuffereventWrap*>(self);
  if (wrap->bev_ != nullptr && wrap->ReadPausedAtWatermark())
    bufferevent_disable(wrap->bev_, EV_READ);
}

}  // namespace node_bufferevent
