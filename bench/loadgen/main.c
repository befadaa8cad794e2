/* Load generator entry point: the warm-up and measured window, CPU accounting,
 * and reporting (one JSON line on stdout, human text on stderr). Options are
 * parsed in options.c; workloads live in their own files (tcp_echo.c,
 * ws_echo.c, ws_chat.c, ws_idle.c); add new modes to `workloads`.
 * stderr carries two marker lines for the bench runner: "loadgen: measure-start"
 * and "loadgen: measure-end", written when the measured window opens/closes.
 * Exit status: 0 ok, 1 echoed bytes (or WebSocket frames) were wrong, 2 connection
 * errors (a refused upgrade among them) or stalled
 * connections (no echo during the whole window), 64 usage error. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "loadgen.h"

static const struct workload* const workloads[] = {&tcp_echo_workload, &ws_echo_workload,
                                                   &ws_chat_workload, &ws_idle_workload};
static const struct workload* workload;

static struct loadgen_options options;

static struct loadgen_state state;

struct window {
  int started, ended;
  uint64_t start_ns, end_ns;
  struct rusage start_usage, end_usage;
};
static struct window window;

uint64_t loadgen_now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static double seconds_of(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

static void json_string(FILE* out, const char* text) {
  fputc('"', out);
  for (const unsigned char* c = (const unsigned char*)text; *c; c++) {
    if (*c == '"' || *c == '\\')
      fprintf(out, "\\%c", *c);
    else if (*c < 0x20)
      fprintf(out, "\\u%04x", *c);
    else
      fputc(*c, out);
  }
  fputc('"', out);
}

void loadgen_fail(const struct loadgen_state* failed_state, const char* format, ...) {
  char message[512];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof message, format, args);
  va_end(args);
  fprintf(stderr, "loadgen: FAILED: %s\n", message);
  printf("{\"ok\":false,\"mode\":");
  json_string(stdout, failed_state->options->mode);
  printf(",\"error\":");
  json_string(stdout, message);
  printf("}\n");
  fflush(stdout);
  exit(1);
}

void loadgen_connection_error(struct loadgen_state* failed_state, enum loadgen_error_kind kind,
                              int connection_id, const char* what, int error_number) {
  struct loadgen_errors* errors = &failed_state->errors;
  uint64_t* counter = kind == LOADGEN_ERROR_CONNECT ? &errors->connect
                      : kind == LOADGEN_ERROR_IO    ? &errors->io
                                                    : &errors->eof;
  if (errors->connect + errors->io + errors->eof == 0) {
    if (error_number)
      snprintf(errors->first, sizeof errors->first, "connection %d: %s: %s", connection_id, what,
               strerror(error_number));
    else
      snprintf(errors->first, sizeof errors->first, "connection %d: %s", connection_id, what);
    fprintf(stderr, "loadgen: %s\n", errors->first);
  }
  (*counter)++;
  if (failed_state->live == 0 && !failed_state->stopping) {
    fprintf(stderr, "loadgen: no connection left, ending the run early\n");
    event_base_loopbreak(failed_state->base);
  }
}

static void open_window(void) {
  memset(&state.measured, 0, sizeof state.measured);
  window.started = 1;
  window.start_ns = loadgen_now_ns();
  state.window_start_ns = window.start_ns;
  getrusage(RUSAGE_SELF, &window.start_usage);
  fprintf(stderr, "loadgen: measure-start\n");
}

static void close_window(void) {
  if (!window.started || window.ended) return;
  window.ended = 1;
  window.end_ns = loadgen_now_ns();
  getrusage(RUSAGE_SELF, &window.end_usage);
  fprintf(stderr, "loadgen: measure-end\n");
}

static void on_warmup_done(evutil_socket_t fd, short what, void* arg) {
  (void)fd, (void)what, (void)arg;
  open_window();
}

void loadgen_open_window(void) { open_window(); }

void loadgen_finish(void) {
  close_window();
  state.stopping = 1;
  event_base_loopbreak(state.base);
}

static void on_duration_done(evutil_socket_t fd, short what, void* arg) {
  (void)fd, (void)what, (void)arg;
  loadgen_finish();
}

static struct timeval timeval_of(double seconds) {
  struct timeval tv = {.tv_sec = (time_t)seconds};
  tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
  return tv;
}

/* Connection errors, stalled connections, or no measured window at all. */
static int run_failed(void) {
  const struct loadgen_errors* errors = &state.errors;
  return errors->connect + errors->io + errors->eof > 0 || state.stalled > 0 || !window.started;
}

