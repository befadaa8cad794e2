/* Reference WebSocket server in plain C on stock libevent bufferevents: the
 * peer bench/ws-speed.mjs measures ours and `ws` against. Same contract as
 * bench/servers/ws-echo-chat-app.mjs: `/echo` sends every message back with its
 * type, `/chat` relays every message to every `/chat` client (sender included),
 * any other path is answered 101 and then closed with 1008.
 *
 * Written the way a C programmer would with plain bufferevents, and no more:
 * libevent's own reads, a frame handled once it is whole in the input, one
 * bufferevent_write per frame (header and payload contiguous), and a /chat
 * message framed once and bufferevent_write'n to every client. RFC 6455 is
 * followed on the server side: the upgrade head parsed and checked
 * (handshake.c), masked client frames, fragmented messages reassembled,
 * control frames between fragments, UTF-8 of text checked, ping answered,
 * the close handshake; protocol errors fail the connection with their code.
 * Usage: c-ws-server [--port N]; N = 0 (default) picks a free port. Prints
 * "listening <port>" on stdout once accepting. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "frame.h"
#include "handshake.h"
#include "utf8.h"

#define MAX_MESSAGE (16u << 20) /* larger messages fail the connection with 1009 */
#define KEEP_BUFFER (1u << 20)  /* a message buffer larger than this is freed after use */
#define CLOSE_WAIT_SECONDS 10   /* how long a client may take to answer our close frame */
#define LISTEN_BACKLOG 511      /* as Node's servers: 10,000 clients connect in a burst */

enum state {
  STATE_HANDSHAKE,  /* reading the upgrade request */
  STATE_OPEN,       /* messages flow */
  STATE_CLOSE_SENT, /* we sent a close frame, waiting for the client's */
  STATE_CLOSING,    /* nothing more is read; freed once the output is written */
};

enum route { ROUTE_ECHO, ROUTE_CHAT, ROUTE_NONE };

struct connection {
  struct bufferevent* bev;
  enum state state;
  enum route route;
  struct connection *chat_previous, *chat_next; /* the /chat client list */
  int in_message;         /* a data message started and its final frame is still to come */
  uint8_t message_opcode; /* OP_TEXT or OP_BINARY */
  uint8_t* message;       /* FRAME_ROOM bytes of room, then the payload so far */
  size_t message_length;
  size_t message_capacity; /* payload bytes `message` holds after its room */
};

static struct connection* chat_clients;

static void free_connection(struct connection* conn) {
  if (conn->route == ROUTE_CHAT) {
    if (conn->chat_previous)
      conn->chat_previous->chat_next = conn->chat_next;
    else
      chat_clients = conn->chat_next;
    if (conn->chat_next) conn->chat_next->chat_previous = conn->chat_previous;
  }
  bufferevent_free(conn->bev);
  free(conn->message);
  free(conn);
}

static void send_control(struct connection* conn, uint8_t opcode, const uint8_t* payload,
                         size_t length) {
  uint8_t frame[2 + MAX_CONTROL_PAYLOAD];
  size_t header_length = frame_header(frame, opcode, length);
  memcpy(frame + header_length, payload, length);
  bufferevent_write(conn->bev, frame, header_length + length);
}

static void send_close(struct connection* conn, int code, const char* reason) {
  uint8_t payload[MAX_CONTROL_PAYLOAD];
  size_t reason_length = strlen(reason);
  payload[0] = (uint8_t)(code >> 8);
  payload[1] = (uint8_t)code;
  memcpy(payload + 2, reason, reason_length);
  send_control(conn, OP_CLOSE, payload, 2 + reason_length);
}

/* Fails the connection (RFC 6455 section 7.1.7): a close frame with `code`,
 * then the TCP connection is closed once it is written. */
static void fail_connection(struct connection* conn, int code, const char* reason) {
  send_close(conn, code, reason);
  conn->state = STATE_CLOSING;
}

