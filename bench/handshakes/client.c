/* Lean client for the opening-handshake benchmark (bench/ws-handshakes.mjs): N slots, each
 * connects, sends one request, reads the whole answer, closes the TCP connection and starts
 * over. Raw non-blocking sockets and epoll, no library, fixed request bytes: the server, not this
 * client, should be the bottleneck.
 *   --mode ws    a WebSocket upgrade; the answer must be a 101 with the right Sec-WebSocket-Accept
 *   --mode http  --requests K plain GETs on one keep-alive connection; each answer must be a 200
 *                with a Content-Length body
 * Output as bench/loadgen's: "loadgen: measure-start" / "loadgen: measure-end" on stderr when the
 * measured window opens and closes, one JSON line on stdout. Exit status 0 ok, 2 a connection or
 * answer failed (the first failure is in the JSON), 64 usage error. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../loadgen/stats.h"

/* RFC 6455 §1.3's sample key and its accept value: the server must compute it. */
#define WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
#define ANSWER_MAX 4096

enum mode { MODE_WS, MODE_HTTP };
enum slot_state { SLOT_CONNECTING, SLOT_READING };

struct slot {
  int fd;
  enum slot_state state;
  int requests_left;       /* http: answers still expected on this connection, this one included */
  uint64_t started_ns;     /* connect() (first request) or write() (later ones) */
  size_t have;             /* bytes of the current answer in `answer` */
  char answer[ANSWER_MAX]; /* one answer at a time: the client sends the next request after it */
};

static struct {
  enum mode mode;
  const char* host;
  int port;
  int connections;
  int requests;
  double duration_s, warmup_s;
  const char* path;
} options = {MODE_WS, "127.0.0.1", 0, 50, 1, 3.0, 1.0, "/"};

static struct sockaddr_in server_address;
static char request[512];
static size_t request_length;
static int epoll_fd;

static int measuring;
static uint64_t completed, connections_closed;
static struct latency_histogram latency;
static uint64_t failures;
static char first_failure[256];

static uint64_t now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static double seconds_of(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

static void fail(const char* what, int error_number) {
  if (failures++ == 0) {
    if (error_number)
      snprintf(first_failure, sizeof first_failure, "%s: %s", what, strerror(error_number));
    else
      snprintf(first_failure, sizeof first_failure, "%s", what);
    fprintf(stderr, "loadgen: %s\n", first_failure);
  }
}

static void start_connection(struct slot* slot);

/* Ends the slot's connection (the client closes first, as a browser leaving a page would) and
 * opens the next one. */
static void restart(struct slot* slot) {
  close(slot->fd);
  if (measuring) connections_closed++;
  start_connection(slot);
}

static void start_connection(struct slot* slot) {
  slot->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (slot->fd < 0) {
    perror("loadgen: socket");
    exit(2);
  }
  int one = 1;
  setsockopt(slot->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  slot->state = SLOT_CONNECTING;
  slot->requests_left = options.mode == MODE_WS ? 1 : options.requests;
  slot->have = 0;
  slot->started_ns = now_ns();
  if (connect(slot->fd, (struct sockaddr*)&server_address, sizeof server_address) < 0 &&
      errno != EINPROGRESS) {
    /* EADDRNOTAVAIL here means the ephemeral ports ran out (TIME_WAIT not reused). */
    fail("connect", errno);
    close(slot->fd);
    slot->fd = -1;
    return;
  }
  struct epoll_event event = {.events = EPOLLOUT, .data.ptr = slot};
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, slot->fd, &event);
}

static int send_request(struct slot* slot) {
  ssize_t written = write(slot->fd, request, request_length);
  if (written != (ssize_t)request_length) {
    /* A fresh or idle connection takes a few hundred bytes at once. */
    fail("write", written < 0 ? errno : 0);
    return -1;
  }
  return 0;
}

/* The answer's length once its head is complete: 0 while incomplete, -1 when it is wrong. */
static long answer_length(const struct slot* slot) {
  const char* head_end = memmem(slot->answer, slot->have, "\r\n\r\n", 4);
  if (head_end == NULL) return slot->have == ANSWER_MAX ? -1 : 0;
  size_t head_length = (size_t)(head_end - slot->answer) + 4;
  if (options.mode == MODE_WS) {
    if (strncmp(slot->answer, "HTTP/1.1 101 ", 13) != 0 ||
        memmem(slot->answer, head_length, WS_ACCEPT, strlen(WS_ACCEPT)) == NULL)
      return -1;
    return (long)head_length;
  }
  if (strncmp(slot->answer, "HTTP/1.1 200 ", 13) != 0) return -1;
  const char* field = memmem(slot->answer, head_length, "\r\nContent-Length: ", 18);
  if (field == NULL) field = memmem(slot->answer, head_length, "\r\ncontent-length: ", 18);
  if (field == NULL) return -1;
  return (long)head_length + strtol(field + 18, NULL, 10);
}

static void on_readable(struct slot* slot) {
  for (;;) {
    ssize_t n = read(slot->fd, slot->answer + slot->have, ANSWER_MAX - slot->have);
    if (n < 0) {
      if (errno == EAGAIN) return;
      fail("read", errno);
      restart(slot);
      return;
    }
    if (n == 0) {
      fail("the server closed the connection before answering", 0);
      restart(slot);
      return;
    }
    slot->have += (size_t)n;
    long length = answer_length(slot);
    if (length == 0 || (length > 0 && slot->have < (size_t)length)) continue;
    if (length < 0 || slot->have > (size_t)length) {
      char what[160];
      snprintf(what, sizeof what, "unexpected answer: %.*s", (int)strcspn(slot->answer, "\r\n"),
               slot->answer);
      fail(what, 0);
      restart(slot);
      return;
    }
    uint64_t done_ns = now_ns();
    if (measuring) {
      completed++;
      latency_histogram_record(&latency, done_ns - slot->started_ns);
    }
    if (--slot->requests_left == 0) {
      restart(slot);
      return;
    }
    slot->have = 0;
    slot->started_ns = done_ns;
    if (send_request(slot) < 0) {
      restart(slot);
      return;
    }
  }
}

static void on_event(struct slot* slot, uint32_t events) {
  if (slot->state == SLOT_CONNECTING) {
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt(slot->fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0 || (events & (EPOLLERR | EPOLLHUP))) {
      fail("connect", error);
      restart(slot);
      return;
    }
    if (send_request(slot) < 0) {
      restart(slot);
      return;
    }
    slot->state = SLOT_READING;
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = slot};
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, slot->fd, &event);
    return;
  }
  on_readable(slot);
}

