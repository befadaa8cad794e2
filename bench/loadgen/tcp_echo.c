/* Raw TCP echo workload: each connection keeps `depth` chunks of `chunk_size`
 * bytes in flight, checks every echoed byte, and times each chunk's round trip
 * (from being queued for writing to its last byte coming back). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loadgen.h"
#include "pattern.h"

struct chunk_in_flight {
  uint64_t end_offset; /* stream offset just past the chunk's last byte */
  uint64_t queued_ns;
};

struct echo_connection {
  struct loadgen_state* state;
  uint32_t id; /* also the pattern stream */
  evutil_socket_t fd;
  struct event* read_event;
  struct event* write_event;
  int connected;
  int write_pending;            /* write_event is added: the socket refused bytes */
  uint64_t queued;              /* bytes of issued chunks */
  uint64_t written;             /* bytes the socket accepted */
  uint64_t verified;            /* bytes echoed back and checked */
  uint64_t last_echo_ns;        /* when bytes last came back (or connect completed) */
  struct chunk_in_flight* ring; /* `depth` slots, oldest at ring_head */
  int ring_head;
  int ring_count;
};

static struct echo_connection* connections;
static int connection_count;
static uint8_t read_buffer[256 * 1024];

static void close_connection(struct echo_connection* conn) {
  if (conn->fd < 0) return;
  event_free(conn->read_event);
  event_free(conn->write_event);
  conn->read_event = conn->write_event = NULL;
  close(conn->fd);
  conn->fd = -1;
  conn->state->live--;
}

static void fail_connection(struct echo_connection* conn, enum loadgen_error_kind kind,
                            const char* what, int error_number) {
  close_connection(conn);
  loadgen_connection_error(conn->state, kind, (int)conn->id, what, error_number);
}

static void queue_chunk(struct echo_connection* conn, uint64_t now_ns) {
  const struct loadgen_options* options = conn->state->options;
  int slot = (conn->ring_head + conn->ring_count) % options->depth;
  conn->queued += options->chunk_size;
  conn->ring[slot].end_offset = conn->queued;
  conn->ring[slot].queued_ns = now_ns;
  conn->ring_count++;
}

/* Writes queued bytes until done or the socket is full. Returns -1 when the
 * connection failed (and is closed). */
static int flush_connection(struct echo_connection* conn) {
  while (conn->written < conn->queued) {
    size_t contiguous;
    const uint8_t* bytes = pattern_at(conn->id, conn->written, &contiguous);
    uint64_t remaining = conn->queued - conn->written;
    size_t length = remaining < contiguous ? (size_t)remaining : contiguous;
    ssize_t n = send(conn->fd, bytes, length, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!conn->write_pending) {
          event_add(conn->write_event, NULL);
          conn->write_pending = 1;
        }
        return 0;
      }
      fail_connection(conn, LOADGEN_ERROR_IO, "send", errno);
      return -1;
    }
    conn->written += (uint64_t)n;
  }
  if (conn->write_pending) {
    event_del(conn->write_event);
    conn->write_pending = 0;
  }
  return 0;
}

static void on_connected(struct echo_connection* conn) {
  int error_number = 0;
  socklen_t length = sizeof error_number;
  if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &error_number, &length) < 0) error_number = errno;
  if (error_number != 0) {
    fail_connection(conn, LOADGEN_ERROR_CONNECT, "connect", error_number);
    return;
  }
  conn->connected = 1;
  conn->state->connected++;
  event_add(conn->read_event, NULL);
  uint64_t now = loadgen_now_ns();
  conn->last_echo_ns = now;
  for (int i = 0; i < conn->state->options->depth; i++) queue_chunk(conn, now);
  flush_connection(conn);
}

static void on_writable(evutil_socket_t fd, short what, void* arg) {
  (void)fd;
  (void)what;
  struct echo_connection* conn = arg;
  if (!conn->connected) {
    on_connected(conn);
    return;
  }
  flush_connection(conn);
}