/* The frame of the message just completed, built in the room before its payload. */
static const uint8_t* message_frame(struct connection* conn, size_t* frame_length) {
  uint8_t header[FRAME_ROOM];
  size_t header_length = frame_header(header, conn->message_opcode, conn->message_length);
  uint8_t* frame = conn->message + FRAME_ROOM - header_length;
  memcpy(frame, header, header_length);
  *frame_length = header_length + conn->message_length;
  return frame;
}

static void deliver_message(struct connection* conn) {
  if (conn->message_opcode == OP_TEXT &&
      !utf8_valid(conn->message + FRAME_ROOM, conn->message_length)) {
    fail_connection(conn, 1007, "invalid UTF-8 in a text message");
    return;
  }
  size_t frame_length;
  const uint8_t* frame = message_frame(conn, &frame_length);
  if (conn->route == ROUTE_ECHO) {
    bufferevent_write(conn->bev, frame, frame_length);
  } else if (conn->route == ROUTE_CHAT) {
    for (struct connection* client = chat_clients; client; client = client->chat_next)
      if (client->state == STATE_OPEN) bufferevent_write(client->bev, frame, frame_length);
  }
  if (conn->message_capacity > KEEP_BUFFER) {
    free(conn->message);
    conn->message = NULL;
    conn->message_capacity = 0;
  }
}

static void handle_control(struct connection* conn, uint8_t opcode, const uint8_t* payload,
                           size_t length) {
  if (opcode == OP_PING) {
    if (conn->state == STATE_OPEN) send_control(conn, OP_PONG, payload, length); /* 5.5.3 */
    return;
  }
  if (opcode == OP_PONG) return;
  /* Close (5.5.1): a body is a 2-byte code and a UTF-8 reason. */
  int code = length >= 2 ? payload[0] << 8 | payload[1] : 0;
  if (length == 1) {
    fail_connection(conn, 1002, "close frame with a 1-byte body");
  } else if (length >= 2 && !valid_close_code(code)) {
    fail_connection(conn, 1002, "invalid close code");
  } else if (length > 2 && !utf8_valid(payload + 2, length - 2)) {
    fail_connection(conn, 1007, "invalid UTF-8 in the close reason");
  } else {
    if (conn->state == STATE_OPEN) send_control(conn, OP_CLOSE, payload, length >= 2 ? 2 : 0);
    conn->state = STATE_CLOSING;
  }
}

static int reserve_message(struct connection* conn, size_t more) {
  size_t needed = conn->message_length + more;
  if (conn->message && needed <= conn->message_capacity) return 0;
  size_t capacity = conn->message_capacity ? conn->message_capacity : 256;
  while (capacity < needed) capacity *= 2;
  uint8_t* grown = realloc(conn->message, FRAME_ROOM + capacity);
  if (!grown) return -1;
  conn->message = grown;
  conn->message_capacity = capacity;
  return 0;
}

/* Takes one whole frame from the input and acts on it. Returns 1 when a frame
 * was taken, 0 when more bytes are needed or the connection is failing. */
