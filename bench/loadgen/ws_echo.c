/* WebSocket echo workload (ws-echo): each connection upgrades on --path
 * (/echo); once all of them are open, each keeps `depth` messages of
 * `chunk_size` payload bytes in flight, alternately binary (even sequence
 * numbers) and text (odd ones), or with --payload json all JSON-like text.
 * With --deflate every message goes compressed and the echoes are inflated
 * before they are checked. Every echoed message must come back whole, in
 * order, with its type; every payload byte is checked. Latency runs from a
 * message's frame being queued to its last byte echoed; `bytes` counts echoed
 * payload bytes (frame headers left out). */
#include <stdio.h>
#include <stdlib.h>

#include "pattern.h"
#include "ws_client.h"

struct echo_connection {
  struct ws_connection ws; /* first: handlers cast back */
  uint64_t sent;           /* messages sent; also the next one's sequence number */
  uint64_t received;       /* messages echoed whole; also the arriving one's number */
  uint64_t message_bytes;  /* payload bytes of the arriving message so far */
  uint64_t* queued_ns;     /* ring of `depth`: when each message in flight was queued */
  int ring_head;
  int ring_count;
};

static struct echo_connection* connections;
static int connection_count;
static int open_count;
static int json_payload;
static uint8_t* plain_message; /* --deflate: a message is built here, then compressed */

static enum pattern_kind kind_of(uint64_t sequence) {
  if (json_payload) return PATTERN_JSON;
  return sequence % 2 ? PATTERN_TEXT : PATTERN_BINARY;
}

static struct echo_connection* echo_of(struct ws_connection* ws) {
  return (struct echo_connection*)ws;
}

static void send_message(struct echo_connection* conn, uint64_t now_ns) {
  const struct loadgen_options* options = conn->ws.state->options;
  size_t size = options->chunk_size;
  enum pattern_kind kind = kind_of(conn->sent);
  enum ws_opcode opcode = kind == PATTERN_BINARY ? WS_BINARY : WS_TEXT;
  if (conn->ws.deflate) {
    pattern_copy(kind, conn->ws.id, conn->sent * size, plain_message, size);
    ws_send_message(&conn->ws, opcode, plain_message, size);
  } else {
    uint8_t* payload = ws_begin_message(&conn->ws, opcode, size);
    pattern_copy(kind, conn->ws.id, conn->sent * size, payload, size);
    ws_commit_message(&conn->ws);
  }
  conn->queued_ns[(conn->ring_head + conn->ring_count) % options->depth] = now_ns;
  conn->ring_count++;
  conn->sent++;
}

static void on_open(struct ws_connection* ws) {
  /* Nobody sends before all are open: connections that start early would
   * flood the server while the others still wait for their 101. */
  if (++open_count < connection_count) return;
  uint64_t now = loadgen_now_ns();
  for (int c = 0; c < connection_count; c++) {
    if (connections[c].ws.fd < 0) continue;
    for (int i = 0; i < ws->state->options->depth; i++) send_message(&connections[c], now);
    ws_flush(&connections[c].ws);
  }
}

static void on_message_start(struct ws_connection* ws, int is_text) {
  struct echo_connection* conn = echo_of(ws);
  if (conn->ring_count == 0)
    loadgen_fail(ws->state, "connection %u: message %llu arrived but only %llu were sent", ws->id,
                 (unsigned long long)conn->received + 1, (unsigned long long)conn->sent);
  int expected_text = kind_of(conn->received) != PATTERN_BINARY;
  if (is_text != expected_text)
    loadgen_fail(ws->state, "connection %u: message %llu echoed as %s, sent as %s", ws->id,
                 (unsigned long long)conn->received, is_text ? "text" : "binary",
                 expected_text ? "text" : "binary");
  conn->message_bytes = 0;
}

