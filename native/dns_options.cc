// evdns_base_set_option and the name-server list for configureDns.
#include "dns_options.h"

#include <event2/dns.h>

#include <string>

#include "event_loop.h"
#include "util/errors.h"
#include "util/napi_checked.h"

namespace node_bufferevent {

Napi::Value ApplyDnsOptions(Napi::Env env, EventLoop* loop, Napi::Object options) {
  evdns_base* dns = loop->dns();
  if (dns == nullptr)
    return ThrowError(env, "ERR_DNS", "libevent could not create its DNS resolver");
  if (HasProperty(options, "timeoutMs")) {
    std::string seconds = std::to_string(GetNumber(options, "timeoutMs", 0) / 1000.0);
    evdns_base_set_option(dns, "timeout:", seconds.c_str());
  }
  if (HasProperty(options, "attempts")) {
    std::string attempts = std::to_string(GetInt32(options, "attempts", 0));
    evdns_base_set_option(dns, "attempts:", attempts.c_str());
  }
  if (HasProperty(options, "servers")) {
    Napi::Value servers = GetProperty(options, "servers");
    uint32_t count = 0;
    // A refusal (the worker is being terminated) reads as an empty list.
    if (servers.IsEmpty() || napi_get_array_length(env, servers, &count) != napi_ok) count = 0;
    evdns_base_clear_nameservers_and_suspend(dns);
    for (uint32_t i = 0; i < count; i++) {
      napi_value element = nullptr;
      if (napi_get_element(env, servers, i, &element) != napi_ok) break;
      std::string server = StringText(Napi::Value(env, element));
      if (evdns_base_nameserver_ip_add(dns, server.c_str()) != 0) {
        evdns_base_resume(dns);
        return ThrowError(
            env, "ERR_INVALID_DNS_SERVER",
            "'" + server + "' is not a usable name server address (expected IP or IP:port)");
      }
    }
    evdns_base_resume(dns);
  }
  loop->MarkDirty();
  return env.Undefined();
}

}  // namespace node_bufferevent
