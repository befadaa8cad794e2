// One libevent event_base per Node environment, driven from Node's libuv loop on the same thread.
// This is the only part of the addon that touches libuv and libevent together.
#pragma once

#include <event2/dns.h>
#include <event2/event.h>
#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace node_bufferevent {

class NativeObject;
enum class ObjectKind : uint8_t;
namespace ws {
class TopicRegistry;
class ConnectionTable;
}  // namespace ws

struct LoopStats {
  uint64_t passes = 0;          // event_base_loop(EVLOOP_ONCE) calls
  uint64_t wakeups = 0;         // times libuv reported libevent's epoll fd readable
  uint64_t callbacks = 0;       // JavaScript callbacks delivered from libevent
  uint64_t budget_breaks = 0;   // passes or rounds of passes cut short so Node's own work could run
  uint64_t write_throughs = 0;  // write syscalls made by write-through, outside libevent's writes
  int live_bufferevents = 0;
  int live_listeners = 0;
  int live_events = 0;
  int live_evbuffers = 0;
  int live_websockets = 0;
  int live_rate_limit_groups = 0;
  size_t cached_chain_bytes = 0;  // freed blocks libevent's allocator keeps for reuse
  // User events pending in libevent: the kicker, the sentinel and idle rate-limit refill timers
  // excluded. The process stays alive while this is above 0.
  int added_events = 0;
  int active_events = 0;
};

// Output held back until the end of the current libevent pass (a WebSocket connection holding
// publishes), so that what several callbacks queued for one socket in one pass leaves in one write.
// A listed writer is written once when the pass ends; one that is released must be forgotten first.
class PassEndWriter {
 public:
  // Sends what was held. Must not call JavaScript, nor list or forget writers.
  virtual void WriteAtPassEnd() = 0;
  bool listed_for_pass_end() const { return pass_end_slot_ != kNotListed; }

 protected:
  ~PassEndWriter() = default;

 private:
  friend class EventLoop;
  static constexpr uint32_t kNotListed = UINT32_MAX;
  uint32_t pass_end_slot_ = kNotListed;  // its place in the loop's list while listed
};

class EventLoop {
 public:
  // Priorities 0..kUserPriorities-1 are for users; the kicker sits alone at the lowest one below
  // them.
  static constexpr int kUserPriorities = 4;
  static constexpr int kPriorityQueues = kUserPriorities + 1;

  // Returns nullptr and fills `error` when libevent cannot be set up as required.
  static EventLoop* Create(napi_env env, std::string* error);

  event_base* base() const { return base_; }
  const char* method() const { return event_base_get_method(base_); }
  napi_env env() const { return env_; }

  // The DNS resolver used by connectHostname, created on first use (never the blocking resolver).
  evdns_base* dns();

  // JavaScript changed libevent state: run a pass before Node next blocks for I/O.
  void MarkDirty() {
    if (!dirty_) {
      dirty_ = true;
      uv_ref(reinterpret_cast<uv_handle_t*>(&prepare_));
    }
  }

  // Every libevent callback that may call JavaScript calls this first; a pass that ran callbacks is
  // not quiet.
  void NoteCallback();
  // The budget counts calls into JavaScript (all of them: util/js_callback.h reports each one made
  // during a pass). A pass that made too many breaks out, and so does a round of passes, so Node's
  // timers and its own I/O are never starved.
  void NoteJsCall();
  bool BudgetSpent() const;
  // For work that cannot be cut short by a break (libevent's accept loop): `resume(object)` runs at
  // the start of the next round of passes, after Node's loop has had its turn. Forgotten when
  // `object` is unregistered.
  void ResumeAtNextWakeup(NativeObject* object, void (*resume)(NativeObject*));
  bool shutting_down() const { return shutting_down_; }

  void Register(NativeObject* object);
  void Unregister(NativeObject* object);
  LoopStats Stats() const;
  void CountWriteThrough() { stats_.write_throughs++; }

