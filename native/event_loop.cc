// libevent inside Node's loop; see docs/api.md § The loop. libevent's epoll fd is watched by a
// uv_poll; a pass writes a private "kicker" eventfd and runs event_base_loop(EVLOOP_ONCE), which
// therefore never blocks yet leaves libevent's timerfd armed for the true next timeout. Passes
// repeat until one is quiet.
#include "event_loop.h"

#include <dirent.h>
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "addon.h"
#include "native_object.h"
#include "util/libevent_allocator.h"
#include "ws/connection_table.h"
#include "ws/topics.h"

namespace node_bufferevent {

namespace {

// A pass that has made this many calls into JavaScript breaks out of event_base_loop; whatever is
// still active runs in the next pass. Without it, a write callback that always refills the output
// keeps one EVLOOP_ONCE call busy forever.
constexpr int kJsCallBudgetPerPass = 64;
// A round of passes (one libuv callback) stops once it has made this many: Node's timers and its
// own sockets (those handed to a Node http server, say) run before the next round. Without it, a
// flood of new connections kept each round busy for 2,000 calls (over 100 ms) while thousands of
// answered Node sockets waited in CLOSE_WAIT.
constexpr int kJsCallBudgetPerWakeup = 256;
// Passes per libuv callback before yielding to Node (an idle handle brings us back next iteration).
constexpr int kMaxPassesPerWakeup = 16;
// The sentinel timer's period: long, so it costs one wakeup an hour.
constexpr time_t kSentinelSeconds = 3600;
// A permessage-deflate context with takeover unused this long is parked; the sweep looks this
// often (so it is parked after 10 to 15 s of quiet).
constexpr uint64_t kContextIdleSeconds = 10;
constexpr time_t kContextSweepSeconds = 5;
// How often the allocator's free lists give back what went unused since the last look: the chains
// a burst left behind are gone 2 to 4 s after it.
constexpr time_t kFreeListTrimSeconds = 2;

// The loop running a pass on this thread (each worker has its own loop and thread), for
// NoteJsCallInPass.
thread_local EventLoop* loop_in_pass = nullptr;

std::string FdLink(int fd) {
  char link_path[64];
  char target[128];
  std::snprintf(link_path, sizeof link_path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link_path, target, sizeof target - 1);
  if (n <= 0) return "";
  target[n] = '\0';
  return target;
}

bool FdinfoListsTarget(int epoll_fd, int target_fd) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fdinfo/%d", epoll_fd);
  std::ifstream fdinfo(path);
  std::string line;
  while (std::getline(fdinfo, line)) {
    if (line.rfind("tfd:", 0) == 0 && std::atoi(line.c_str() + 4) == target_fd) return true;
  }
  return false;
}

std::vector<int> EventpollFds() {
  std::vector<int> fds;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    char link_path[300];
    char target[128];
    std::snprintf(link_path, sizeof link_path, "/proc/self/fd/%s", entry->d_name);
    ssize_t n = readlink(link_path, target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (std::strcmp(target, "anon_inode:[eventpoll]") == 0) fds.push_back(std::atoi(entry->d_name));
  }
  closedir(dir);
  return fds;
}

}  // namespace

EventLoop* EventLoop::Create(napi_env env, std::string* error) {
  auto* loop = new EventLoop();
  if (!loop->Init(env, error)) {
    delete loop;
    return nullptr;
  }
  return loop;
}

