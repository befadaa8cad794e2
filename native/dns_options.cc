// evdns_base_set_option and the name-server list for configureDns.
#include "dns_options.h"

#include <event2/dns.h>

#include <string>

#include "event_loop.h"
#include "util/errors.h"

namespace node_bufferevent {

Napi::Value ApplyDnsOptions(Napi::Env env, EventLoop* loop, Napi::Object options) {
  evdns_base* dns = loop->dns();
  if (dns == nullptr)
    return ThrowError(env, "ERR_DNS", "libevent could not create its DNS resolver");
  if (options.Has("timeoutMs")) {
    std::string seconds =
        std::to_string(options.Get("timeoutMs").As<Napi::Number>().DoubleValue() / 1000.0);
    evdns_base_set_option(dns, "timeout:", seconds.c_str());
  }
  if (options.Has("attempts")) {
    std::string attempts = std::to_string(options.Get("attempts").As<Napi::Number>().Int32Value());
    evdns_base_set_option(dns, "attempts:", attempts.c_str());
  }
  if (options.Has("servers")) {
    Napi::Array servers = options.Get("servers").As<Napi::Array>();
    evdns_base_clear_nameservers_and_suspend(dns);
    for (uint32_t i = 0; i < servers.Length(); i++) {
      std::string server = servers.Get(i).As<Napi::String>().Utf8Value();
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
