/* The load generator's command line: defaults, parsing and checks, usage. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"

static const struct loadgen_options defaults = {
    .mode = "tcp-echo",
    .host = "127.0.0.1",
    .port = 0,
    .connections = 100,
    .depth = 4,
    .chunk_size = 4096,
    .duration_s = 5.0,
    .warmup_s = 1.0,
    .path = NULL,
    .senders = 4,
    .second_port = 0,
    .text_only = 0,
    .rate = 0,
    .json_payload = 0,
    .deflate = 0,
    .deflate_no_context_takeover = 0,
    .deflate_level = 1, /* the client's cost is not what is measured: keep it low */
    .idle_echo = 0,
};

static void usage(FILE* out) {
  fprintf(out,
          "usage: loadgen --port N [--mode tcp-echo|ws-echo|ws-chat|ws-idle] [--host 127.0.0.1]\n"
          "               [--connections 100] [--depth 4] [--chunk-size 4096] [--duration 5]\n"
          "               [--warmup 1] [--path /echo|/chat] [--senders 4] [--second-port N]\n"
          "               [--text-only] [--rate N] [--payload pattern|json] [--deflate]\n"
          "               [--deflate-no-context-takeover] [--deflate-level 1] [--idle-echo]\n"
          "  --depth       chunks (messages) kept in flight per connection (ws-chat: per sender,\n"
          "                at most, with --rate; ws-idle: handshakes under way at once)\n"
          "  --chunk-size  bytes per chunk (WebSocket message payload)\n"
          "  --duration    measured seconds (after the warm-up)\n"
          "  --path        ws-*: the request path (default /echo for ws-echo, /chat for ws-chat)\n"
          "  --senders     ws-chat: how many of the connections send (all of them receive)\n"
          "  --second-port ws-chat: odd-numbered connections use this port (a second server)\n"
          "  --text-only   ws-chat: text messages only (default: binary and text in turn)\n"
          "  --rate        ws-chat: messages per second from all senders together, on a fixed\n"
          "                schedule; latency counts from each message's scheduled time\n"
          "  --payload     ws-echo, ws-idle: json sends JSON-like text messages only (default:\n"
          "                pattern, binary and text in turn, bytes that do not compress)\n"
          "  --deflate     ws-echo, ws-idle: offer permessage-deflate (client_max_window_bits)\n"
          "                and fail unless the server agrees; compress every message sent\n"
          "                (zlib --deflate-level, default 1), inflate and verify every one\n"
          "                received\n"
          "  --deflate-no-context-takeover  --deflate, also offering server_ and\n"
          "                client_no_context_takeover\n"
          "  --idle-echo   ws-idle: each connection sends one --chunk-size text message and\n"
          "                waits for its echo before it counts as open and goes idle\n"
          "  ws-idle       opens --connections WebSocket connections (--depth handshakes at\n"
          "                once), reports handshakes/s, then holds them idle for --duration\n"
          "                (the measured window) and closes them; --warmup is not used\n");
}

static long parse_integer(const char* text, const char* name, long min, long max) {
  char* end;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno || *end || end == text || value < min || value > max) {
    fprintf(stderr, "loadgen: %s must be an integer in [%ld, %ld], got '%s'\n", name, min, max,
            text);
    exit(64);
  }
  return value;
}

static double parse_rate(const char* text) {
  char* end;
  double value = strtod(text, &end);
  if (*end || end == text || !(value > 0) || value > 1e9) {
    fprintf(stderr, "loadgen: --rate must be messages per second in (0, 1e9], got '%s'\n", text);
    exit(64);
  }
  return value;
}

static double parse_seconds(const char* text, const char* name) {
  char* end;
  double value = strtod(text, &end);
  if (*end || end == text || !(value >= 0) || value > 86400) {
    fprintf(stderr, "loadgen: %s must be seconds in [0, 86400], got '%s'\n", name, text);
    exit(64);
  }
  return value;
}

