// The resolver's configuration: base.configureDns({ servers?, timeoutMs?, attempts? }) applied to
// the loop's evdns_base (created on first use).
#pragma once

#include <napi.h>

namespace node_bufferevent {

class EventLoop;

// Arguments are validated in src/event-base.ts.
Napi::Value ApplyDnsOptions(Napi::Env env, EventLoop* loop, Napi::Object options);

}  // namespace node_bufferevent
