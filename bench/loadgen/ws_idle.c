/* Idle-connections workload (ws-idle): opens `connections` WebSocket
 * connections on --path (/echo), `depth` handshakes under way at once (the
 * next connection starts as one completes), and reports handshakes/s over that
 * opening phase. Once every connection is open (or failed), the measured
 * window opens and the connections are held idle for `duration` seconds: the
 * bench driver reads the server's memory meanwhile. Then all are closed. A
 * connection the server closes, or any message it sends, fails the run: an
 * idle connection must stay open and quiet. With --idle-echo each connection
 * first sends one text message of --chunk-size bytes (JSON-like with --payload
 * json; compressed with --deflate) and counts as open once its echo came back
 * whole, so the server holds whatever one exchange leaves it holding; this
 * client then drops its own zlib streams (it sends and expects nothing more). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "pattern.h"
#include "ws_client.h"
#include "ws_deflate.h"
#include "ws_handshake.h"

struct idle_connection {
  struct ws_connection ws; /* first: handlers cast back */
  uint64_t started_ns;     /* when connect() was called */
  int awaiting_echo;       /* --idle-echo: its first message was sent, the echo is due */
  uint64_t echo_bytes;     /* bytes of that echo received so far */
};

static struct idle_connection* connections;
static int connection_count;
static int next_to_open; /* connections [0, next_to_open) were started */
static int opening;      /* started, neither open nor failed yet */
static int opened;       /* handshakes completed */
static int refilling;    /* open_more is running: a failure inside it must not recurse */
static struct sockaddr_in server_address;
static const char* request_path;
static struct event* hold_timer;
static uint8_t* first_message; /* --idle-echo: what every connection sends once */
static int compressed_echoes;  /* ... and how many of its echoes came back compressed */

/* The opening phase: from the first connect() to the last 101 (or failure). */
static uint64_t first_connect_ns, all_open_ns;
static struct rusage opening_start_usage, opening_end_usage;
static struct latency_histogram handshake_latency;