static int read_frame(struct connection* conn, struct evbuffer* input) {
  size_t available = evbuffer_get_length(input);
  if (available < 2) return 0;
  uint8_t header[14];
  evbuffer_copyout(input, header, available < sizeof header ? available : sizeof header);
  int fin = (header[0] & 0x80) != 0;
  uint8_t opcode = header[0] & 0x0f;
  uint64_t length = header[1] & 0x7f;
  size_t header_length = 2 + (length == 126 ? 2 : length == 127 ? 8 : 0) + 4;
  if (header[0] & 0x70) return fail_connection(conn, 1002, "reserved bits set"), 0;
  if (!(header[1] & 0x80)) return fail_connection(conn, 1002, "unmasked client frame"), 0;
  if (available < header_length) return 0;
  if (length == 126) {
    length = (uint64_t)header[2] << 8 | header[3];
  } else if (length == 127) {
    length = 0;
    for (int i = 0; i < 8; i++) length = length << 8 | header[2 + i];
    if (length >> 63) return fail_connection(conn, 1002, "frame length with the top bit set"), 0;
  }
  if (opcode >= OP_CLOSE) {
    if (opcode > OP_PONG) return fail_connection(conn, 1002, "unknown control opcode"), 0;
    if (!fin || length > MAX_CONTROL_PAYLOAD)
      return fail_connection(conn, 1002, "fragmented or long control frame"), 0;
  } else if (opcode > OP_BINARY) {
    return fail_connection(conn, 1002, "unknown data opcode"), 0;
  } else if ((opcode == OP_CONTINUATION) != conn->in_message) {
    return fail_connection(conn, 1002, "continuation frame out of place"), 0;
  } else if (length > MAX_MESSAGE - (conn->in_message ? conn->message_length : 0)) {
    return fail_connection(conn, 1009, "message too big"), 0;
  }
  if (available - header_length < length) return 0; /* wait for the whole frame */

  uint8_t mask[4];
  memcpy(mask, header + header_length - 4, 4);
  evbuffer_drain(input, header_length);
  if (opcode >= OP_CLOSE) {
    uint8_t payload[MAX_CONTROL_PAYLOAD];
    evbuffer_remove(input, payload, (size_t)length);
    frame_unmask(payload, (size_t)length, mask);
    handle_control(conn, opcode, payload, (size_t)length);
    return 1;
  }
  if (opcode != OP_CONTINUATION) {
    conn->in_message = 1;
    conn->message_opcode = opcode;
    conn->message_length = 0;
  }
  if (reserve_message(conn, (size_t)length) < 0)
    return fail_connection(conn, 1011, "out of memory"), 0;
  uint8_t* payload = conn->message + FRAME_ROOM + conn->message_length;
  evbuffer_remove(input, payload, (size_t)length);
  frame_unmask(payload, (size_t)length, mask);
  conn->message_length += (size_t)length;
  if (fin) {
    conn->in_message = 0;
    if (conn->state == STATE_OPEN) deliver_message(conn); /* after our close: dropped */
  }
  return 1;
}

static void refuse_handshake(struct connection* conn, int status) {
  char answer[HANDSHAKE_ANSWER_SIZE];
  bufferevent_write(conn->bev, answer, handshake_refuse(status, answer));
  conn->state = STATE_CLOSING;
}

/* Reads the upgrade request once its head is whole; then the connection is
 * open (frames may follow in the input) or closing (refused). */
static void read_handshake(struct connection* conn, struct evbuffer* input) {
  struct evbuffer_ptr end = evbuffer_search(input, "\r\n\r\n", 4, NULL);
  if (end.pos < 0) {
    if (evbuffer_get_length(input) > HANDSHAKE_MAX_HEAD) refuse_handshake(conn, 431);
    return;
  }
  size_t head_length = (size_t)end.pos + 4;
  if (head_length > HANDSHAKE_MAX_HEAD) {
    refuse_handshake(conn, 431);
    return;
  }
  char head[HANDSHAKE_MAX_HEAD];
  evbuffer_remove(input, head, head_length);
  struct handshake_request request;
  int status = handshake_parse(head, head_length, &request);
  if (status) {
    refuse_handshake(conn, status);
    return;
  }

  char answer[HANDSHAKE_ANSWER_SIZE];
  bufferevent_write(conn->bev, answer, handshake_accept(&request, answer));
  conn->state = STATE_OPEN;
  if (strcmp(request.path, "/echo") == 0) {
    conn->route = ROUTE_ECHO;
  } else if (strcmp(request.path, "/chat") == 0) {
    conn->route = ROUTE_CHAT;
    conn->chat_next = chat_clients;
    if (chat_clients) chat_clients->chat_previous = conn;
    chat_clients = conn;
  } else {
    conn->route = ROUTE_NONE;
    send_close(conn, 1008, "unknown path");
    conn->state = STATE_CLOSE_SENT;
    struct timeval wait = {.tv_sec = CLOSE_WAIT_SECONDS};
    bufferevent_set_timeouts(conn->bev, &wait, NULL);
  }
}