  // The WebSocket pub/sub topics of this environment (ws/topics.h), created on first use.
  ws::TopicRegistry& topics();
  // The open WebSocket connections by id (ws/connection_table.h), created on first use. Those
  // closed during a pass are deleted when it ends.
  ws::ConnectionTable& connections();

  // Lists `writer` (once) to be written when the current pass ends; outside a pass (JavaScript
  // from a timer or Node's own I/O), a pass is run before Node next blocks for I/O.
  void WriteAtPassEnd(PassEndWriter* writer);
  void ForgetPassEndWrite(PassEndWriter* writer);

  // permessage-deflate contexts with takeover are parked once idle (ws/zlib_context_pool.h): a
  // one-shot timer, armed while any is held, sweeps them. It never keeps the process alive.
  void ScheduleContextSweep();
  // libevent's allocator keeps freed chains for reuse (util/libevent_allocator.h): a one-shot
  // timer, armed after a pass while it holds any, gives back what went unused. It never keeps the
  // process alive, and once the lists are empty it is not armed again, so an idle process stays
  // asleep.
  void ScheduleFreeListTrim();

 private:
  EventLoop() = default;
  ~EventLoop();
  bool Init(napi_env env, std::string* error);
  bool FindEpollFd(std::string* error);
  void FindTimerFd();
  bool TimerArmed() const;

  void RunPasses();
  bool RunOnePass();
  void RunPassEndWrites();
  void UpdateRef();
  int UserEventsAdded() const;
  static constexpr int kInternalEvents = 2;  // the kicker and the sentinel timer

  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnPrepare(uv_prepare_t* handle);
  static void OnIdle(uv_idle_t* handle);
  static void OnKicker(evutil_socket_t fd, short what, void* arg);
  static void OnSentinel(evutil_socket_t fd, short what, void* arg);
  static void OnContextSweep(evutil_socket_t fd, short what, void* arg);
  static void OnFreeListTrim(evutil_socket_t fd, short what, void* arg);
  static void OnAsyncCleanup(napi_async_cleanup_hook_handle handle, void* arg);
  static void OnHandleClosed(uv_handle_t* handle);

  napi_env env_ = nullptr;
  uv_loop_t* uv_loop_ = nullptr;
  event_base* base_ = nullptr;
  evdns_base* dns_ = nullptr;
  event* kicker_event_ = nullptr;
  event* sentinel_event_ = nullptr;
  event* sweep_event_ = nullptr;  // made on first use
  event* trim_event_ = nullptr;   // made on first use
  bool trim_armed_ = false;       // trim_event_ is added: a pass then need not ask libevent
  int kicker_fd_ = -1;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;  // libevent's timerfd in its epoll set, or -1 if it could not be found

  uv_poll_t poll_{};
  uv_prepare_t prepare_{};
  uv_idle_t idle_{};
  bool idle_running_ = false;
  bool poll_referenced_ = false;
  int handles_open_ = 0;

  bool dirty_ = false;
  bool in_pass_ = false;
  bool shutting_down_ = false;
  int callbacks_this_pass_ = 0;
  int js_calls_this_pass_ = 0;
  int js_calls_this_wakeup_ = 0;
  bool budget_break_requested_ = false;
  std::unordered_map<NativeObject*, void (*)(NativeObject*)> resume_next_wakeup_;
  napi_async_cleanup_hook_handle cleanup_hook_ = nullptr;

  // Every registered object, linked through the objects themselves (NativeObject's registry links).
  NativeObject* objects_ = nullptr;
  // The objects that may keep events added that are not user work (rate-limit groups).
  std::unordered_set<NativeObject*> idle_event_owners_;
  LoopStats stats_;
  std::unique_ptr<ws::TopicRegistry> topics_;
  std::unique_ptr<ws::ConnectionTable> connections_;
  // Null where a writer was forgotten while listed.
  std::vector<PassEndWriter*> pass_end_writers_;
};

}  // namespace node_bufferevent