bool EventLoop::Init(napi_env env, std::string* error) {
  env_ = env;
  if (napi_get_uv_event_loop(env, &uv_loop_) != napi_ok) {
    *error = "cannot get Node's libuv loop";
    return false;
  }
  event_config* config = event_config_new();
  // NO_CACHE_TIME: libevent otherwise stamps a timeout added inside a long callback with the time
  // the pass started, and the timer fires early by however long the callback ran.
  event_config_set_flag(config, EVENT_BASE_FLAG_PRECISE_TIMER | EVENT_BASE_FLAG_IGNORE_ENV |
                                    EVENT_BASE_FLAG_NO_CACHE_TIME);
  event_config_avoid_method(config, "select");
  event_config_avoid_method(config, "poll");
  base_ = event_base_new_with_config(config);
  event_config_free(config);
  if (base_ == nullptr) {
    *error = "libevent could not create an event_base with the epoll backend";
    return false;
  }
  if (std::strcmp(event_base_get_method(base_), "epoll") != 0) {
    *error = std::string("libevent chose the '") + event_base_get_method(base_) +
             "' backend; this binding requires epoll";
    return false;
  }
  if (event_base_priority_init(base_, kPriorityQueues) != 0) {
    *error = "event_base_priority_init failed";
    return false;
  }
  kicker_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (kicker_fd_ < 0) {
    *error = std::string("eventfd failed: ") + std::strerror(errno);
    return false;
  }
  kicker_event_ = event_new(base_, kicker_fd_, EV_READ | EV_PERSIST, OnKicker, this);
  // The kicker must be the lowest priority: at a middle priority, with a lower-priority event
  // active, EVLOOP_ONCE keeps re-running the (still readable) kicker and never returns.
  event_priority_set(kicker_event_, kPriorityQueues - 1);
  event_add(kicker_event_, nullptr);
  // The sentinel keeps one timeout in libevent at all times, so after a pass whose last dispatch
  // was given the true next timeout, libevent's timerfd is always armed; a disarmed timerfd
  // therefore means the last dispatch ran with a zero timeout (a timer came due, or events were
  // active) and another pass is needed to arm it for the next timeout.
  sentinel_event_ = event_new(base_, -1, EV_PERSIST, OnSentinel, this);
  event_priority_set(sentinel_event_, kPriorityQueues - 1);
  timeval sentinel_period{kSentinelSeconds, 0};
  event_add(sentinel_event_, &sentinel_period);
  if (!FindEpollFd(error)) return false;
  FindTimerFd();

  uv_poll_init(uv_loop_, &poll_, epoll_fd_);
  uv_prepare_init(uv_loop_, &prepare_);
  uv_idle_init(uv_loop_, &idle_);
  poll_.data = prepare_.data = idle_.data = this;
  handles_open_ = 3;
  uv_poll_start(&poll_, UV_READABLE, OnPoll);
  uv_prepare_start(&prepare_, OnPrepare);
  uv_unref(reinterpret_cast<uv_handle_t*>(&poll_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&prepare_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&idle_));
  napi_add_async_cleanup_hook(env, OnAsyncCleanup, this, &cleanup_hook_);
  return true;
}

// libevent offers no API for its epoll fd. The kicker is registered in it, so the eventpoll fd
// whose fdinfo lists the kicker is libevent's. Without /proc, the fd that accepts EPOLL_CTL_MOD for
// the kicker (with the registration libevent itself made) is the one.
bool EventLoop::FindEpollFd(std::string* error) {
  std::vector<int> candidates = EventpollFds();
  for (int fd : candidates) {
    if (FdinfoListsTarget(fd, kicker_fd_)) {
      epoll_fd_ = fd;
      return true;
    }
  }
  int highest = static_cast<int>(sysconf(_SC_OPEN_MAX));
  if (candidates.empty()) {
    for (int fd = 0; fd < highest && fd < 65536; fd++) candidates.push_back(fd);
  }
  for (int fd : candidates) {
    if (fd == kicker_fd_) continue;
    epoll_event probe{};
    probe.events = EPOLLIN;
    probe.data.fd = kicker_fd_;
    if (epoll_ctl(fd, EPOLL_CTL_MOD, kicker_fd_, &probe) == 0) {
      epoll_fd_ = fd;
      return true;
    }
  }
  *error =
      "cannot find libevent's epoll fd (neither /proc/self/fdinfo nor epoll_ctl found the kicker)";
  return false;
}

