// Rate limits for socket bufferevents: per-bufferevent token buckets (ev_token_bucket_cfg) and
// RateLimitGroup (bufferevent_rate_limit_group), whose members share one bucket.
#pragma once

#include <event2/bufferevent.h>
#include <napi.h>

#include <unordered_set>

#include "native_class.h"
#include "native_object.h"

namespace node_bufferevent {

class BuffereventWrap;
class RateLimitGroupWrap;

// A socket bufferevent's own limit and group membership (socket bufferevents only).
struct RateLimitState {
  ev_token_bucket_cfg* config = nullptr;  // libevent keeps a pointer to it while it is set
  RateLimitGroupWrap* group = nullptr;
  double tick_ms = 0;  // the limit's or the group's tick, for own reads waiting for a refill
};

// Rates arrive in bytes per second and are converted to libevent's bytes per tick.
ev_token_bucket_cfg* MakeBucketConfig(Napi::Env env, Napi::Object options);
// The refill tick of a validated options object, in whole milliseconds (at least 1).
double RateLimitTickMs(Napi::Object options);

class RateLimitGroupWrap : public NativeClass<RateLimitGroupWrap>, public NativeObject {
 public:
  static constexpr ObjectKind kObjectKind = ObjectKind::kRateLimitGroup;
  static Napi::Function Init(Napi::Env env);
  explicit RateLimitGroupWrap(const Napi::CallbackInfo& info);
  ~RateLimitGroupWrap() override;
  // A member was freed: libevent removes it from the group itself; we forget it.
  void Forget(BuffereventWrap* member);
  bufferevent_rate_limit_group* group() const { return group_; }
  // libevent keeps the group's refill timer added for the group's whole life. It is work only
  // while a bucket is empty: then members are suspended until the next refill.
  int IdleAddedEvents() const override;
  // Bytes the socket fast paths moved past libevent's own accounting, added to the totals.
  void AddFastPathBytes(size_t read, size_t written) {
    fast_path_read_ += read;
    fast_path_written_ += written;
  }

 protected:
  void ReleaseNative() override;

 private:
  bool CheckUsable(Napi::Env env);
  Napi::Value Add(const Napi::CallbackInfo& info);
  Napi::Value Remove(const Napi::CallbackInfo& info);
  Napi::Value SetRate(const Napi::CallbackInfo& info);
  Napi::Value Totals(const Napi::CallbackInfo& info);
  Napi::Value ResetTotals(const Napi::CallbackInfo& info);
  Napi::Value Free(const Napi::CallbackInfo& info);

  bufferevent_rate_limit_group* group_ = nullptr;
  std::unordered_set<BuffereventWrap*> members_;
  uint64_t fast_path_read_ = 0;
  double tick_ms_ = 0;
  uint64_t fast_path_written_ = 0;
};

}  // namespace node_bufferevent