static void report(void) {
  double elapsed_s = window.started ? (double)(window.end_ns - window.start_ns) / 1e9 : 0.0;
  double user_s = 0, sys_s = 0;
  if (window.started) {
    user_s = seconds_of(window.end_usage.ru_utime) - seconds_of(window.start_usage.ru_utime);
    sys_s = seconds_of(window.end_usage.ru_stime) - seconds_of(window.start_usage.ru_stime);
  }
  double cpu_percent = elapsed_s > 0 ? (user_s + sys_s) / elapsed_s * 100.0 : 0.0;
  double mb_per_s = elapsed_s > 0 ? (double)state.measured.bytes / elapsed_s / 1e6 : 0.0;
  double messages_per_s = elapsed_s > 0 ? (double)state.measured.messages / elapsed_s : 0.0;
  const struct latency_histogram* latency = &state.measured.latency;
  double p50 = (double)latency_histogram_percentile(latency, 50) / 1e3;
  double p90 = (double)latency_histogram_percentile(latency, 90) / 1e3;
  double p99 = (double)latency_histogram_percentile(latency, 99) / 1e3;
  double p999 = (double)latency_histogram_percentile(latency, 99.9) / 1e3;
  double max = (double)latency->max_ns / 1e3;
  double mean = latency_histogram_mean(latency) / 1e3;
  const struct loadgen_errors* errors = &state.errors;
  uint64_t error_count = errors->connect + errors->io + errors->eof;

  printf("{\"ok\":%s,\"mode\":", run_failed() ? "false" : "true");
  json_string(stdout, options.mode);
  printf(",\"host\":");
  json_string(stdout, options.host);
  printf(
      ",\"port\":%d,\"connections\":%d,\"connected\":%d,\"depth\":%d,\"chunk_size\":%zu,"
      "\"warmup_s\":%.3f,\"duration_s\":%.3f,\"bytes\":%llu,\"messages\":%llu,"
      "\"mb_per_s\":%.2f,\"messages_per_s\":%.1f,",
      options.port, options.connections, state.connected, options.depth, options.chunk_size,
      options.warmup_s, elapsed_s, (unsigned long long)state.measured.bytes,
      (unsigned long long)state.measured.messages, mb_per_s, messages_per_s);
  printf(
      "\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,"
      "\"mean\":%.1f},",
      p50, p90, p99, p999, max, mean);
  printf("\"cpu\":{\"user_s\":%.3f,\"sys_s\":%.3f,\"percent\":%.1f},", user_s, sys_s, cpu_percent);
  printf("\"errors\":{\"connect\":%llu,\"io\":%llu,\"eof\":%llu,\"stalled\":%d,\"first\":",
         (unsigned long long)errors->connect, (unsigned long long)errors->io,
         (unsigned long long)errors->eof, state.stalled);
  if (error_count)
    json_string(stdout, errors->first);
  else if (state.stalled)
    printf("\"%d connections got no echo during the measured window\"", state.stalled);
  else if (!window.started)
    printf("\"no measured window: every connection failed in the warm-up\"");
  else
    printf("null");
  printf("}");
  if (options.deflate) {
    const struct loadgen_measured* m = &state.measured;
    printf(
        ",\"deflate\":{\"compressed_messages\":%llu,\"uncompressed_messages\":%llu,"
        "\"compressed_bytes_in\":%llu,\"plain_bytes_out\":%llu,\"compressed_bytes_out\":%llu}",
        (unsigned long long)m->compressed_messages, (unsigned long long)m->uncompressed_messages,
        (unsigned long long)m->compressed_bytes_in, (unsigned long long)m->plain_bytes_out,
        (unsigned long long)m->compressed_bytes_out);
  }
  if (workload->report_json) workload->report_json(&state, stdout);
  printf("}\n");
  fflush(stdout);

  fprintf(stderr,
          "loadgen: %s %s:%d, %d/%d connections x %d x %zu B, %.2f s: %.1f MB/s, "
          "%llu round trips; latency p50 %.0f us, p99 %.0f us, max %.0f us; "
          "loadgen CPU %.2f s user + %.2f s sys (%.0f%% of one core)\n",
          options.mode, options.host, options.port, state.connected, options.connections,
          options.depth, options.chunk_size, elapsed_s, mb_per_s,
          (unsigned long long)state.measured.messages, p50, p99, max, user_s, sys_s, cpu_percent);
  if (error_count)
    fprintf(stderr, "loadgen: %llu connection errors (connect %llu, io %llu, eof %llu)\n",
            (unsigned long long)error_count, (unsigned long long)errors->connect,
            (unsigned long long)errors->io, (unsigned long long)errors->eof);
  if (state.stalled)
    fprintf(stderr, "loadgen: %d connections got no echo during the measured window\n",
            state.stalled);
}

static void raise_file_limit(void) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int main(int argc, char** argv) {
  loadgen_parse_options(argc, argv, &options);
  for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++)
    if (strcmp(workloads[i]->name, options.mode) == 0) workload = workloads[i];
  if (!workload) {
    fprintf(stderr, "loadgen: unknown --mode '%s'\n", options.mode);
    return 64;
  }
  signal(SIGPIPE, SIG_IGN);
  raise_file_limit();

  state.options = &options;
  state.base = event_base_new();
  if (!state.base) {
    fprintf(stderr, "loadgen: event_base_new failed\n");
    return 1;
  }
  struct timeval warmup = timeval_of(options.warmup_s);
  struct timeval total = timeval_of(options.warmup_s + options.duration_s);
  struct event* warmup_timer = evtimer_new(state.base, on_warmup_done, NULL);
  struct event* duration_timer = evtimer_new(state.base, on_duration_done, NULL);
  if (!workload->owns_window) {
    if (options.warmup_s > 0) evtimer_add(warmup_timer, &warmup);
    evtimer_add(duration_timer, &total);
  }

  if (workload->start(&state) < 0) return 1;
  if (options.warmup_s == 0 && !workload->owns_window) open_window();
  if (state.live > 0) event_base_dispatch(state.base);
  close_window(); /* when every connection failed before the window ended */
  state.stopping = 1;
  workload->stop(&state);
  report();

  event_free(warmup_timer);
  event_free(duration_timer);
  event_base_free(state.base);
  return run_failed() ? 2 : 0;
}
