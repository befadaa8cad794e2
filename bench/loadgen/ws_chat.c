/* WebSocket chat workload (ws-chat): every connection upgrades on --path
 * (/chat); once all of them are open, the first `senders` connections each
 * keep `depth` broadcasts of `chunk_size` bytes in flight. The server must
 * relay every message to every client, sender included, in each sender's
 * order; every delivery is checked byte for byte, with its type. A broadcast
 * is complete when the last client has it; only then does its sender send
 * another, so `senders` x `depth` broadcasts are in flight at most.
 *
 * A message starts with a 16-character ASCII header, 4 hex digits of sender and
 * 12 of sequence number; the rest is the sender's pattern at offset
 * sequence x chunk_size + 16. Even sequence numbers are binary, odd ones text,
 * or all are text with --text-only (for relays that carry text only).
 *
 * With --second-port, odd-numbered connections connect to that port: two
 * server processes sharing one room (say, over a Redis channel layer), each
 * sender's clients split between them; a broadcast still completes only when
 * every client of both has it.
 *
 * With --rate R (open loop), the senders send R messages per second together,
 * each on its own fixed schedule (its sends spaced senders / R seconds apart,
 * the senders' schedules staggered), whatever the server's pace; `depth` is
 * then the most a sender keeps in flight (a send due while it has that many
 * waits for the oldest to complete). Latency runs from a message's scheduled
 * time, so time a send spent waiting, or behind a slow server, is counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"
#include "ws_client.h"

#define CHAT_HEADER 16
#define CHAT_MAX_SENDERS 0xffff

struct broadcast {
  uint64_t sent_ns; /* when its frame was queued */
  int receivers_left;
};

struct chat_sender {
  struct broadcast* ring; /* `depth` slots, oldest at ring_head */
  int ring_head;
  int ring_count;
  uint64_t sent;        /* broadcasts sent; also the next one's sequence number */
  uint64_t completed;   /* broadcasts every client has; also the ring head's number */
  uint64_t next_due_ns; /* --rate: when its next broadcast is scheduled */
};

struct chat_connection {
  struct ws_connection ws; /* first: handlers cast back */
  uint64_t* expected;      /* per sender: the sequence number this client must get next */
  char header[CHAT_HEADER];
  uint64_t message_bytes; /* payload bytes of the arriving message so far */
  int receiving_text;
  uint32_t receiving_sender;
  uint64_t receiving_sequence;
};

static struct chat_connection* connections;
static int connection_count;
static struct chat_sender* senders;
static int sender_count;
static int open_count;
static int text_only;
static uint64_t rate_interval_ns; /* --rate: between one sender's scheduled sends; 0 without */
static struct event* rate_timer;  /* --rate: sends what is due, every RATE_TICK_NS or sooner */
static uint64_t max_lag_ns;       /* --rate: the furthest a send fell behind its schedule */

#define RATE_TICK_NS 1000000u

static enum pattern_kind kind_of(uint64_t sequence) {
  return text_only || sequence % 2 ? PATTERN_TEXT : PATTERN_BINARY;
}

static struct chat_connection* chat_of(struct ws_connection* ws) {
  return (struct chat_connection*)ws;
}

static void send_broadcast(uint32_t sender_id, uint64_t now_ns) {
  struct chat_sender* sender = &senders[sender_id];
  struct ws_connection* ws = &connections[sender_id].ws;
  const struct loadgen_options* options = ws->state->options;
  size_t size = options->chunk_size;
  uint64_t sequence = sender->sent;
  enum pattern_kind kind = kind_of(sequence);
  uint8_t* payload = ws_begin_message(ws, kind == PATTERN_TEXT ? WS_TEXT : WS_BINARY, size);
  char header[CHAT_HEADER + 1];
  snprintf(header, sizeof header, "%04x%012llx", sender_id,
           (unsigned long long)(sequence & 0xffffffffffffull));
  memcpy(payload, header, CHAT_HEADER);
  pattern_copy(kind, sender_id, sequence * size + CHAT_HEADER, payload + CHAT_HEADER,
               size - CHAT_HEADER);
  ws_commit_message(ws);
  struct broadcast* slot = &sender->ring[(sender->ring_head + sender->ring_count) % options->depth];
  slot->sent_ns = now_ns;
  slot->receivers_left = connection_count;
  sender->ring_count++;
  sender->sent++;
}

/* --rate: sends every broadcast of `sender_id` that is due (and fits in its
 * ring), each stamped with its scheduled time. Returns whether it sent any. */