static double seconds_of(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

static void on_hold_done(evutil_socket_t fd, short what, void* arg) {
  (void)fd, (void)what, (void)arg;
  loadgen_finish();
}

/* Every connection has been started and is open or failed: the opening
 * phase ends, the idle window begins. */
static void finish_opening(struct loadgen_state* state) {
  all_open_ns = loadgen_now_ns();
  getrusage(RUSAGE_SELF, &opening_end_usage);
  fprintf(stderr, "loadgen: %d of %d connections open in %.2f s\n", opened, connection_count,
          (double)(all_open_ns - first_connect_ns) / 1e9);
  if (state->live == 0) return; /* every one failed: loadgen_connection_error ended the loop */
  loadgen_open_window();
  double hold_s = state->options->duration_s;
  struct timeval hold = {.tv_sec = (time_t)hold_s};
  hold.tv_usec = (suseconds_t)((hold_s - (double)hold.tv_sec) * 1e6);
  evtimer_add(hold_timer, &hold);
}

static const struct ws_handlers idle_handlers;

static void open_more(struct loadgen_state* state) {
  if (refilling) return;
  refilling = 1;
  while (opening < state->options->depth && next_to_open < connection_count) {
    struct idle_connection* conn = &connections[next_to_open];
    conn->started_ns = loadgen_now_ns();
    opening++;
    ws_connection_open(&conn->ws, state, (uint32_t)next_to_open++, &server_address, request_path,
                       &idle_handlers);
  }
  refilling = 0;
  if (opening == 0 && next_to_open == connection_count && !all_open_ns) finish_opening(state);
}

static enum pattern_kind first_message_kind(const struct loadgen_options* options) {
  return options->json_payload ? PATTERN_JSON : PATTERN_TEXT;
}

static void opened_one(struct loadgen_state* state) {
  opened++;
  opening--;
  open_more(state);
}

static void on_open(struct ws_connection* ws) {
  struct idle_connection* conn = (struct idle_connection*)ws;
  latency_histogram_record(&handshake_latency, ws->last_receive_ns - conn->started_ns);
  if (!ws->state->options->idle_echo) {
    opened_one(ws->state);
    return;
  }
  conn->awaiting_echo = 1;
  ws_send_message(ws, WS_TEXT, first_message, ws->state->options->chunk_size);
}

static void on_failed(struct ws_connection* ws) {
  /* After the opening phase: counted, and the run fails. */
  if (ws->open && !((struct idle_connection*)ws)->awaiting_echo) return;
  opening--;
  open_more(ws->state);
}

static void on_message_start(struct ws_connection* ws, int is_text) {
  if (!((struct idle_connection*)ws)->awaiting_echo)
    loadgen_fail(ws->state, "connection %u: the server sent a %s message to an idle connection",
                 ws->id, is_text ? "text" : "binary");
  if (!is_text)
    loadgen_fail(ws->state, "connection %u: the first message was echoed as binary", ws->id);
  if (ws->message_compressed) compressed_echoes++;
}

static void on_payload(struct ws_connection* ws, const uint8_t* data, size_t length) {
  struct idle_connection* conn = (struct idle_connection*)ws;
  size_t size = ws->state->options->chunk_size;
  if (conn->echo_bytes + length > size)
    loadgen_fail(ws->state, "connection %u: the first message echoed with more than its %zu bytes",
                 ws->id, size);
  enum pattern_kind kind = first_message_kind(ws->state->options);
  long bad = pattern_kind_check(kind, 0, conn->echo_bytes, data, length);
  if (bad >= 0)
    loadgen_fail(ws->state, "connection %u: byte %llu of the echoed first message is wrong", ws->id,
                 (unsigned long long)(conn->echo_bytes + (uint64_t)bad));
  conn->echo_bytes += length;
}

static void on_message_end(struct ws_connection* ws) {
  struct idle_connection* conn = (struct idle_connection*)ws;
  size_t size = ws->state->options->chunk_size;
  if (conn->echo_bytes != size)
    loadgen_fail(ws->state, "connection %u: the first message echoed with %llu of its %zu bytes",
                 ws->id, (unsigned long long)conn->echo_bytes, size);
  conn->awaiting_echo = 0;
  ws_deflate_free(ws->deflate);
  ws->deflate = NULL;
  opened_one(ws->state);
}

static const struct ws_handlers idle_handlers = {
    .open = on_open,
    .message_start = on_message_start,
    .payload = on_payload,
    .message_end = on_message_end,
    .failed = on_failed,
};

static int ws_idle_start(struct loadgen_state* state) {
  const struct loadgen_options* options = state->options;
  if (ws_client_init(options, &server_address) < 0) return -1;
  connection_count = options->connections;
  next_to_open = opening = opened = compressed_echoes = 0;
  all_open_ns = 0;
  latency_histogram_reset(&handshake_latency);
  request_path = options->path ? options->path : "/echo";
  connections = calloc((size_t)connection_count, sizeof *connections);
  hold_timer = evtimer_new(state->base, on_hold_done, NULL);
  if (options->idle_echo) {
    pattern_init();
    first_message = malloc(options->chunk_size);
    if (first_message)
      pattern_copy(first_message_kind(options), 0, 0, first_message, options->chunk_size);
  }
  if (!connections || !hold_timer || (options->idle_echo && !first_message)) {
    fprintf(stderr, "loadgen: out of memory\n");
    return -1;
  }
  for (int i = 0; i < connection_count; i++) {
    connections[i].ws.fd = -1;
    /* The keys and the accept values they ask for (a SHA-1 each) are
     * computed here, outside the handshakes' timing. */
    ws_handshake_prepare(&connections[i].ws, (uint32_t)i);
  }
  first_connect_ns = loadgen_now_ns();
  getrusage(RUSAGE_SELF, &opening_start_usage);
  open_more(state);
  return 0;
}

static void ws_idle_stop(struct loadgen_state* state) {
  int pending = 0;
  for (int i = 0; i < connection_count; i++)
    if (connections[i].ws.fd >= 0 && (!connections[i].ws.open || connections[i].awaiting_echo))
      pending++;
  if (pending)
    fprintf(stderr, "loadgen: %d connections never got an answer to the upgrade request%s\n",
            pending, state->options->idle_echo ? " or their first message's echo" : "");
  state->stalled += pending;
  if (!state->window_start_ns && next_to_open < connection_count)
    state->stalled += connection_count - next_to_open; /* never even started */
  for (int i = 0; i < connection_count; i++) ws_connection_close(&connections[i].ws);
  free(connections);
  free(first_message);
  event_free(hold_timer);
  first_message = NULL;
  connections = NULL;
  hold_timer = NULL;
}

static void ws_idle_report_json(const struct loadgen_state* state, FILE* out) {
  (void)state;
  double opening_s = all_open_ns ? (double)(all_open_ns - first_connect_ns) / 1e9 : 0.0;
  double cpu_s = 0;
  if (all_open_ns)
    cpu_s = seconds_of(opening_end_usage.ru_utime) - seconds_of(opening_start_usage.ru_utime) +
            seconds_of(opening_end_usage.ru_stime) - seconds_of(opening_start_usage.ru_stime);
  fprintf(out,
          ",\"handshakes\":%d,\"opening_s\":%.3f,\"handshakes_per_s\":%.1f,"
          "\"opening_cpu_percent\":%.1f,\"compressed_echoes\":%d,"
          "\"handshake_latency_us\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f}",
          opened, opening_s, opening_s > 0 ? opened / opening_s : 0.0,
          opening_s > 0 ? cpu_s / opening_s * 100.0 : 0.0, compressed_echoes,
          (double)latency_histogram_percentile(&handshake_latency, 50) / 1e3,
          (double)latency_histogram_percentile(&handshake_latency, 99) / 1e3,
          (double)handshake_latency.max_ns / 1e3);
}

const struct workload ws_idle_workload = {
    .name = "ws-idle",
    .start = ws_idle_start,
    .stop = ws_idle_stop,
    .report_json = ws_idle_report_json,
    .owns_window = 1,
};