void loadgen_parse_options(int argc, char** argv, struct loadgen_options* options) {
  *options = defaults;
  static const struct option long_options[] = {
      {"mode", required_argument, NULL, 'm'},
      {"host", required_argument, NULL, 'h'},
      {"port", required_argument, NULL, 'p'},
      {"connections", required_argument, NULL, 'c'},
      {"depth", required_argument, NULL, 'k'},
      {"chunk-size", required_argument, NULL, 's'},
      {"duration", required_argument, NULL, 'd'},
      {"warmup", required_argument, NULL, 'w'},
      {"path", required_argument, NULL, 'P'},
      {"senders", required_argument, NULL, 'S'},
      {"text-only", no_argument, NULL, 'T'},
      {"second-port", required_argument, NULL, 'Q'},
      {"rate", required_argument, NULL, 'R'},
      {"payload", required_argument, NULL, 'J'},
      {"deflate", no_argument, NULL, 'D'},
      {"deflate-no-context-takeover", no_argument, NULL, 'N'},
      {"deflate-level", required_argument, NULL, 'L'},
      {"idle-echo", no_argument, NULL, 'E'},
      {"help", no_argument, NULL, '?'},
      {NULL, 0, NULL, 0},
  };
  int option;
  while ((option = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
    switch (option) {
      case 'm':
        options->mode = optarg;
        break;
      case 'h':
        options->host = optarg;
        break;
      case 'p':
        options->port = (int)parse_integer(optarg, "--port", 1, 65535);
        break;
      case 'c':
        options->connections = (int)parse_integer(optarg, "--connections", 1, 1000000);
        break;
      case 'k':
        options->depth = (int)parse_integer(optarg, "--depth", 1, 1 << 20);
        break;
      case 's':
        options->chunk_size = (size_t)parse_integer(optarg, "--chunk-size", 1, 1L << 30);
        break;
      case 'd':
        options->duration_s = parse_seconds(optarg, "--duration");
        break;
      case 'w':
        options->warmup_s = parse_seconds(optarg, "--warmup");
        break;
      case 'P':
        if (optarg[0] != '/') {
          fprintf(stderr, "loadgen: --path must start with '/', got '%s'\n", optarg);
          exit(64);
        }
        options->path = optarg;
        break;
      case 'S':
        options->senders = (int)parse_integer(optarg, "--senders", 1, 65535);
        break;
      case 'Q':
        options->second_port = (int)parse_integer(optarg, "--second-port", 1, 65535);
        break;
      case 'T':
        options->text_only = 1;
        break;
      case 'R':
        options->rate = parse_rate(optarg);
        break;
      case 'J':
        if (strcmp(optarg, "json") != 0 && strcmp(optarg, "pattern") != 0) {
          fprintf(stderr, "loadgen: --payload must be pattern or json, got '%s'\n", optarg);
          exit(64);
        }
        options->json_payload = strcmp(optarg, "json") == 0;
        break;
      case 'N':
        options->deflate_no_context_takeover = 1;
        options->deflate = 1; /* it implies --deflate */
        break;
      case 'D':
        options->deflate = 1;
        break;
      case 'E':
        options->idle_echo = 1;
        break;
      case 'L':
        options->deflate_level = (int)parse_integer(optarg, "--deflate-level", 0, 9);
        break;
      default:
        usage(stderr);
        exit(64);
    }
  }
  if (optind != argc || options->port == 0 || options->duration_s <= 0) {
    usage(stderr);
    exit(64);
  }
  int echo_or_idle = strcmp(options->mode, "ws-echo") == 0 || strcmp(options->mode, "ws-idle") == 0;
  if ((options->deflate || options->json_payload) && !echo_or_idle) {
    fprintf(stderr, "loadgen: --deflate and --payload are for --mode ws-echo and ws-idle\n");
    exit(64);
  }
  if (options->idle_echo && strcmp(options->mode, "ws-idle") != 0) {
    fprintf(stderr, "loadgen: --idle-echo is for --mode ws-idle\n");
    exit(64);
  }
}
