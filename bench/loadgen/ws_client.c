/* WebSocket client connections for the ws-* workloads (see ws_client.h): the
 * socket and its events, the upgrade handshake, frame building and masking,
 * and the frame parser. RFC 6455 sections are cited where a rule is checked. */
#include "ws_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ws_deflate.h"
#include "ws_handshake.h"

static uint8_t read_buffer[256 * 1024];

static size_t min_size(size_t a, uint64_t b) { return b < a ? (size_t)b : a; }

int ws_client_init(const struct loadgen_options* options, struct sockaddr_in* address) {
  /* Every frame is a fresh evbuffer chain, freed once written: with glibc's
   * defaults, 64 KiB messages made it trim and regrow the heap (a brk call per
   * message or two) and larger ones mmap and munmap each chain. */
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  memset(address, 0, sizeof *address);
  address->sin_family = AF_INET;
  address->sin_port = htons((uint16_t)options->port);
  if (inet_pton(AF_INET, options->host, &address->sin_addr) != 1) {
    fprintf(stderr, "loadgen: --host must be an IPv4 address, got '%s'\n", options->host);
    return -1;
  }
  return 0;
}

void ws_connection_close(struct ws_connection* conn) {
  if (conn->fd < 0) return;
  if (conn->read_event) event_free(conn->read_event);
  if (conn->write_event) event_free(conn->write_event);
  if (conn->output) evbuffer_free(conn->output);
  conn->read_event = conn->write_event = NULL;
  conn->output = NULL;
  if (conn->state->stopping) {
    /* The run is over: reset rather than close. A clean close leaves the
     * connection in TIME_WAIT on this side for a minute, holding its
     * ephemeral port, and the next run's connect() calls then spend their
     * time looking for a free one (perf: 40% of this generator's CPU in
     * ws-idle with 120,000 of them around); three servers × 10,000 idle
     * connections in a row made the later servers pay for the earlier. */
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    setsockopt(conn->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  }
  close(conn->fd);
  conn->fd = -1;
  ws_deflate_free(conn->deflate);
  conn->deflate = NULL;
  conn->state->live--;
}

static void fail_connection(struct ws_connection* conn, enum loadgen_error_kind kind,
                            const char* what, int error_number) {
  ws_connection_close(conn);
  loadgen_connection_error(conn->state, kind, (int)conn->id, what, error_number);
  if (conn->handlers->failed) conn->handlers->failed(conn);
}

/* The output buffer, made at the first byte that has to wait in it: an idle
 * connection whose request went out whole never needs one. */
static struct evbuffer* output_of(struct ws_connection* conn) {
  if (!conn->output && !(conn->output = evbuffer_new()))
    loadgen_fail(conn->state, "connection %u: out of memory for its output buffer", conn->id);
  return conn->output;
}

int ws_flush(struct ws_connection* conn) {
  while (conn->fd >= 0 && conn->output && evbuffer_get_length(conn->output) > 0) {
    int n = evbuffer_write(conn->output, conn->fd);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!conn->write_pending) {
          event_add(conn->write_event, NULL);
          conn->write_pending = 1;
        }
        return 0;
      }
      fail_connection(conn, LOADGEN_ERROR_IO, "send", errno);
      return -1;
    }
  }
  if (conn->fd < 0) return -1;
  if (conn->write_pending) {
    event_del(conn->write_event);
    conn->write_pending = 0;
  }
  return 0;
}

static uint32_t next_mask_key(struct ws_connection* conn) {
  uint64_t x = conn->mask_random; /* xorshift64: cheap, and the server cannot predict it either */
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  conn->mask_random = x;
  return (uint32_t)(x >> 32);
}

