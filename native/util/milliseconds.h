// Converts the binding's millisecond durations to libevent's timeval.
#pragma once

#include <sys/time.h>

#include <cmath>

namespace node_bufferevent {

// The longest duration the binding hands libevent: 2^31 - 1 ms (about 24.8 days), the same bound
// as Node's own timers. src/validate.ts refuses longer ones before they get here; the clamp below
// only guarantees that no double (NaN, Infinity, 1e300) can overflow time_t or make a negative
// timeval, which libevent would treat as "now".
constexpr double kMaxMilliseconds = 2147483647.0;

inline timeval MillisecondsToTimeval(double milliseconds) {
  if (!(milliseconds > 0)) milliseconds = 0;  // also NaN
  if (milliseconds > kMaxMilliseconds) milliseconds = kMaxMilliseconds;
  timeval tv;
  double whole_seconds = std::floor(milliseconds / 1000.0);
  tv.tv_sec = static_cast<time_t>(whole_seconds);
  tv.tv_usec =
      static_cast<suseconds_t>(std::llround((milliseconds - whole_seconds * 1000.0) * 1000.0));
  if (tv.tv_usec >= 1000000) {
    tv.tv_sec += 1;
    tv.tv_usec -= 1000000;
  }
  return tv;
}

}  // namespace node_bufferevent