static void on_readable(evutil_socket_t fd, short what, void* arg) {
  (void)what;
  struct echo_connection* conn = arg;
  struct loadgen_state* state = conn->state;
  ssize_t n = recv(fd, read_buffer, sizeof read_buffer, 0);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      fail_connection(conn, LOADGEN_ERROR_IO, "recv", errno);
    return;
  }
  if (n == 0) {
    fail_connection(conn, LOADGEN_ERROR_EOF, "server closed the connection", 0);
    return;
  }
  if (conn->verified + (uint64_t)n > conn->written)
    loadgen_fail(state, "connection %u: received %llu bytes but only %llu were sent", conn->id,
                 (unsigned long long)(conn->verified + (uint64_t)n),
                 (unsigned long long)conn->written);
  long bad = pattern_check(conn->id, conn->verified, read_buffer, (size_t)n);
  if (bad >= 0) {
    size_t contiguous;
    uint64_t offset = conn->verified + (uint64_t)bad;
    const uint8_t* expected = pattern_at(conn->id, offset, &contiguous);
    loadgen_fail(state, "connection %u: byte %llu of the echo is 0x%02x, expected 0x%02x", conn->id,
                 (unsigned long long)offset, read_buffer[bad], expected[0]);
  }
  conn->verified += (uint64_t)n;
  state->measured.bytes += (uint64_t)n;

  uint64_t now = loadgen_now_ns();
  conn->last_echo_ns = now;
  const int depth = state->options->depth;
  while (conn->ring_count > 0 && conn->ring[conn->ring_head].end_offset <= conn->verified) {
    latency_histogram_record(&state->measured.latency, now - conn->ring[conn->ring_head].queued_ns);
    state->measured.messages++;
    conn->ring_head = (conn->ring_head + 1) % depth;
    conn->ring_count--;
    if (!state->stopping) queue_chunk(conn, now);
  }
  flush_connection(conn);
}

static int open_connection(struct echo_connection* conn, const struct sockaddr_in* address) {
  struct loadgen_state* state = conn->state;
  conn->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (conn->fd < 0) {
    loadgen_connection_error(state, LOADGEN_ERROR_CONNECT, (int)conn->id, "socket", errno);
    return -1;
  }
  /* The generator sends whole chunks; Nagle would only add its own delay. */
  int one = 1;
  setsockopt(conn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  conn->read_event = event_new(state->base, conn->fd, EV_READ | EV_PERSIST, on_readable, conn);
  conn->write_event = event_new(state->base, conn->fd, EV_WRITE | EV_PERSIST, on_writable, conn);
  state->live++;
  if (connect(conn->fd, (const struct sockaddr*)address, sizeof *address) < 0 &&
      errno != EINPROGRESS) {
    fail_connection(conn, LOADGEN_ERROR_CONNECT, "connect", errno);
    return -1;
  }
  event_add(conn->write_event, NULL); /* fires when connect() completes */
  conn->write_pending = 1;
  return 0;
}

static int tcp_echo_start(struct loadgen_state* state) {
  const struct loadgen_options* options = state->options;
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)options->port)};
  if (inet_pton(AF_INET, options->host, &address.sin_addr) != 1) {
    fprintf(stderr, "loadgen: --host must be an IPv4 address, got '%s'\n", options->host);
    return -1;
  }
  pattern_init();
  connection_count = options->connections;
  connections = calloc((size_t)connection_count, sizeof *connections);
  if (!connections) {
    fprintf(stderr, "loadgen: out of memory\n");
    return -1;
  }
  for (int i = 0; i < connection_count; i++) {
    struct echo_connection* conn = &connections[i];
    conn->state = state;
    conn->id = (uint32_t)i;
    conn->fd = -1;
    conn->ring = calloc((size_t)options->depth, sizeof *conn->ring);
    if (!conn->ring) {
      fprintf(stderr, "loadgen: out of memory\n");
      return -1;
    }
    open_connection(conn, &address);
  }
  return 0;
}

static void tcp_echo_stop(struct loadgen_state* state) {
  for (int i = 0; i < connection_count; i++) {
    const struct echo_connection* conn = &connections[i];
    if (conn->fd >= 0 && conn->connected && conn->ring_count > 0 && state->window_start_ns &&
        conn->last_echo_ns < state->window_start_ns)
      state->stalled++;
  }
  for (int i = 0; i < connection_count; i++) {
    close_connection(&connections[i]);
    free(connections[i].ring);
  }
  free(connections);
  connections = NULL;
  connection_count = 0;
}

const struct workload tcp_echo_workload = {
    .name = "tcp-echo",
    .start = tcp_echo_start,
    .stop = tcp_echo_stop,
};
