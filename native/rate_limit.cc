// Token buckets for socket bufferevents and groups. libevent keeps a pointer to a bufferevent's
// ev_token_bucket_cfg (so it lives until replaced or the bufferevent is freed) but copies a
// group's.
#include "rate_limit.h"

#include <cmath>

#include "addon.h"
#include "buffer_event.h"
#include "event_loop.h"
#include "filters/native_filter.h"
#include "util/errors.h"
#include "util/milliseconds.h"
#include "util/napi_checked.h"

namespace node_bufferevent {

namespace {

// src/rate-limit-config.ts validates every number; these clamps only keep a value that slipped
// through inside what libevent's arithmetic holds (its bucket sizes are ev_ssize_t, its tick a
// whole number of milliseconds that it divides by).
constexpr double kMaxBucketBytes = static_cast<double>(EV_RATE_LIMIT_MAX / 2);

size_t ClampBytes(double bytes) {
  if (!(bytes >= 1)) return 1;  // also NaN
  return bytes > kMaxBucketBytes ? static_cast<size_t>(kMaxBucketBytes)
                                 : static_cast<size_t>(bytes);
}

size_t PerTick(Napi::Object options, const char* name, double tick_ms) {
  Napi::Value value = GetProperty(options, name);
  if (!value.IsNumber()) return EV_RATE_LIMIT_MAX;
  return ClampBytes(std::floor(value.As<Napi::Number>().DoubleValue() * tick_ms / 1000.0));
}

size_t Burst(Napi::Object options, const char* name, size_t rate) {
  Napi::Value value = GetProperty(options, name);
  if (!value.IsNumber()) return rate;
  size_t burst = ClampBytes(value.As<Napi::Number>().DoubleValue());
  return burst < rate ? rate : burst;
}

}  // namespace

double RateLimitTickMs(Napi::Object options) {
  double tick_ms = std::floor(GetNumber(options, "tickMs", 1));
  if (!(tick_ms >= 1)) return 1;
  return tick_ms > kMaxMilliseconds ? kMaxMilliseconds : tick_ms;
}

// options: { readRate?, readBurst?, writeRate?, writeBurst?, tickMs } — rates in bytes per second;
// an omitted direction is unlimited.
ev_token_bucket_cfg* MakeBucketConfig(Napi::Env env, Napi::Object options) {
  double tick_ms = RateLimitTickMs(options);
  size_t read_rate = PerTick(options, "readRate", tick_ms);
  size_t write_rate = PerTick(options, "writeRate", tick_ms);
  timeval tick = MillisecondsToTimeval(tick_ms);
  ev_token_bucket_cfg* config =
      ev_token_bucket_cfg_new(read_rate, Burst(options, "readBurst", read_rate), write_rate,
                              Burst(options, "writeBurst", write_rate), &tick);
  if (config == nullptr)
    ThrowError(env, "ERR_INVALID_RATE_LIMIT", "libevent rejected the rate limit");
  return config;
}

bool BuffereventWrap::CheckRateLimitable(Napi::Env env) {
  if (!CheckUsable(env)) return false;
  if (kind_ != BuffereventKind::kSocket) {
    ThrowError(env, "ERR_RATE_LIMIT_UNSUPPORTED",
               "rate limits apply to socket bufferevents only (libevent ignores them on pairs and "
               "filters); "
               "limit the underlying socket bufferevent instead");
    return false;
  }
  return true;
}

// setRateLimit(options | null)
Napi::Value BuffereventWrap::SetRateLimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckRateLimitable(env)) return Napi::Value();
  ev_token_bucket_cfg* config = nullptr;
  if (info[0].IsObject()) {
    config = MakeBucketConfig(env, info[0].As<Napi::Object>());
    if (config == nullptr) return Napi::Value();
  }
  if (bufferevent_set_rate_limit(bev_, config) != 0) {
    if (config != nullptr) ev_token_bucket_cfg_free(config);
    return ThrowError(env, "ERR_INVALID_RATE_LIMIT", "libevent could not apply the rate limit");
  }
  RateLimitState& limits = Limits();
  if (limits.config != nullptr) ev_token_bucket_cfg_free(limits.config);
  limits.config = config;
  limits.tick_ms = config == nullptr ? 0 : RateLimitTickMs(info[0].As<Napi::Object>());
  SyncOwnRead();  // own reads under a rate limit watch the socket with an event of their own
  loop()->MarkDirty();
  return env.Undefined();
}

Napi::Value BuffereventWrap::GetReadLimit(const Napi::CallbackInfo& info) {
  if (!CheckRateLimitable(info.Env())) return Napi::Value();
  return Napi::Number::New(info.Env(), static_cast<double>(bufferevent_get_read_limit(bev_)));
}

