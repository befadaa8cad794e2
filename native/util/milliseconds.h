// Converts the binding's millisecond durations to libevent's timeval.
#pragma once

#include <sys/time.h>

#include <cmath>

namespace node_bufferevent {

inline timeval MillisecondsToTimeval(double milliseconds) {
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