static void on_read(struct bufferevent* bev, void* arg) {
  struct connection* conn = arg;
  struct evbuffer* input = bufferevent_get_input(bev);
  if (conn->state == STATE_HANDSHAKE) read_handshake(conn, input);
  while ((conn->state == STATE_OPEN || conn->state == STATE_CLOSE_SENT) && read_frame(conn, input))
    continue;
  if (conn->state != STATE_CLOSING) return;
  evbuffer_drain(input, evbuffer_get_length(input));
  bufferevent_disable(bev, EV_READ);
  /* Otherwise on_write frees it once the close frame (or refusal) is out. */
  if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) free_connection(conn);
}

static void on_write(struct bufferevent* bev, void* arg) {
  (void)bev;
  struct connection* conn = arg;
  if (conn->state == STATE_CLOSING) free_connection(conn);
}

static void on_event(struct bufferevent* bev, short events, void* arg) {
  (void)bev;
  if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) free_connection(arg);
}

static void on_accept(struct evconnlistener* listener, evutil_socket_t fd, struct sockaddr* address,
                      int address_length, void* arg) {
  (void)address, (void)address_length, (void)arg;
  struct event_base* base = evconnlistener_get_base(listener);
  struct connection* conn = calloc(1, sizeof *conn);
  struct bufferevent* bev = conn ? bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
  if (!bev) {
    fprintf(stderr, "c-ws-server: out of memory for a connection\n");
    free(conn);
    evutil_closesocket(fd);
    return;
  }
  int one = 1; /* frames are written whole: Nagle would only delay them */
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  conn->bev = bev;
  conn->state = STATE_HANDSHAKE;
  bufferevent_setcb(bev, on_read, on_write, on_event, conn);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void on_accept_error(struct evconnlistener* listener, void* arg) {
  (void)listener, (void)arg;
  int error_number = EVUTIL_SOCKET_ERROR();
  fprintf(stderr, "c-ws-server: accept: %s\n", evutil_socket_error_to_string(error_number));
}

static void on_signal(evutil_socket_t signal_number, short what, void* arg) {
  (void)signal_number, (void)what;
  event_base_loopexit(arg, NULL);
}

static int parse_port(int argc, char** argv) {
  if (argc == 1) return 0;
  char* end = NULL;
  long port = argc == 3 && strcmp(argv[1], "--port") == 0 ? strtol(argv[2], &end, 10) : -1;
  if (port < 0 || port > 65535 || !end || *end) {
    fprintf(stderr, "usage: c-ws-server [--port N]\n");
    exit(64);
  }
  return (int)port;
}

/* 10,000 idle clients need as many descriptors: take the hard limit. */
static void raise_file_limit(void) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int main(int argc, char** argv) {
  int port = parse_port(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  raise_file_limit();
  struct event_base* base = event_base_new();
  if (!base) {
    fprintf(stderr, "c-ws-server: event_base_new failed\n");
    return 1;
  }
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct evconnlistener* listener =
      evconnlistener_new_bind(base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                              LISTEN_BACKLOG, (struct sockaddr*)&address, sizeof address);
  if (!listener) {
    fprintf(stderr, "c-ws-server: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
    return 1;
  }
  evconnlistener_set_error_cb(listener, on_accept_error);

  struct sockaddr_in bound;
  socklen_t bound_length = sizeof bound;
  getsockname(evconnlistener_get_fd(listener), (struct sockaddr*)&bound, &bound_length);
  printf("listening %d\n", ntohs(bound.sin_port));
  fflush(stdout);

  struct event* terminate = evsignal_new(base, SIGTERM, on_signal, base);
  struct event* interrupt = evsignal_new(base, SIGINT, on_signal, base);
  event_add(terminate, NULL);
  event_add(interrupt, NULL);
  event_base_dispatch(base);

  event_free(terminate);
  event_free(interrupt);
  evconnlistener_free(listener);
  event_base_free(base);
  return 0;
}