static int send_due(uint32_t sender_id, uint64_t now_ns) {
  struct chat_sender* sender = &senders[sender_id];
  const struct loadgen_state* state = connections[sender_id].ws.state;
  int sent = 0;
  while (!state->stopping && sender->next_due_ns <= now_ns &&
         sender->ring_count < state->options->depth) {
    if (now_ns - sender->next_due_ns > max_lag_ns) max_lag_ns = now_ns - sender->next_due_ns;
    send_broadcast(sender_id, sender->next_due_ns);
    sender->next_due_ns += rate_interval_ns;
    sent = 1;
  }
  return sent;
}

static void on_rate_tick(evutil_socket_t fd, short what, void* arg) {
  (void)fd, (void)what, (void)arg;
  uint64_t now = loadgen_now_ns();
  for (int s = 0; s < sender_count; s++)
    if (send_due((uint32_t)s, now)) ws_flush(&connections[s].ws);
}

static void start_schedule(uint64_t now_ns) {
  for (int s = 0; s < sender_count; s++)
    senders[s].next_due_ns = now_ns + rate_interval_ns * (uint64_t)s / (uint64_t)sender_count;
  uint64_t tick_ns = rate_interval_ns < RATE_TICK_NS ? rate_interval_ns : RATE_TICK_NS;
  struct timeval tick = {.tv_sec = 0, .tv_usec = (suseconds_t)(tick_ns / 1000)};
  event_add(rate_timer, &tick);
  on_rate_tick(-1, 0, NULL);
}

static void on_open(struct ws_connection* ws) {
  /* A client that joins late would miss broadcasts: nobody sends before all
   * have their 101 (the server registered them before answering). */
  if (++open_count < connection_count) return;
  uint64_t now = loadgen_now_ns();
  if (rate_interval_ns) {
    start_schedule(now);
    return;
  }
  for (int s = 0; s < sender_count; s++) {
    for (int i = 0; i < ws->state->options->depth; i++) send_broadcast((uint32_t)s, now);
    ws_flush(&connections[s].ws);
  }
}

static void on_message_start(struct ws_connection* ws, int is_text) {
  struct chat_connection* conn = chat_of(ws);
  conn->message_bytes = 0;
  conn->receiving_text = is_text;
}

static uint64_t parse_hex(const struct chat_connection* conn, const char* text, int length) {
  uint64_t value = 0;
  for (int i = 0; i < length; i++) {
    char c = text[i];
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0)
      loadgen_fail(conn->ws.state, "client %u: message header '%.*s' is not what was sent",
                   conn->ws.id, CHAT_HEADER, conn->header);
    value = value << 4 | (uint64_t)digit;
  }
  return value;
}

/* The header is complete: who sent the message, and is it the next one? */
static void check_header(struct chat_connection* conn) {
  struct loadgen_state* state = conn->ws.state;
  uint32_t sender = (uint32_t)parse_hex(conn, conn->header, 4);
  uint64_t sequence = parse_hex(conn, conn->header + 4, CHAT_HEADER - 4);
  if (sender >= (uint32_t)sender_count)
    loadgen_fail(state, "client %u: message from sender %u, but only %d send", conn->ws.id, sender,
                 sender_count);
  uint64_t expected = conn->expected[sender];
  if (sequence != expected)
    loadgen_fail(state, "client %u: got message %llu of sender %u where %llu was due (%s)",
                 conn->ws.id, (unsigned long long)sequence, sender, (unsigned long long)expected,
                 sequence > expected ? "messages lost" : "message repeated or reordered");
  int expected_text = kind_of(sequence) == PATTERN_TEXT;
  if (conn->receiving_text != expected_text)
    loadgen_fail(state, "client %u: message %llu of sender %u relayed as %s, sent as %s",
                 conn->ws.id, (unsigned long long)sequence, sender,
                 conn->receiving_text ? "text" : "binary", expected_text ? "text" : "binary");
  conn->receiving_sender = sender;
  conn->receiving_sequence = sequence;
}