static void on_payload(struct ws_connection* ws, const uint8_t* data, size_t length) {
  struct echo_connection* conn = echo_of(ws);
  size_t size = ws->state->options->chunk_size;
  if (conn->message_bytes + length > size)
    loadgen_fail(ws->state, "connection %u: message %llu echoed with more than its %zu bytes",
                 ws->id, (unsigned long long)conn->received, size);
  uint64_t offset = conn->received * size + conn->message_bytes;
  enum pattern_kind kind = kind_of(conn->received);
  long bad = pattern_kind_check(kind, ws->id, offset, data, length);
  if (bad >= 0) {
    size_t contiguous;
    const uint8_t* expected = pattern_kind_at(kind, ws->id, offset + (uint64_t)bad, &contiguous);
    loadgen_fail(ws->state,
                 "connection %u: byte %llu of echoed message %llu is 0x%02x, expected 0x%02x",
                 ws->id, (unsigned long long)(conn->message_bytes + (uint64_t)bad),
                 (unsigned long long)conn->received, data[bad], expected[0]);
  }
  conn->message_bytes += length;
  ws->state->measured.bytes += length;
}

static void on_message_end(struct ws_connection* ws) {
  struct echo_connection* conn = echo_of(ws);
  struct loadgen_state* state = ws->state;
  size_t size = state->options->chunk_size;
  if (conn->message_bytes != size)
    loadgen_fail(state, "connection %u: message %llu echoed with %llu of its %zu bytes", ws->id,
                 (unsigned long long)conn->received, (unsigned long long)conn->message_bytes, size);
  uint64_t now = ws->last_receive_ns;
  latency_histogram_record(&state->measured.latency, now - conn->queued_ns[conn->ring_head]);
  state->measured.messages++;
  conn->ring_head = (conn->ring_head + 1) % state->options->depth;
  conn->ring_count--;
  conn->received++;
  if (!state->stopping) send_message(conn, now); /* sent by the flush after this read */
}

static const struct ws_handlers echo_handlers = {
    .open = on_open,
    .message_start = on_message_start,
    .payload = on_payload,
    .message_end = on_message_end,
};

static int ws_echo_start(struct loadgen_state* state) {
  const struct loadgen_options* options = state->options;
  struct sockaddr_in address;
  if (ws_client_init(options, &address) < 0) return -1;
  pattern_init();
  connection_count = options->connections;
  open_count = 0;
  json_payload = options->json_payload;
  connections = calloc((size_t)connection_count, sizeof *connections);
  plain_message = options->deflate ? malloc(options->chunk_size) : NULL;
  if (!connections || (options->deflate && !plain_message)) {
    fprintf(stderr, "loadgen: out of memory\n");
    return -1;
  }
  const char* path = options->path ? options->path : "/echo";
  for (int i = 0; i < connection_count; i++) {
    struct echo_connection* conn = &connections[i];
    conn->ws.fd = -1;
    conn->queued_ns = calloc((size_t)options->depth, sizeof *conn->queued_ns);
    if (!conn->queued_ns) {
      fprintf(stderr, "loadgen: out of memory\n");
      return -1;
    }
    ws_connection_open(&conn->ws, state, (uint32_t)i, &address, path, &echo_handlers);
  }
  return 0;
}

static void ws_echo_stop(struct loadgen_state* state) {
  int handshakes_pending = 0;
  for (int i = 0; i < connection_count; i++) {
    const struct echo_connection* conn = &connections[i];
    if (conn->ws.fd < 0 || !state->window_start_ns) continue;
    if (!conn->ws.open) {
      handshakes_pending++;
      state->stalled++;
    } else if (conn->ring_count > 0 && conn->ws.last_receive_ns < state->window_start_ns) {
      state->stalled++;
    }
  }
  if (handshakes_pending)
    fprintf(stderr, "loadgen: %d connections never got an answer to the upgrade request\n",
            handshakes_pending);
  for (int i = 0; i < connection_count; i++) {
    ws_connection_close(&connections[i].ws);
    free(connections[i].queued_ns);
  }
  free(connections);
  free(plain_message);
  connections = NULL;
  plain_message = NULL;
  connection_count = 0;
}

const struct workload ws_echo_workload = {
    .name = "ws-echo",
    .start = ws_echo_start,
    .stop = ws_echo_stop,
};