// libevent's timerfd is the epoll member whose fd links to anon_inode:[timerfd].
void EventLoop::FindTimerFd() {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fdinfo/%d", epoll_fd_);
  std::ifstream fdinfo(path);
  std::string line;
  while (std::getline(fdinfo, line)) {
    if (line.rfind("tfd:", 0) != 0) continue;
    int fd = std::atoi(line.c_str() + 4);
    if (FdLink(fd) == "anon_inode:[timerfd]") {
      timer_fd_ = fd;
      return;
    }
  }
}

bool EventLoop::TimerArmed() const {
  if (timer_fd_ < 0) return false;
  itimerspec current{};
  if (timerfd_gettime(timer_fd_, &current) != 0) return false;
  return current.it_value.tv_sec != 0 || current.it_value.tv_nsec != 0;
}

ws::TopicRegistry& EventLoop::topics() {
  if (topics_ == nullptr) topics_ = std::make_unique<ws::TopicRegistry>();
  return *topics_;
}

ws::ConnectionTable& EventLoop::connections() {
  if (connections_ == nullptr) connections_ = std::make_unique<ws::ConnectionTable>();
  return *connections_;
}

void EventLoop::WriteAtPassEnd(PassEndWriter* writer) {
  if (writer->listed_for_pass_end()) return;
  writer->pass_end_slot_ = static_cast<uint32_t>(pass_end_writers_.size());
  pass_end_writers_.push_back(writer);
  MarkDirty();
}

void EventLoop::ForgetPassEndWrite(PassEndWriter* writer) {
  if (!writer->listed_for_pass_end()) return;
  pass_end_writers_[writer->pass_end_slot_] = nullptr;
  writer->pass_end_slot_ = PassEndWriter::kNotListed;
}

// Writers listed while this runs (none should be) are written in the same run.
void EventLoop::RunPassEndWrites() {
  for (size_t i = 0; i < pass_end_writers_.size(); i++) {
    PassEndWriter* writer = pass_end_writers_[i];
    if (writer == nullptr) continue;
    writer->pass_end_slot_ = PassEndWriter::kNotListed;
    writer->WriteAtPassEnd();
  }
  pass_end_writers_.clear();
}

EventLoop::~EventLoop() {
  if (sweep_event_ != nullptr) event_free(sweep_event_);
  if (trim_event_ != nullptr) event_free(trim_event_);
  if (sentinel_event_ != nullptr) event_free(sentinel_event_);
  if (kicker_event_ != nullptr) event_free(kicker_event_);
  if (dns_ != nullptr) evdns_base_free(dns_, 1);
  if (base_ != nullptr) event_base_free(base_);
  if (kicker_fd_ >= 0) close(kicker_fd_);
}