Napi::Value BuffereventWrap::GetWriteLimit(const Napi::CallbackInfo& info) {
  if (!CheckRateLimitable(info.Env())) return Napi::Value();
  return Napi::Number::New(info.Env(), static_cast<double>(bufferevent_get_write_limit(bev_)));
}

Napi::Value BuffereventWrap::DecrementReadLimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckRateLimitable(env)) return Napi::Value();
  if (rate_limit() == nullptr || rate_limit()->config == nullptr)
    return ThrowError(env, "ERR_NO_RATE_LIMIT",
                      "this bufferevent has no rate limit; call setRateLimit first");
  bufferevent_decrement_read_limit(
      bev_, static_cast<ev_ssize_t>(info[0].As<Napi::Number>().DoubleValue()));
  loop()->MarkDirty();
  return env.Undefined();
}

Napi::Value BuffereventWrap::DecrementWriteLimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckRateLimitable(env)) return Napi::Value();
  if (rate_limit() == nullptr || rate_limit()->config == nullptr)
    return ThrowError(env, "ERR_NO_RATE_LIMIT",
                      "this bufferevent has no rate limit; call setRateLimit first");
  bufferevent_decrement_write_limit(
      bev_, static_cast<ev_ssize_t>(info[0].As<Napi::Number>().DoubleValue()));
  loop()->MarkDirty();
  return env.Undefined();
}

void BuffereventWrap::ChargeRead(size_t bytes) {
  RateLimitState* limits = rate_limit();
  if (limits == nullptr) return;
  if (limits->config != nullptr)
    bufferevent_decrement_read_limit(bev_, static_cast<ev_ssize_t>(bytes));
  if (limits->group != nullptr) {
    bufferevent_rate_limit_group_decrement_read(limits->group->group(),
                                                static_cast<ev_ssize_t>(bytes));
    limits->group->AddFastPathBytes(bytes, 0);
  }
}

void BuffereventWrap::ChargeWrite(size_t bytes) {
  RateLimitState* limits = rate_limit();
  if (limits == nullptr) return;
  if (limits->config != nullptr)
    bufferevent_decrement_write_limit(bev_, static_cast<ev_ssize_t>(bytes));
  if (limits->group != nullptr) {
    bufferevent_rate_limit_group_decrement_write(limits->group->group(),
                                                 static_cast<ev_ssize_t>(bytes));
    limits->group->AddFastPathBytes(0, bytes);
  }
}

void BuffereventWrap::ReleaseRateLimit() {
  if (kind_ != BuffereventKind::kSocket || rate_limit() == nullptr || bev_ == nullptr) return;
  RateLimitState& limits = *rate_limit();
  if (limits.group != nullptr) {
    bufferevent_remove_from_rate_limit_group(bev_);
    limits.group->Forget(this);
    limits.group = nullptr;
  }
  if (limits.config != nullptr) {
    bufferevent_set_rate_limit(bev_, nullptr);
    ev_token_bucket_cfg_free(limits.config);
    limits.config = nullptr;
  }
}

Napi::Function RateLimitGroupWrap::Init(Napi::Env env) {
  return DefineClass(env, "RateLimitGroup",
                     {
                         InstanceMethod<&RateLimitGroupWrap::Add>("add"),
                         InstanceMethod<&RateLimitGroupWrap::Remove>("remove"),
                         InstanceMethod<&RateLimitGroupWrap::SetRate>("setRate"),
                         InstanceMethod<&RateLimitGroupWrap::Totals>("totals"),
                         InstanceMethod<&RateLimitGroupWrap::ResetTotals>("resetTotals"),
                         InstanceMethod<&RateLimitGroupWrap::Free>("free"),
                     });
}

// new RateLimitGroup(owner, options)
RateLimitGroupWrap::RateLimitGroupWrap(const Napi::CallbackInfo& info)
    : NativeObject(info, ObjectKind::kRateLimitGroup) {
  if (loop() == nullptr) return;  // ERR_LOOP_INIT is pending
  Napi::Env env = info.Env();
  SetOwner(info[0].As<Napi::Object>(), env, "RateLimitGroup");
  tick_ms_ = RateLimitTickMs(info[1].As<Napi::Object>());
  ev_token_bucket_cfg* config = MakeBucketConfig(env, info[1].As<Napi::Object>());
  if (config == nullptr) {
    NativeObject::Close();
    return;
  }
  group_ = bufferevent_rate_limit_group_new(loop()->base(), config);  // copies the configuration
  ev_token_bucket_cfg_free(config);
  if (group_ == nullptr) {
    NativeObject::Close();
    ThrowError(env, "ERR_INVALID_RATE_LIMIT", "libevent could not create the rate-limit group");
  }
}

RateLimitGroupWrap::~RateLimitGroupWrap() { NativeObject::Close(); }