static void on_payload(struct ws_connection* ws, const uint8_t* data, size_t length) {
  struct chat_connection* conn = chat_of(ws);
  size_t size = ws->state->options->chunk_size;
  if (conn->message_bytes + length > size)
    loadgen_fail(ws->state, "client %u: message relayed with more than its %zu bytes", ws->id,
                 size);
  if (conn->message_bytes < CHAT_HEADER) {
    size_t take = CHAT_HEADER - conn->message_bytes;
    if (take > length) take = length;
    memcpy(conn->header + conn->message_bytes, data, take);
    conn->message_bytes += take;
    data += take;
    length -= take;
    if (conn->message_bytes == CHAT_HEADER) check_header(conn);
    if (length == 0) return;
  }
  uint32_t sender = conn->receiving_sender;
  uint64_t offset = conn->receiving_sequence * size + conn->message_bytes;
  enum pattern_kind kind = kind_of(conn->receiving_sequence);
  long bad = pattern_kind_check(kind, sender, offset, data, length);
  if (bad >= 0) {
    size_t contiguous;
    const uint8_t* expected = pattern_kind_at(kind, sender, offset + (uint64_t)bad, &contiguous);
    loadgen_fail(ws->state,
                 "client %u: byte %llu of message %llu of sender %u is 0x%02x, expected 0x%02x",
                 ws->id, (unsigned long long)(conn->message_bytes + (uint64_t)bad),
                 (unsigned long long)conn->receiving_sequence, sender, data[bad], expected[0]);
  }
  conn->message_bytes += length;
}

static void on_message_end(struct ws_connection* ws) {
  struct chat_connection* conn = chat_of(ws);
  struct loadgen_state* state = ws->state;
  size_t size = state->options->chunk_size;
  if (conn->message_bytes != size)
    loadgen_fail(state, "client %u: message relayed with %llu bytes, all are %zu long", ws->id,
                 (unsigned long long)conn->message_bytes, size);
  uint32_t sender_id = conn->receiving_sender;
  struct chat_sender* sender = &senders[sender_id];
  uint64_t index = conn->receiving_sequence - sender->completed;
  if (conn->receiving_sequence < sender->completed || index >= (uint64_t)sender->ring_count)
    loadgen_fail(state, "client %u: message %llu of sender %u is not in flight", ws->id,
                 (unsigned long long)conn->receiving_sequence, sender_id);
  conn->expected[sender_id]++;

  const int depth = state->options->depth;
  uint64_t now = ws->last_receive_ns;
  struct broadcast* broadcast = &sender->ring[(sender->ring_head + (int)index) % depth];
  latency_histogram_record(&state->measured.delivery_latency, now - broadcast->sent_ns);
  state->measured.messages++;
  state->measured.bytes += size;
  broadcast->receivers_left--;
  /* Each client gets a sender's messages in order, so they complete in order. */
  int sent_more = 0;
  while (sender->ring_count > 0 && sender->ring[sender->ring_head].receivers_left == 0) {
    latency_histogram_record(&state->measured.latency,
                             now - sender->ring[sender->ring_head].sent_ns);
    state->measured.broadcasts++;
    sender->ring_head = (sender->ring_head + 1) % depth;
    sender->ring_count--;
    sender->completed++;
    if (!state->stopping && !rate_interval_ns) {
      send_broadcast(sender_id, now);
      sent_more = 1;
    }
  }
  if (rate_interval_ns) sent_more = send_due(sender_id, now); /* one held back by a full ring */
  /* This connection's own output is flushed after its read; another's is not. */
  if (sent_more && sender_id != ws->id) ws_flush(&connections[sender_id].ws);
}

static const struct ws_handlers chat_handlers = {
    .open = on_open,
    .message_start = on_message_start,
    .payload = on_payload,
    .message_end = on_message_end,
};

static int ws_chat_start(struct loadgen_state* state) {
  const struct loadgen_options* options = state->options;
  if (options->chunk_size < CHAT_HEADER) {
    fprintf(stderr, "loadgen: ws-chat needs --chunk-size of at least %d\n", CHAT_HEADER);
    return -1;
  }
  sender_count = options->senders;
  if (sender_count > options->connections || sender_count > CHAT_MAX_SENDERS) {
    fprintf(stderr, "loadgen: --senders %d: at most --connections (%d) and %d\n", sender_count,
            options->connections, CHAT_MAX_SENDERS);
    return -1;
  }
  struct sockaddr_in address;
  if (ws_client_init(options, &address) < 0) return -1;
  struct sockaddr_in second_address = address;
  if (options->second_port) second_address.sin_port = htons((uint16_t)options->second_port);
  text_only = options->text_only;
  rate_interval_ns = options->rate > 0 ? (uint64_t)(1e9 * sender_count / options->rate) : 0;
  if (options->rate > 0 && rate_interval_ns < 1000) {
    fprintf(stderr, "loadgen: --rate %.0f: at most %d x 10^6 per second with %d senders\n",
            options->rate, sender_count, sender_count);
    return -1;
  }
  max_lag_ns = 0;
  rate_timer = event_new(state->base, -1, EV_PERSIST, on_rate_tick, NULL);
  pattern_init();
  connection_count = options->connections;
  open_count = 0;
  connections = calloc((size_t)connection_count, sizeof *connections);
  senders = calloc((size_t)sender_count, sizeof *senders);
  if (!connections || !senders) {
    fprintf(stderr, "loadgen: out of memory\n");
    return -1;
  }
  for (int s = 0; s < sender_count; s++) {
    senders[s].ring = calloc((size_t)options->depth, sizeof *senders[s].ring);
    if (!senders[s].ring) {
      fprintf(stderr, "loadgen: out of memory\n");
      return -1;
    }
  }
  const char* path = options->path ? options->path : "/chat";
  for (int i = 0; i < connection_count; i++) {
    struct chat_connection* conn = &connections[i];
    conn->ws.fd = -1;
    conn->expected = calloc((size_t)sender_count, sizeof *conn->expected);
    if (!conn->expected) {
      fprintf(stderr, "loadgen: out of memory\n");
      return -1;
    }
    ws_connection_open(&conn->ws, state, (uint32_t)i, i % 2 ? &second_address : &address, path,
                       &chat_handlers);
  }
  return 0;
}