evdns_base* EventLoop::dns() {
  if (dns_ == nullptr) {
    // libevent 2.1 applies DISABLE_WHEN_INACTIVE only after reading resolv.conf, so a base created
    // with both flags keeps a name server's read event added forever and the process never exits.
    // Creating the base first and reading the configuration afterwards avoids that.
    dns_ = evdns_base_new(base_, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (dns_ != nullptr &&
        evdns_base_resolv_conf_parse(dns_, DNS_OPTIONS_ALL, "/etc/resolv.conf") != 0) {
      // No usable resolv.conf: the hosts file still answers, and servers can be set with
      // configureDns.
      evdns_base_load_hosts(dns_, nullptr);
    }
  }
  return dns_;
}

void EventLoop::NoteCallback() {
  stats_.callbacks++;
  if (in_pass_) callbacks_this_pass_++;
}

void EventLoop::NoteJsCall() {
  if (!in_pass_) return;
  js_calls_this_pass_++;
  js_calls_this_wakeup_++;
  if (!budget_break_requested_ && BudgetSpent()) {
    budget_break_requested_ = true;
    stats_.budget_breaks++;
    event_base_loopbreak(base_);
  }
}

bool EventLoop::BudgetSpent() const {
  return js_calls_this_pass_ >= kJsCallBudgetPerPass ||
         js_calls_this_wakeup_ >= kJsCallBudgetPerWakeup;
}

void NoteJsCallInPass() {
  if (loop_in_pass != nullptr) loop_in_pass->NoteJsCall();
}

void EventLoop::ResumeAtNextWakeup(NativeObject* object, void (*resume)(NativeObject*)) {
  resume_next_wakeup_[object] = resume;
}

void EventLoop::Register(NativeObject* object) {
  object->registry_previous_ = nullptr;
  object->registry_next_ = objects_;
  if (objects_ != nullptr) objects_->registry_previous_ = object;
  objects_ = object;
  switch (object->kind()) {
    case ObjectKind::kBufferevent:
      stats_.live_bufferevents++;
      break;
    case ObjectKind::kListener:
      stats_.live_listeners++;
      break;
    case ObjectKind::kEvent:
      stats_.live_events++;
      break;
    case ObjectKind::kEvBuffer:
      stats_.live_evbuffers++;
      break;
    case ObjectKind::kWebSocket:
      stats_.live_websockets++;
      break;
    case ObjectKind::kRateLimitGroup:
      stats_.live_rate_limit_groups++;
      idle_event_owners_.insert(object);
      break;
    case ObjectKind::kInotify:  // an fd, no libevent object: nothing to count here
      break;
  }
}

void EventLoop::Unregister(NativeObject* object) {
  if (object->registry_previous_ != nullptr) {
    object->registry_previous_->registry_next_ = object->registry_next_;
  } else if (objects_ == object) {
    objects_ = object->registry_next_;
  }
  if (object->registry_next_ != nullptr) {
    object->registry_next_->registry_previous_ = object->registry_previous_;
  }
  object->registry_previous_ = object->registry_next_ = nullptr;
  resume_next_wakeup_.erase(object);
  switch (object->kind()) {
    case ObjectKind::kBufferevent:
      stats_.live_bufferevents--;
      break;
    case ObjectKind::kListener:
      stats_.live_listeners--;
      break;
    case ObjectKind::kEvent:
      stats_.live_events--;
      break;
    case ObjectKind::kEvBuffer:
      stats_.live_evbuffers--;
      break;
    case ObjectKind::kWebSocket:
      stats_.live_websockets--;
      break;
    case ObjectKind::kRateLimitGroup:
      stats_.live_rate_limit_groups--;
      idle_event_owners_.erase(object);
      break;
    case ObjectKind::kInotify:
      break;
  }
  MarkDirty();
}

LoopStats EventLoop::Stats() const {
  LoopStats stats = stats_;
  stats.added_events = UserEventsAdded();
  stats.active_events = event_base_get_num_events(base_, EVENT_BASE_COUNT_ACTIVE);
  stats.cached_chain_bytes = LibeventFreeListBytes();
  return stats;
}

int EventLoop::UserEventsAdded() const {
  int idle = 0;
  for (const NativeObject* owner : idle_event_owners_) idle += owner->IdleAddedEvents();
  // The context sweep is maintenance, not work: it must not keep the process alive.
  if (sweep_event_ != nullptr && evtimer_pending(sweep_event_, nullptr)) idle++;
  if (trim_event_ != nullptr && evtimer_pending(trim_event_, nullptr)) idle++;
  return event_base_get_num_events(base_, EVENT_BASE_COUNT_ADDED) - kInternalEvents - idle;
}

void EventLoop::ScheduleContextSweep() {
  if (shutting_down_) return;
  if (sweep_event_ == nullptr) {
    sweep_event_ = evtimer_new(base_, OnContextSweep, this);
    if (sweep_event_ == nullptr) return;  // out of memory: contexts stay live, as without parking
    event_priority_set(sweep_event_, kPriorityQueues - 1);
  }
  if (evtimer_pending(sweep_event_, nullptr)) return;
  timeval period{kContextSweepSeconds, 0};
  evtimer_add(sweep_event_, &period);
  MarkDirty();
}

void EventLoop::OnContextSweep(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<EventLoop*>(arg);
  ws::ZlibContextPool& pool = Addon::Of(Napi::Env(self->env_)).zlib_contexts;
  size_t parked = pool.ParkIdle(kContextIdleSeconds * 1000);
#ifdef __GLIBC__
  // glibc keeps freed zlib windows (64 KiB and more each) in its arenas; without a trim the
  // parked contexts would leave the heap but not the process's RSS.
  if (parked > 0) malloc_trim(0);
#endif
  if (pool.holder_count() > 0) self->ScheduleContextSweep();
}

void EventLoop::ScheduleFreeListTrim() {
  if (shutting_down_) return;
  if (trim_event_ == nullptr) {
    trim_event_ = evtimer_new(base_, OnFreeListTrim, this);
    if (trim_event_ == nullptr) return;  // out of memory: the blocks stay cached, as they did
    event_priority_set(trim_event_, kPriorityQueues - 1);
  }
  if (evtimer_pending(trim_event_, nullptr)) return;
  timeval period{kFreeListTrimSeconds, 0};
  trim_armed_ = evtimer_add(trim_event_, &period) == 0;
}

void EventLoop::OnFreeListTrim(evutil_socket_t, short, void* arg) {
  static_cast<EventLoop*>(arg)->trim_armed_ = false;
  [[maybe_unused]] size_t freed = TrimLibeventFreeLists();
#ifdef __GLIBC__
  // Chains are below glibc's mmap threshold: freed, they stay in its heap, and in the RSS, until a
  // trim. A quarter of a megabyte is worth the trim's walk over the heap.
  if (freed >= 256 * 1024) malloc_trim(0);
#endif
  // Re-armed by the pass this runs in, if blocks are still cached.
}

bool EventLoop::RunOnePass() {
  const int active_before = event_base_get_num_events(base_, EVENT_BASE_COUNT_ACTIVE);
  const int added_before = event_base_get_num_events(base_, EVENT_BASE_COUNT_ADDED);
  const uint64_t one = 1;
  // Failure can only mean the eventfd counter is full, and then it is readable anyway.
  [[maybe_unused]] ssize_t kicked = write(kicker_fd_, &one, sizeof one);
  callbacks_this_pass_ = 0;
  js_calls_this_pass_ = 0;
  budget_break_requested_ = false;
  in_pass_ = true;
  loop_in_pass = this;
  event_base_loop(base_, EVLOOP_ONCE);
  loop_in_pass = nullptr;
  in_pass_ = false;
  // Before the quiet check: a write that left bytes queued arms a write event, so the pass is not
  // quiet and the next one registers it.
  RunPassEndWrites();
  // After the writes: a connection closed in this pass was taken off their list when it closed.
  if (connections_ != nullptr) connections_->DeleteRetired();
  // Added here, the trim timer makes this pass not quiet, so the next pass arms libevent's timerfd
  // for it.
  if (!trim_armed_ && LibeventFreeListsHoldBlocks()) ScheduleFreeListTrim();
  uint64_t drained;
  [[maybe_unused]] ssize_t drained_bytes =
      read(kicker_fd_, &drained, sizeof drained);  // EAGAIN: empty
  stats_.passes++;
  // Quiet: nothing was pending before the pass, no JavaScript ran (it could have added an earlier
  // timeout), nothing is left active, and the timerfd is armed (so the last epoll_wait was given
  // the true next timeout rather than zero because a timer came due). Without /proc the timerfd is
  // unknown and that last check is skipped (a timer re-added by libevent's own callbacks can then
  // wait for the next wakeup).
  return active_before == 0 && callbacks_this_pass_ == 0 &&
         event_base_get_num_events(base_, EVENT_BASE_COUNT_ADDED) == added_before &&
         event_base_get_num_events(base_, EVENT_BASE_COUNT_ACTIVE) == 0 &&
         (timer_fd_ < 0 ? true : TimerArmed());
}

void EventLoop::RunPasses() {
  if (in_pass_ || shutting_down_) return;
  dirty_ = false;
  js_calls_this_wakeup_ = 0;
  if (!resume_next_wakeup_.empty()) {
    auto resuming = std::move(resume_next_wakeup_);
    resume_next_wakeup_.clear();
    for (auto [object, resume] : resuming) resume(object);
  }
  bool quiet = false;
  for (int i = 0;
       i < kMaxPassesPerWakeup && !quiet && js_calls_this_wakeup_ < kJsCallBudgetPerWakeup; i++) {
    quiet = RunOnePass();
  }
  // Work waiting for the next round keeps the idle handle running, so that round comes.
  if (!resume_next_wakeup_.empty()) quiet = false;
  if (!quiet && !idle_running_) {
    idle_running_ = true;
    uv_idle_start(&idle_, OnIdle);
  } else if (quiet && idle_running_) {
    idle_running_ = false;
    uv_idle_stop(&idle_);
  }
  // Whatever JavaScript changed during these passes is covered: either the last pass was quiet (it
  // saw every change) or the idle handle brings us back. Leaving the prepare handle ref'd here
  // would keep the process alive with nothing to do.
  dirty_ = false;
  uv_unref(reinterpret_cast<uv_handle_t*>(&prepare_));
  UpdateRef();
}

// Like Node's own handles: the process stays alive while libevent has user events pending, or work
// waits for the next round (a listener paused by the budget has no event added meanwhile).
void EventLoop::UpdateRef() {
  bool want = UserEventsAdded() > 0 || !resume_next_wakeup_.empty();
  if (want == poll_referenced_) return;
  poll_referenced_ = want;
  if (want) {
    uv_ref(reinterpret_cast<uv_handle_t*>(&poll_));
  } else {
    uv_unref(reinterpret_cast<uv_handle_t*>(&poll_));
  }
}

void EventLoop::OnPoll(uv_poll_t* handle, int status, int) {
  auto* self = static_cast<EventLoop*>(handle->data);
  if (status < 0) return;
  self->stats_.wakeups++;
  self->RunPasses();
}

void EventLoop::OnPrepare(uv_prepare_t* handle) {
  auto* self = static_cast<EventLoop*>(handle->data);
  if (self->dirty_) self->RunPasses();
}

void EventLoop::OnIdle(uv_idle_t* handle) { static_cast<EventLoop*>(handle->data)->RunPasses(); }

void EventLoop::OnKicker(evutil_socket_t, short, void*) {}

void EventLoop::OnSentinel(evutil_socket_t, short, void*) {}

// Environment teardown: release every object JavaScript did not free, let libevent run its deferred
// finalizers once, then close the libuv handles; the hook is removed when the last one has closed.
void EventLoop::OnAsyncCleanup(napi_async_cleanup_hook_handle, void* arg) {
  auto* self = static_cast<EventLoop*>(arg);
  self->shutting_down_ = true;
  // The pool outlives the loop (it is the addon's): it must not call a deleted loop.
  Addon::Of(Napi::Env(self->env_)).zlib_contexts.SetSweepRequest(nullptr);
  std::vector<NativeObject*> remaining;
  for (NativeObject* object = self->objects_; object != nullptr; object = object->registry_next_) {
    remaining.push_back(object);
  }
  for (NativeObject* object : remaining) {
    object->Close();
    object->DetachFromLoop();
  }
  // Every WebSocket connection was closed, so retired, above.
  if (self->connections_ != nullptr) self->connections_->DeleteRetired();
  event_base_loop(self->base_, EVLOOP_NONBLOCK);
  uv_close(reinterpret_cast<uv_handle_t*>(&self->poll_), OnHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&self->prepare_), OnHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&self->idle_), OnHandleClosed);
}

void EventLoop::OnHandleClosed(uv_handle_t* handle) {
  auto* self = static_cast<EventLoop*>(handle->data);
  if (--self->handles_open_ > 0) return;
  napi_remove_async_cleanup_hook(self->cleanup_hook_);
  delete self;
}

}  // namespace node_bufferevent
