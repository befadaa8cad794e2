/* The server side of the WebSocket opening handshake (RFC 6455 section 4.2):
 * parsing the HTTP/1.1 upgrade request head and writing the answer. */
#ifndef C_WS_HANDSHAKE_H
#define C_WS_HANDSHAKE_H

#include <stddef.h>

/* A request head longer than this is refused with 431. */
#define HANDSHAKE_MAX_HEAD 8192
#define HANDSHAKE_MAX_PATH 256
#define HANDSHAKE_KEY_LENGTH 24 /* base64 of the 16 random bytes (4.1) */

struct handshake_request {
  char path[HANDSHAKE_MAX_PATH]; /* the request target without its query string */
  char key[HANDSHAKE_KEY_LENGTH + 1];
};

/* Parses `head` (the request line and header lines, `length` bytes, ending in
 * the empty line). Returns 0 for an acceptable upgrade request, with `request`
 * filled in; otherwise the HTTP status to refuse it with (400, 405, 426, 431).
 * `head` is modified (lower-cased header names). */
int handshake_parse(char* head, size_t length, struct handshake_request* request);

/* The 101 answer for `request` into `out` (at least HANDSHAKE_ANSWER_SIZE
 * bytes); returns its length. */
#define HANDSHAKE_ANSWER_SIZE 160
size_t handshake_accept(const struct handshake_request* request, char* out);

/* A refusal with `status`, asking the client to close; returns its length.
 * `out` must hold HANDSHAKE_ANSWER_SIZE bytes. */
size_t handshake_refuse(int status, char* out);

#endif