/* `first_byte`: FIN, the RSV bits and the opcode. */
static uint8_t* begin_frame(struct ws_connection* conn, uint8_t first_byte, size_t length) {
  uint8_t header[WS_MAX_HEADER];
  size_t header_length = 2;
  header[0] = first_byte;
  if (length < 126) {
    header[1] = (uint8_t)(0x80 | length); /* 0x80: masked, as every client frame must be (5.3) */
  } else if (length <= 0xffff) {
    header[1] = 0x80 | 126;
    header[2] = (uint8_t)(length >> 8);
    header[3] = (uint8_t)length;
    header_length = 4;
  } else {
    header[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++) header[2 + i] = (uint8_t)((uint64_t)length >> (56 - 8 * i));
    header_length = 10;
  }
  uint32_t key = next_mask_key(conn);
  memcpy(conn->reserved_mask, &key, 4);
  memcpy(header + header_length, conn->reserved_mask, 4);
  header_length += 4;

  if (!conn->nodelay) {
    /* The generator writes whole frames; Nagle would only add its own delay.
     * Set at the first frame: the request before it is one write anyway. */
    int one = 1;
    setsockopt(conn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn->nodelay = 1;
  }
  if (evbuffer_reserve_space(output_of(conn), (ev_ssize_t)(header_length + length), &conn->reserved,
                             1) != 1)
    loadgen_fail(conn->state, "connection %u: out of memory for a %zu-byte frame", conn->id,
                 length);
  conn->reserved.iov_len = header_length + length;
  memcpy(conn->reserved.iov_base, header, header_length);
  conn->reserved_payload = (uint8_t*)conn->reserved.iov_base + header_length;
  conn->reserved_length = length;
  return conn->reserved_payload;
}

uint8_t* ws_begin_message(struct ws_connection* conn, enum ws_opcode opcode, size_t length) {
  return begin_frame(conn, (uint8_t)(0x80 | opcode), length); /* FIN: never fragmented */
}

void ws_commit_message(struct ws_connection* conn) {
  uint8_t* data = conn->reserved_payload;
  size_t length = conn->reserved_length;
  uint8_t key8[8];
  memcpy(key8, conn->reserved_mask, 4);
  memcpy(key8 + 4, conn->reserved_mask, 4);
  uint64_t key;
  memcpy(&key, key8, 8);
  size_t i = 0;
  for (; i + 8 <= length; i += 8) {
    uint64_t word;
    memcpy(&word, data + i, 8);
    word ^= key;
    memcpy(data + i, &word, 8);
  }
  for (; i < length; i++) data[i] ^= conn->reserved_mask[i & 3];
  evbuffer_commit_space(conn->output, &conn->reserved, 1);
  conn->reserved_payload = NULL;
}

void ws_send_message(struct ws_connection* conn, enum ws_opcode opcode, const uint8_t* data,
                     size_t length) {
  if (!conn->deflate) {
    memcpy(ws_begin_message(conn, opcode, length), data, length);
    ws_commit_message(conn);
    return;
  }
  char why[200];
  size_t compressed_length;
  const uint8_t* compressed =
      ws_deflate_compress(conn->deflate, data, length, &compressed_length, why, sizeof why);
  if (!compressed) loadgen_fail(conn->state, "connection %u: %s", conn->id, why);
  /* 0x40: RSV1, set on a compressed message's first frame (RFC 7692 6). */
  uint8_t* payload = begin_frame(conn, (uint8_t)(0x80 | 0x40 | opcode), compressed_length);
  memcpy(payload, compressed, compressed_length);
  ws_commit_message(conn);
  conn->state->measured.plain_bytes_out += length;
  conn->state->measured.compressed_bytes_out += compressed_length;
}

/* The handlers' payload callback in the shape ws_deflate delivers to. */
static void deliver_inflated(void* context, const uint8_t* data, size_t length) {
  struct ws_connection* conn = context;
  conn->handlers->payload(conn, data, length);
}

/* Bytes of the header whose first two bytes are `header`. */
static size_t header_size(const uint8_t* header) {
  uint8_t length7 = header[1] & 0x7f;
  return 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + ((header[1] & 0x80) ? 4 : 0);
}

static void end_frame(struct ws_connection* conn) {
  conn->in_frame = 0;
  conn->last_receive_ns = loadgen_now_ns();
  if (conn->frame_opcode == WS_CLOSE) {
    int code = conn->control_length >= 2 ? (conn->control[0] << 8) | conn->control[1] : 1005;
    int reason_length = conn->control_length > 2 ? (int)conn->control_length - 2 : 0;
    char what[200];
    snprintf(what, sizeof what, "the server sent a close frame: code %d, reason '%.*s'", code,
             reason_length, (const char*)conn->control + 2);
    fail_connection(conn, LOADGEN_ERROR_EOF, what, 0);
  } else if (conn->frame_opcode == WS_PING) {
    uint8_t* pong = ws_begin_message(conn, WS_PONG, conn->control_length); /* 5.5.3 */
    memcpy(pong, conn->control, conn->control_length);
    ws_commit_message(conn);
  } else if (conn->frame_opcode < WS_CLOSE && conn->frame_fin) {
    if (conn->message_compressed) {
      char why[200];
      if (ws_deflate_end(conn->deflate, deliver_inflated, conn, why, sizeof why) < 0)
        loadgen_fail(conn->state, "connection %u: %s", conn->id, why);
    }
    conn->in_message = 0;
    conn->message_compressed = 0;
    conn->handlers->message_end(conn);
  }
}

/* The header is complete: checks it as RFC 6455 section 5.2 asks of a client
 * (RSV1 only as permessage-deflate allows, RFC 7692 6.1), and starts the frame
 * (and maybe a message). */
static void start_frame(struct ws_connection* conn) {
  const uint8_t* header = conn->header;
  uint8_t opcode = header[0] & 0x0f;
  int fin = (header[0] & 0x80) != 0;
  uint8_t length7 = header[1] & 0x7f;
  uint64_t length = length7;
  if (length7 == 126) {
    length = ((uint64_t)header[2] << 8) | header[3];
  } else if (length7 == 127) {
    length = 0;
    for (int i = 0; i < 8; i++) length = (length << 8) | header[2 + i];
  }
  int rsv1 = (header[0] & 0x40) != 0;
  if (header[0] & 0x30)
    loadgen_fail(conn->state, "connection %u: server frame with RSV bits 0x%02x set", conn->id,
                 header[0] & 0x70);
  if (rsv1 && !conn->deflate)
    loadgen_fail(conn->state, "connection %u: RSV1 set without permessage-deflate agreed",
                 conn->id);
  if (rsv1 && opcode != WS_TEXT && opcode != WS_BINARY)
    loadgen_fail(conn->state, "connection %u: RSV1 set on a %s frame (opcode 0x%x)", conn->id,
                 opcode == WS_CONTINUATION ? "continuation" : "control", opcode);
  if (header[1] & 0x80)
    loadgen_fail(conn->state, "connection %u: masked server frame (5.1 forbids it)", conn->id);
  if (length >> 63)
    loadgen_fail(conn->state, "connection %u: frame length with the top bit set", conn->id);
  if (opcode >= WS_CLOSE) {
    if (opcode > WS_PONG)
      loadgen_fail(conn->state, "connection %u: unknown control opcode 0x%x", conn->id, opcode);
    if (!fin || length > WS_MAX_CONTROL_PAYLOAD)
      loadgen_fail(conn->state, "connection %u: control frame 0x%x fragmented or %llu bytes long",
                   conn->id, opcode, (unsigned long long)length);
  } else if (opcode > WS_BINARY) {
    loadgen_fail(conn->state, "connection %u: unknown data opcode 0x%x", conn->id, opcode);
  } else if (opcode == WS_CONTINUATION && !conn->in_message) {
    loadgen_fail(conn->state, "connection %u: continuation frame outside a message", conn->id);
  } else if (opcode != WS_CONTINUATION && conn->in_message) {
    loadgen_fail(conn->state, "connection %u: new message before the last one's final frame",
                 conn->id);
  }

  conn->header_length = 0;
  conn->in_frame = 1;
  conn->frame_opcode = opcode;
  conn->frame_fin = fin;
  conn->payload_left = length;
  conn->control_length = 0;
  if (opcode == WS_TEXT || opcode == WS_BINARY) {
    conn->in_message = 1;
    conn->message_compressed = rsv1;
    if (rsv1)
      conn->state->measured.compressed_messages++;
    else if (conn->deflate)
      conn->state->measured.uncompressed_messages++;
    conn->handlers->message_start(conn, opcode == WS_TEXT);
  }
  if (length == 0) end_frame(conn);
}

static void parse_frames(struct ws_connection* conn, const uint8_t* data, size_t length) {
  while (length > 0 && conn->fd >= 0) {
    if (!conn->in_frame) {
      size_t need = conn->header_length < 2 ? 2 : header_size(conn->header);
      size_t take = min_size(length, need - conn->header_length);
      memcpy(conn->header + conn->header_length, data, take);
      conn->header_length += take;
      data += take;
      length -= take;
      if (conn->header_length >= 2 && conn->header_length == header_size(conn->header))
        start_frame(conn);
      continue;
    }
    size_t take = min_size(length, conn->payload_left);
    if (conn->frame_opcode >= WS_CLOSE) {
      memcpy(conn->control + conn->control_length, data, take);
      conn->control_length += take;
    } else if (conn->message_compressed) {
      char why[200];
      conn->state->measured.compressed_bytes_in += take;
      if (ws_deflate_feed(conn->deflate, data, take, deliver_inflated, conn, why, sizeof why) < 0)
        loadgen_fail(conn->state, "connection %u: %s", conn->id, why);
    } else {
      conn->handlers->payload(conn, data, take);
    }
    data += take;
    length -= take;
    conn->payload_left -= take;
    if (conn->payload_left == 0) end_frame(conn);
  }
}

/* Adds bytes to the response head. Returns how many of them belonged to it
 * once it is complete and accepted (the rest are frames), or -1 while it is
 * incomplete or after the connection failed. */
static long take_response(struct ws_connection* conn, const uint8_t* data, size_t length) {
  size_t before = conn->response_length;
  size_t copied = min_size(sizeof conn->response_head - 1 - before, length);
  memcpy(conn->response_head + before, data, copied);
  conn->response_length += copied;
  conn->response_head[conn->response_length] = '\0';
  size_t end = 0;
  for (size_t i = before >= 3 ? before - 3 : 0; i + 4 <= conn->response_length; i++) {
    if (memcmp(conn->response_head + i, "\r\n\r\n", 4) == 0) {
      end = i + 4;
      break;
    }
  }
  if (end == 0) {
    if (conn->response_length == sizeof conn->response_head - 1)
      fail_connection(conn, LOADGEN_ERROR_CONNECT, "handshake answer head too long", 0);
    return -1;
  }
  conn->response_head[end] = '\0';
  char why[200];
  if (ws_handshake_check_response(conn, conn->response_head, why, sizeof why) < 0) {
    fail_connection(conn, LOADGEN_ERROR_CONNECT, why, 0);
    return -1;
  }
  conn->open = 1;
  conn->state->connected++;
  conn->last_receive_ns = loadgen_now_ns();
  conn->handlers->open(conn);
  return (long)(end - before);
}

static void on_readable(evutil_socket_t fd, short what, void* arg) {
  (void)what;
  struct ws_connection* conn = arg;
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
  const uint8_t* data = read_buffer;
  size_t length = (size_t)n;
  if (!conn->open) {
    long head = take_response(conn, data, length);
    if (head < 0) return;
    data += head;
    length -= (size_t)head;
  }
  parse_frames(conn, data, length);
  if (conn->fd >= 0) ws_flush(conn);
}

/* Sends the upgrade request right after connect(): on loopback the
 * connection is usually established by the time connect() returns, so it
 * leaves in one send() and the connection only ever waits for reading (one
 * epoll_ctl, no wake-up for writability, no evbuffer). When the socket is not
 * connected yet (EAGAIN) or takes only part, the rest waits in the output for
 * writability. Returns -1 when the connection failed. */
static int send_request(struct ws_connection* conn) {
  char request[WS_HANDSHAKE_MAX_REQUEST];
  size_t length = ws_handshake_request(conn, request);
  ssize_t sent = send(conn->fd, request, length, MSG_NOSIGNAL);
  if (sent == (ssize_t)length) {
    conn->connected = 1;
    event_add(conn->read_event, NULL);
    return 0;
  }
  if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    fail_connection(conn, LOADGEN_ERROR_CONNECT, "connect", errno);
    return -1;
  }
  size_t done = sent > 0 ? (size_t)sent : 0;
  if (evbuffer_add(output_of(conn), request + done, length - done) < 0)
    loadgen_fail(conn->state, "connection %u: out of memory for its request", conn->id);
  if (sent > 0) {
    conn->connected = 1;
    event_add(conn->read_event, NULL);
    return ws_flush(conn);
  }
  event_add(conn->write_event, NULL); /* fires when connect() completes */
  conn->write_pending = 1;
  return 0;
}

