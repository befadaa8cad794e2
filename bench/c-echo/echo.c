/* Reference echo server in plain C on libevent bufferevents (the peer the
 * binding is measured against). Usage: c-echo [--port N]; N = 0 (default)
 * picks a free port. Prints "listening <port>" on stdout once accepting. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void on_read(struct bufferevent* bev, void* arg) {
  (void)arg;
  evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
}

static void on_event(struct bufferevent* bev, short events, void* arg) {
  (void)arg;
  if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) bufferevent_free(bev);
}

static void on_accept(struct evconnlistener* listener, evutil_socket_t fd, struct sockaddr* address,
                      int address_length, void* arg) {
  (void)address, (void)address_length, (void)arg;
  struct event_base* base = evconnlistener_get_base(listener);
  struct bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    fprintf(stderr, "c-echo: bufferevent_socket_new failed\n");
    evutil_closesocket(fd);
    return;
  }
  bufferevent_setcb(bev, on_read, NULL, on_event, NULL);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void on_accept_error(struct evconnlistener* listener, void* arg) {
  (void)listener, (void)arg;
  int error_number = EVUTIL_SOCKET_ERROR();
  fprintf(stderr, "c-echo: accept: %s\n", evutil_socket_error_to_string(error_number));
}

static void on_signal(evutil_socket_t signal_number, short what, void* arg) {
  (void)signal_number, (void)what;
  event_base_loopexit(arg, NULL);
}

static int parse_port(int argc, char** argv) {
  if (argc == 1) return 0;
  char* end;
  long port = argc == 3 && strcmp(argv[1], "--port") == 0 ? strtol(argv[2], &end, 10) : -1;
  if (port < 0 || port > 65535 || *end) {
    fprintf(stderr, "usage: c-echo [--port N]\n");
    exit(64);
  }
  return (int)port;
}

int main(int argc, char** argv) {
  int port = parse_port(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  struct event_base* base = event_base_new();
  if (!base) {
    fprintf(stderr, "c-echo: event_base_new failed\n");
    return 1;
  }
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct evconnlistener* listener =
      evconnlistener_new_bind(base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
                              (struct sockaddr*)&address, sizeof address);
  if (!listener) {
    fprintf(stderr, "c-echo: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
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