static void usage(FILE* out, int status) {
  fprintf(out,
          "usage: handshake-client --port N [--mode ws|http] [--host 127.0.0.1] [--path /]\n"
          "                        [--connections 50] [--requests 1] [--duration 3] [--warmup 1]\n"
          "  --requests  http: GET requests per connection (keep-alive), the connection closed "
          "after\n");
  exit(status);
}

static void parse_options(int argc, char** argv) {
  static const struct option long_options[] = {
      {"mode", required_argument, 0, 'm'},     {"host", required_argument, 0, 'H'},
      {"port", required_argument, 0, 'p'},     {"connections", required_argument, 0, 'c'},
      {"requests", required_argument, 0, 'r'}, {"duration", required_argument, 0, 'd'},
      {"warmup", required_argument, 0, 'w'},   {"path", required_argument, 0, 'P'},
      {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
  int option;
  while ((option = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
    switch (option) {
      case 'm':
        if (strcmp(optarg, "ws") == 0)
          options.mode = MODE_WS;
        else if (strcmp(optarg, "http") == 0)
          options.mode = MODE_HTTP;
        else
          usage(stderr, 64);
        break;
      case 'H':
        options.host = optarg;
        break;
      case 'p':
        options.port = atoi(optarg);
        break;
      case 'c':
        options.connections = atoi(optarg);
        break;
      case 'r':
        options.requests = atoi(optarg);
        break;
      case 'd':
        options.duration_s = atof(optarg);
        break;
      case 'w':
        options.warmup_s = atof(optarg);
        break;
      case 'P':
        options.path = optarg;
        break;
      case 'h':
        usage(stdout, 0);
        break;
      default:
        usage(stderr, 64);
    }
  }
  if (options.port <= 0 || options.port > 65535 || options.connections <= 0 ||
      options.requests <= 0 || !(options.duration_s > 0) || options.warmup_s < 0)
    usage(stderr, 64);
  server_address.sin_family = AF_INET;
  server_address.sin_port = htons((uint16_t)options.port);
  if (inet_pton(AF_INET, options.host, &server_address.sin_addr) != 1) {
    fprintf(stderr, "loadgen: --host must be a numeric IPv4 address\n");
    exit(64);
  }
  int length = options.mode == MODE_WS
                   ? snprintf(request, sizeof request,
                              "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Key: " WS_KEY
                              "\r\nSec-WebSocket-Version: 13\r\n\r\n",
                              options.path, options.host, options.port)
                   : snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n",
                              options.path, options.host, options.port);
  if (length <= 0 || (size_t)length >= sizeof request) {
    fprintf(stderr, "loadgen: --path is too long\n");
    exit(64);
  }
  request_length = (size_t)length;
}

int main(int argc, char** argv) {
  parse_options(argc, argv);
  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  struct slot* slots = calloc((size_t)options.connections, sizeof *slots);
  if (epoll_fd < 0 || slots == NULL) {
    perror("loadgen: set-up");
    return 2;
  }
  for (int i = 0; i < options.connections; i++) start_connection(&slots[i]);

  uint64_t begin_ns = now_ns();
  uint64_t window_start_ns = begin_ns + (uint64_t)(options.warmup_s * 1e9);
  uint64_t window_end_ns = window_start_ns + (uint64_t)(options.duration_s * 1e9);
  struct rusage start_usage, end_usage;
  struct epoll_event events[256];
  latency_histogram_reset(&latency);
  for (;;) {
    uint64_t now = now_ns();
    if (!measuring && now >= window_start_ns) {
      measuring = 1;
      window_start_ns = now;
      getrusage(RUSAGE_SELF, &start_usage);
      fprintf(stderr, "loadgen: measure-start\n");
    }
    if (measuring && now >= window_end_ns) break;
    if (failures > 0) break; /* a wrong answer or a refused connection fails the run */
    uint64_t next_ns = measuring ? window_end_ns : window_start_ns;
    int timeout_ms = (int)((next_ns - now) / 1000000u) + 1;
    int count = epoll_wait(epoll_fd, events, 256, timeout_ms);
    for (int i = 0; i < count; i++) on_event(events[i].data.ptr, events[i].events);
  }
  uint64_t window_end = now_ns();
  getrusage(RUSAGE_SELF, &end_usage);
  if (measuring) fprintf(stderr, "loadgen: measure-end\n");

  double elapsed_s = measuring ? (double)(window_end - window_start_ns) / 1e9 : 0;
  double user_s = 0, sys_s = 0;
  if (measuring) {
    user_s = seconds_of(end_usage.ru_utime) - seconds_of(start_usage.ru_utime);
    sys_s = seconds_of(end_usage.ru_stime) - seconds_of(start_usage.ru_stime);
  }
  int ok = failures == 0 && completed > 0;
  double per_s = elapsed_s > 0 ? (double)completed / elapsed_s : 0;
  double connections_per_s = elapsed_s > 0 ? (double)connections_closed / elapsed_s : 0;
  printf(
      "{\"ok\":%s,\"mode\":\"%s\",\"connections\":%d,\"requests\":%d,\"duration_s\":%.3f,"
      "\"completed\":%llu,\"per_s\":%.1f,\"connections_per_s\":%.1f,",
      ok ? "true" : "false", options.mode == MODE_WS ? "ws" : "http", options.connections,
      options.mode == MODE_WS ? 1 : options.requests, elapsed_s, (unsigned long long)completed,
      per_s, connections_per_s);
  printf("\"latency_us\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f},",
         (double)latency_histogram_percentile(&latency, 50) / 1e3,
         (double)latency_histogram_percentile(&latency, 99) / 1e3, (double)latency.max_ns / 1e3);
  printf("\"cpu\":{\"user_s\":%.3f,\"sys_s\":%.3f,\"percent\":%.1f},", user_s, sys_s,
         elapsed_s > 0 ? (user_s + sys_s) / elapsed_s * 100 : 0);
  printf("\"errors\":{\"count\":%llu,\"first\":", (unsigned long long)failures);
  if (failures > 0) {
    putchar('"');
    for (const char* c = first_failure; *c; c++)
      if (*c == '"' || *c == '\\')
        printf("\\%c", *c);
      else if ((unsigned char)*c >= 0x20)
        putchar(*c);
    putchar('"');
  } else if (completed == 0) {
    printf("\"nothing completed in the measured window\"");
  } else {
    printf("null");
  }
  printf("}}\n");
  fflush(stdout);
  fprintf(stderr,
          "loadgen: %s, %d connections, %.2f s: %.0f/s; latency p50 %.0f us, p99 %.0f us; "
          "client CPU %.0f%%\n",
          options.mode == MODE_WS ? "handshakes" : "requests", options.connections, elapsed_s,
          per_s, (double)latency_histogram_percentile(&latency, 50) / 1e3,
          (double)latency_histogram_percentile(&latency, 99) / 1e3,
          elapsed_s > 0 ? (user_s + sys_s) / elapsed_s * 100 : 0);
  return ok ? 0 : 2;
}