static void on_connected(struct ws_connection* conn) {
  int error_number = 0;
  socklen_t length = sizeof error_number;
  if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &error_number, &length) < 0) error_number = errno;
  if (error_number != 0) {
    fail_connection(conn, LOADGEN_ERROR_CONNECT, "connect", error_number);
    return;
  }
  conn->connected = 1;
  event_add(conn->read_event, NULL);
  ws_flush(conn); /* the request send_request() queued */
}

static void on_writable(evutil_socket_t fd, short what, void* arg) {
  (void)fd;
  (void)what;
  struct ws_connection* conn = arg;
  if (!conn->connected)
    on_connected(conn);
  else
    ws_flush(conn);
}

int ws_connection_open(struct ws_connection* conn, struct loadgen_state* state, uint32_t id,
                       const struct sockaddr_in* address, const char* path,
                       const struct ws_handlers* handlers) {
  conn->state = state;
  conn->handlers = handlers;
  conn->path = path;
  conn->port = ntohs(address->sin_port);
  conn->id = id;
  conn->mask_random = 0x9e3779b97f4a7c15ull * (id + 1u) | 1u; /* never 0: xorshift stays 0 */
  conn->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (conn->fd < 0) {
    loadgen_connection_error(state, LOADGEN_ERROR_CONNECT, (int)id, "socket", errno);
    return -1;
  }
  conn->nodelay = 0;
  conn->output = NULL;
  conn->read_event = event_new(state->base, conn->fd, EV_READ | EV_PERSIST, on_readable, conn);
  conn->write_event = event_new(state->base, conn->fd, EV_WRITE | EV_PERSIST, on_writable, conn);
  state->live++;
  if (!conn->read_event || !conn->write_event) {
    fail_connection(conn, LOADGEN_ERROR_CONNECT, "out of memory", 0);
    return -1;
  }
  if (connect(conn->fd, (const struct sockaddr*)address, sizeof *address) < 0 &&
      errno != EINPROGRESS) {
    fail_connection(conn, LOADGEN_ERROR_CONNECT, "connect", errno);
    return -1;
  }
  return send_request(conn);
}