/* After a stall: which broadcast each sender waits on, and for which clients
 * (a client the server never relayed it to, or one it was written to but that
 * never arrived), so the report names the culprit. */
static void report_waiting(void) {
  uint64_t now = loadgen_now_ns();
  for (int s = 0; s < sender_count; s++) {
    const struct chat_sender* sender = &senders[s];
    if (sender->ring_count == 0) continue;
    const struct broadcast* oldest = &sender->ring[sender->ring_head];
    fprintf(stderr,
            "loadgen: sender %d: %llu sent, broadcast %llu (queued %.0f ms ago) still missing at "
            "%d clients:",
            s, (unsigned long long)sender->sent, (unsigned long long)sender->completed,
            (double)(now - oldest->sent_ns) / 1e6, oldest->receivers_left);
    int listed = 0;
    for (int i = 0; i < connection_count && listed < 10; i++) {
      if (connections[i].expected[s] > sender->completed) continue;
      fprintf(stderr, " %d%s", i, connections[i].ws.fd < 0 ? " (closed)" : "");
      listed++;
    }
    fprintf(stderr, "%s\n", oldest->receivers_left > listed ? " ..." : "");
  }
}

static void ws_chat_stop(struct loadgen_state* state) {
  int in_flight = 0;
  for (int s = 0; s < sender_count; s++) in_flight += senders[s].ring_count;
  int handshakes_pending = 0;
  for (int i = 0; i < connection_count; i++) {
    const struct chat_connection* conn = &connections[i];
    if (conn->ws.fd < 0 || !state->window_start_ns) continue;
    if (!conn->ws.open) {
      handshakes_pending++;
      state->stalled++;
    } else if (in_flight > 0 && conn->ws.last_receive_ns < state->window_start_ns) {
      state->stalled++;
    }
  }
  if (handshakes_pending)
    fprintf(stderr, "loadgen: %d connections never got an answer to the upgrade request\n",
            handshakes_pending);
  if (state->stalled) report_waiting();
  for (int i = 0; i < connection_count; i++) {
    ws_connection_close(&connections[i].ws);
    free(connections[i].expected);
  }
  for (int s = 0; s < sender_count; s++) free(senders[s].ring);
  if (rate_timer) event_free(rate_timer);
  rate_timer = NULL;
  free(connections);
  free(senders);
  connections = NULL;
  senders = NULL;
  connection_count = sender_count = 0;
}

static void ws_chat_report_json(const struct loadgen_state* state, FILE* out) {
  const struct latency_histogram* delivery = &state->measured.delivery_latency;
  fprintf(
      out,
      ",\"senders\":%d,\"second_port\":%d,\"text_only\":%s,\"broadcasts\":%llu,"
      "\"delivery_latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,"
      "\"max\":%.1f,\"mean\":%.1f},\"rate\":%.1f,\"max_send_lag_us\":%.1f",
      state->options->senders, state->options->second_port,
      state->options->text_only ? "true" : "false", (unsigned long long)state->measured.broadcasts,
      (double)latency_histogram_percentile(delivery, 50) / 1e3,
      (double)latency_histogram_percentile(delivery, 90) / 1e3,
      (double)latency_histogram_percentile(delivery, 99) / 1e3,
      (double)latency_histogram_percentile(delivery, 99.9) / 1e3, (double)delivery->max_ns / 1e3,
      latency_histogram_mean(delivery) / 1e3, state->options->rate, (double)max_lag_ns / 1e3);
}

const struct workload ws_chat_workload = {
    .name = "ws-chat",
    .start = ws_chat_start,
    .stop = ws_chat_stop,
    .report_json = ws_chat_report_json,
};