void RateLimitGroupWrap::ReleaseNative() {
  for (BuffereventWrap* member : members_) {
    if (member->bev_ != nullptr) bufferevent_remove_from_rate_limit_group(member->bev_);
    member->rate_limit()->group = nullptr;  // a member has its limits
  }
  members_.clear();
  if (group_ != nullptr) bufferevent_rate_limit_group_free(group_);
  group_ = nullptr;
}

void RateLimitGroupWrap::Forget(BuffereventWrap* member) {
  members_.erase(member);
  KeepOwnerAlive(!members_.empty());
}

bool RateLimitGroupWrap::CheckUsable(Napi::Env env) {
  if (group_ != nullptr) return true;
  ThrowError(env, "ERR_FREED", "this rate-limit group was freed");
  return false;
}

Napi::Value RateLimitGroupWrap::Add(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  BuffereventWrap* member = BuffereventWrap::FromJs(info[0], "bufferevent");
  if (member == nullptr || !member->CheckRateLimitable(env)) return Napi::Value();
  RateLimitState& limits = member->Limits();
  if (limits.group == this) return env.Undefined();
  if (limits.group != nullptr) {
    return ThrowError(env, "ERR_RATE_LIMIT_GROUP",
                      "the bufferevent already belongs to another rate-limit group");
  }
  if (bufferevent_add_to_rate_limit_group(member->bev_, group_) != 0) {
    return ThrowError(env, "ERR_RATE_LIMIT_GROUP",
                      "libevent could not add the bufferevent to the group");
  }
  limits.group = this;
  if (limits.tick_ms == 0) limits.tick_ms = tick_ms_;  // when own reads wait for a refill
  member->SyncOwnRead();  // own reads in a group watch the socket with an event of their own
  members_.insert(member);
  KeepOwnerAlive(true);  // a group with members is in use even if user code dropped it
  loop()->MarkDirty();
  return env.Undefined();
}

Napi::Value RateLimitGroupWrap::Remove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  BuffereventWrap* member = BuffereventWrap::FromJs(info[0], "bufferevent");
  if (member == nullptr) return Napi::Value();
  if (member->kind_ != BuffereventKind::kSocket || member->rate_limit() == nullptr ||
      member->rate_limit()->group != this)
    return env.Undefined();
  if (member->bev_ != nullptr) bufferevent_remove_from_rate_limit_group(member->bev_);
  member->rate_limit()->group = nullptr;
  Forget(member);
  member->SyncOwnRead();
  loop()->MarkDirty();
  return env.Undefined();
}

Napi::Value RateLimitGroupWrap::SetRate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  ev_token_bucket_cfg* config = MakeBucketConfig(env, info[0].As<Napi::Object>());
  if (config == nullptr) return Napi::Value();
  bufferevent_rate_limit_group_set_cfg(group_, config);  // copies
  ev_token_bucket_cfg_free(config);
  // Members whose own reads wait for a refill follow the group's new tick.
  double previous_tick_ms = tick_ms_;
  tick_ms_ = RateLimitTickMs(info[0].As<Napi::Object>());
  for (BuffereventWrap* member : members_) {
    RateLimitState& limits = *member->rate_limit();  // a member has its limits
    if (limits.config == nullptr && limits.tick_ms == previous_tick_ms) limits.tick_ms = tick_ms_;
  }
  loop()->MarkDirty();
  return env.Undefined();
}

int RateLimitGroupWrap::IdleAddedEvents() const {
  if (group_ == nullptr) return 0;
  bool members_wait = bufferevent_rate_limit_group_get_read_limit(group_) <= 0 ||
                      bufferevent_rate_limit_group_get_write_limit(group_) <= 0;
  return members_wait ? 0 : 1;
}

Napi::Value RateLimitGroupWrap::Totals(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  ev_uint64_t read = 0;
  ev_uint64_t written = 0;
  bufferevent_rate_limit_group_get_totals(group_, &read, &written);
  Napi::Object result = Napi::Object::New(env);
  SetProperty(result, "read", static_cast<double>(read + fast_path_read_));
  SetProperty(result, "written", static_cast<double>(written + fast_path_written_));
  SetProperty(result, "members", static_cast<double>(members_.size()));
  return result;
}

Napi::Value RateLimitGroupWrap::ResetTotals(const Napi::CallbackInfo& info) {
  if (!CheckUsable(info.Env())) return Napi::Value();
  bufferevent_rate_limit_group_reset_totals(group_);
  fast_path_read_ = fast_path_written_ = 0;
  return info.Env().Undefined();
}

Napi::Value RateLimitGroupWrap::Free(const Napi::CallbackInfo& info) {
  NativeObject::Close();
  return info.Env().Undefined();
}

}  // namespace node_bufferevent
