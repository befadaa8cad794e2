/* What main.c shares with the workloads: options, the measured counters, the
 * workload interface, and the error/failure reporting they call back into. */
#ifndef LOADGEN_LOADGEN_H
#define LOADGEN_LOADGEN_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stats.h"

struct loadgen_options {
  const char* mode;
  const char* host;
  int port;
  int connections;
  int depth;         /* chunks (or messages) kept in flight per connection */
  size_t chunk_size; /* bytes per chunk */
  double duration_s; /* measured window */
  double warmup_s;   /* runs the workload unmeasured before the window */
  const char* path;  /* ws-*: request path; NULL means the mode's own (/echo, /chat) */
  int senders;       /* ws-chat: connections that send (the first ones); all of them receive */
  int second_port;   /* ws-chat: 0, or the port odd-numbered connections use (a second server) */
  int text_only;     /* ws-chat: every message is text (a relay that keeps no bytes, e.g. JSON) */
  double rate;       /* ws-chat: 0 (each sender keeps `depth` in flight), or messages per second
                        sent by all senders together on a fixed schedule (open loop) */
  int json_payload;  /* ws-echo, ws-idle: every message is text, JSON-like (PATTERN_JSON) */
  int deflate;       /* ws-echo, ws-idle: offer permessage-deflate, and require it */
  int deflate_no_context_takeover; /* ... asking for no context takeover both ways */
  int deflate_level;               /* zlib level of what this client compresses */
  int idle_echo; /* ws-idle: one message exchanged per connection before it goes idle */
};

/* Reset by main.c when the measured window starts. */
struct loadgen_measured {
  uint64_t bytes;    /* echoed bytes received and verified */
  uint64_t messages; /* chunks (or messages) whose round trip completed */
  struct latency_histogram latency;
  /* ws-chat only: `messages` and `bytes` count deliveries (one per receiving
   * client), `latency` runs from sending to the last client's receipt, and these
   * count the broadcasts that reached every client and each delivery's latency. */
  uint64_t broadcasts;
  struct latency_histogram delivery_latency;
  /* --deflate only: data messages received compressed (RSV1) and not, the
   * compressed payload bytes of the former, and what this client sent as
   * plain and as compressed payload bytes. */
  uint64_t compressed_messages;
  uint64_t uncompressed_messages;
  uint64_t compressed_bytes_in;
  uint64_t plain_bytes_out;
  uint64_t compressed_bytes_out;
};

/* Never reset: an error in the warm-up still counts. */
struct loadgen_errors {
  uint64_t connect; /* connect() refused or failed */
  uint64_t io;      /* reset or other socket error after connecting */
  uint64_t eof;     /* the server closed a connection we still used */
  char first[256];  /* the first error, as text */
};

struct loadgen_state {
  struct event_base* base;
  const struct loadgen_options* options;
  struct loadgen_measured measured;
  struct loadgen_errors errors;
  int connected;            /* connections that completed connect() */
  int live;                 /* connections still open */
  int stopping;             /* the window is over: issue no new work */
  uint64_t window_start_ns; /* 0 until the measured window opens */
  int stalled;              /* set by stop(): connections with work in flight that got
                               no byte back during the whole measured window */
};

enum loadgen_error_kind { LOADGEN_ERROR_CONNECT, LOADGEN_ERROR_IO, LOADGEN_ERROR_EOF };

struct workload {
  const char* name;
  /* Opens the connections and starts the work; returns 0, or -1 after
   * printing why it cannot run at all. */
  int (*start)(struct loadgen_state* state);
  /* Counts stalled connections into state->stalled, then closes every
   * connection and frees what start() allocated. */
  void (*stop)(struct loadgen_state* state);
  /* Optional: prints the mode's own fields into the JSON result, each as
   * `,"name":value`. */
  void (*report_json)(const struct loadgen_state* state, FILE* out);
  /* Set when the workload opens and ends the measured window itself (with
   * loadgen_open_window and loadgen_finish) instead of main's --warmup and
   * --duration timers. */
  int owns_window;
};

extern const struct workload tcp_echo_workload;
extern const struct workload ws_echo_workload;
extern const struct workload ws_chat_workload;
extern const struct workload ws_idle_workload;

/* For workloads that own the window: opens it (counters reset, the
 * measure-start marker), and ends the run (the window closed, the loop left). */
void loadgen_open_window(void);
void loadgen_finish(void);

/* A connection failed: counted and reported at the end; the run goes on with
 * the others, and ends early once no connection is left. The caller has
 * already closed the connection and decremented state->live. */
void loadgen_connection_error(struct loadgen_state* state, enum loadgen_error_kind kind,
                              int connection_id, const char* what, int error_number);

/* The server sent bytes that were not what we sent: prints the JSON failure
 * line and exits with status 1. Never returns. */
void loadgen_fail(const struct loadgen_state* state, const char* format, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

uint64_t loadgen_now_ns(void);

/* Fills `options` from the command line (defaults for what it leaves out);
 * prints the usage and exits with status 64 on a usage error. */
void loadgen_parse_options(int argc, char** argv, struct loadgen_options* options);

#endif
