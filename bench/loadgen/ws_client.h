/* WebSocket client connections for the ws-* workloads: connect, the HTTP
 * upgrade handshake (101 and Sec-WebSocket-Accept verified), masked frames
 * out, and a streaming frame parser in that hands payload bytes to the
 * workload as they arrive (nothing is buffered per message). With --deflate,
 * permessage-deflate is offered and required (ws_deflate.h): compressed
 * messages are inflated on the way in, so the workload sees plain bytes. */
#ifndef LOADGEN_WS_CLIENT_H
#define LOADGEN_WS_CLIENT_H

#include <event2/buffer.h>
#include <netinet/in.h>

#include "loadgen.h"

enum ws_opcode {
  WS_CONTINUATION = 0x0,
  WS_TEXT = 0x1,
  WS_BINARY = 0x2,
  WS_CLOSE = 0x8,
  WS_PING = 0x9,
  WS_PONG = 0xa,
};

/* Largest frame header: 2 bytes, 8 of extended length, 4 of mask key. */
#define WS_MAX_HEADER 14
#define WS_MAX_CONTROL_PAYLOAD 125
#define WS_MAX_RESPONSE_HEAD 2048
#define WS_KEY_LENGTH 24    /* base64 of 16 random bytes */
#define WS_ACCEPT_LENGTH 28 /* base64 of a SHA-1 digest */

struct ws_connection;

/* What the workload hears from one connection. A data message arrives as one
 * message_start, any number of payload calls (its bytes in order, split
 * wherever reads and frames split them) and one message_end. Control frames
 * are handled here: ping is answered, pong ignored, close fails the connection.
 * A handler that finds wrong data calls loadgen_fail(), which exits. */
struct ws_handlers {
  void (*open)(struct ws_connection* conn); /* the 101 answer was verified */
  void (*message_start)(struct ws_connection* conn, int is_text);
  void (*payload)(struct ws_connection* conn, const uint8_t* data, size_t length);
  void (*message_end)(struct ws_connection* conn);
  /* Optional: the connection failed (closed, already counted as an error). */
  void (*failed)(struct ws_connection* conn);
};

/* Embed as the first member of the workload's own connection struct, so a
 * handler can cast the pointer it gets back to that struct. */
struct ws_connection {
  struct loadgen_state* state;
  const struct ws_handlers* handlers;
  const char* path;
  int port; /* the server's, for the Host header (ws-chat may use two servers) */
  uint32_t id;
  evutil_socket_t fd; /* -1 once closed */
  struct event* read_event;
  struct event* write_event;
  struct evbuffer* output;  /* NULL until something is left to write (see ws_client.c) */
  int connected;            /* connect() completed */
  int nodelay;              /* TCP_NODELAY is set (at the first frame) */
  int open;                 /* the handshake completed */
  int write_pending;        /* write_event is added: the socket refused bytes */
  uint64_t last_receive_ns; /* when a frame last ended (or the connection opened) */
  uint64_t mask_random;     /* xorshift64 state for the frames' mask keys */

  char key[WS_KEY_LENGTH + 1];                /* Sec-WebSocket-Key; "" until chosen */
  char expected_accept[WS_ACCEPT_LENGTH + 1]; /* what that key asks for */
  char response_head[WS_MAX_RESPONSE_HEAD];
  size_t response_length;

  /* frame parser */
  uint8_t header[WS_MAX_HEADER];
  size_t header_length;       /* bytes of the current header received so far */
  int in_frame;               /* the header is complete: receiving the payload */
  uint8_t frame_opcode;       /* of the frame being received */
  int frame_fin;              /* ditto */
  uint64_t payload_left;      /* payload bytes of the current frame still to come */
  int in_message;             /* a data message started and has not ended */
  int message_compressed;     /* ... with RSV1 on its first frame: its payload is inflated */
  struct ws_deflate* deflate; /* permessage-deflate agreed; NULL without --deflate */
  uint8_t control[WS_MAX_CONTROL_PAYLOAD];
  size_t control_length;

  /* the frame reserved by ws_begin_message, until ws_commit_message */
  struct evbuffer_iovec reserved;
  uint8_t* reserved_payload;
  size_t reserved_length;
  uint8_t reserved_mask[4];
};

/* Opens the TCP connection; the handshake follows on its own. Returns -1 when
 * it failed at once (already counted as a connection error). */
int ws_connection_open(struct ws_connection* conn, struct loadgen_state* state, uint32_t id,
                       const struct sockaddr_in* address, const char* path,
                       const struct ws_handlers* handlers);

/* Closes the socket (no close handshake: the run is over or the connection
 * failed); safe to call twice. Decrements state->live. */
void ws_connection_close(struct ws_connection* conn);

/* Reserves one unfragmented frame of `length` payload bytes at the end of the
 * output and returns where the caller writes the plain payload; then
 * ws_commit_message masks it with a fresh key. Nothing is sent until
 * ws_flush, which the read path calls after every read on its own connection. */
uint8_t* ws_begin_message(struct ws_connection* conn, enum ws_opcode opcode, size_t length);
void ws_commit_message(struct ws_connection* conn);

/* Queues one whole data message (one frame): compressed, with RSV1, when
 * permessage-deflate was agreed; else as ws_begin_message would. */
void ws_send_message(struct ws_connection* conn, enum ws_opcode opcode, const uint8_t* data,
                     size_t length);

/* Writes the output until it is empty or the socket is full. Returns -1 when
 * the connection failed (and is closed). */
int ws_flush(struct ws_connection* conn);

/* Call once before opening connections: parses options->host (an IPv4
 * address) into `address` and tunes malloc for per-message frame buffers.
 * Returns -1 after printing why it cannot run. */
int ws_client_init(const struct loadgen_options* options, struct sockaddr_in* address);

#endif
