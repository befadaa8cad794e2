/* Opening handshake (see handshake.h). RFC 6455 section 4.2.1 lists what a
 * server must find in the request; RFC 9110/9112 give the HTTP syntax. */
#include "handshake.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sha1.h"

static const char websocket_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static int is_token_char(unsigned char c) {
  return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static char* trim(char* text) {
  while (*text == ' ' || *text == '\t') text++;
  size_t length = strlen(text);
  while (length > 0 && (text[length - 1] == ' ' || text[length - 1] == '\t')) text[--length] = '\0';
  return text;
}

/* Whether the comma-separated list `value` holds `token` (case-insensitive),
 * as the Upgrade and Connection headers must. */
static int list_has_token(const char* value, const char* token) {
  size_t token_length = strlen(token);
  const char* item = value;
  while (*item) {
    while (*item == ' ' || *item == '\t' || *item == ',') item++;
    size_t item_length = strcspn(item, ",");
    size_t trimmed = item_length;
    while (trimmed > 0 && (item[trimmed - 1] == ' ' || item[trimmed - 1] == '\t')) trimmed--;
    if (trimmed == token_length && strncasecmp(item, token, token_length) == 0) return 1;
    item += item_length;
  }
  return 0;
}

/* 24 base64 characters decoding to exactly 16 bytes: 22 of the alphabet, the
 * last of them carrying no bits past the 128th, then "==". */
static int valid_key(const char* key) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (strlen(key) != HANDSHAKE_KEY_LENGTH || strcmp(key + 22, "==") != 0) return 0;
  for (int i = 0; i < 22; i++) {
    const char* at = key[i] ? strchr(alphabet, key[i]) : NULL;
    if (!at) return 0;
    if (i == 21 && ((at - alphabet) & 0x0f) != 0) return 0;
  }
  return 1;
}

/* The request line: "GET <target> HTTP/1.1". Returns 0 or an HTTP status. */
static int parse_request_line(char* line, struct handshake_request* request) {
  char* target = strchr(line, ' ');
  if (!target) return 400;
  *target++ = '\0';
  char* version = strchr(target, ' ');
  if (!version) return 400;
  *version++ = '\0';
  for (const char* c = line; *c; c++)
    if (!is_token_char((unsigned char)*c)) return 400;
  if (strcmp(version, "HTTP/1.1") != 0)
    return 400; /* 4.1: HTTP/1.1 or higher; 2.0 never upgrades */
  if (strcmp(line, "GET") != 0) return 405;
  if (target[0] != '/') return 400;
  size_t path_length = strcspn(target, "?");
  if (path_length >= sizeof request->path) return 400;
  memcpy(request->path, target, path_length);
  request->path[path_length] = '\0';
  return 0;
}

int handshake_parse(char* head, size_t length, struct handshake_request* request) {
  if (length > HANDSHAKE_MAX_HEAD) return 431;
  if (memchr(head, '\0', length)) return 400;
  head[length - 2] = '\0'; /* drop the empty line's CRLF: lines end in "\r\n" */
  char* line = head;
  char* end = strstr(line, "\r\n");
  if (!end) return 400;
  *end = '\0';
  int status = parse_request_line(line, request);
  if (status) return status;

  int has_host = 0, has_upgrade = 0, has_connection = 0, has_version = 0, key_count = 0;
  for (line = end + 2; *line; line = end + 2) {
    end = strstr(line, "\r\n");
    if (!end) return 400;
    *end = '\0';
    if (*line == ' ' || *line == '\t') return 400; /* obsolete line folding (RFC 9112 5.2) */
    char* colon = strchr(line, ':');
    if (!colon || colon == line) return 400;
    *colon = '\0';
    for (char* c = line; *c; c++) {
      if (!is_token_char((unsigned char)*c)) return 400;
      *c = (char)tolower((unsigned char)*c);
    }
    char* value = trim(colon + 1);
    if (strcmp(line, "host") == 0) {
      has_host = 1;
    } else if (strcmp(line, "upgrade") == 0) {
      has_upgrade |= list_has_token(value, "websocket");
    } else if (strcmp(line, "connection") == 0) {
      has_connection |= list_has_token(value, "upgrade");
    } else if (strcmp(line, "sec-websocket-version") == 0) {
      if (strcmp(value, "13") != 0) return 426;
      has_version = 1;
    } else if (strcmp(line, "sec-websocket-key") == 0) {
      if (++key_count > 1 || !valid_key(value)) return 400;
      memcpy(request->key, value, HANDSHAKE_KEY_LENGTH + 1);
    }
  }
  if (!has_version) return 426;
  if (!has_host || !has_upgrade || !has_connection || key_count != 1) return 400;
  return 0;
}

size_t handshake_accept(const struct handshake_request* request, char* out) {
  uint8_t input[HANDSHAKE_KEY_LENGTH + sizeof websocket_guid - 1];
  memcpy(input, request->key, HANDSHAKE_KEY_LENGTH);
  memcpy(input + HANDSHAKE_KEY_LENGTH, websocket_guid, sizeof websocket_guid - 1);
  uint8_t digest[SHA1_DIGEST_SIZE];
  sha1(input, sizeof input, digest);
  char accept[29];
  base64_encode(digest, sizeof digest, accept);
  int written = snprintf(out, HANDSHAKE_ANSWER_SIZE,
                         "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                         accept);
  return (size_t)written;
}

size_t handshake_refuse(int status, char* out) {
  const char* reason = status == 405   ? "Method Not Allowed"
                       : status == 426 ? "Upgrade Required"
                       : status == 431 ? "Request Header Fields Too Large"
                                       : "Bad Request";
  /* 426 names the version this server speaks (4.4). */
  int written = snprintf(out, HANDSHAKE_ANSWER_SIZE,
                         "HTTP/1.1 %d %s\r\n%sConnection: close\r\nContent-Length: 0\r\n\r\n",
                         status, reason, status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "");
  return (size_t)written;
}
