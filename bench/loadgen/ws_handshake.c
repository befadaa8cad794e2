/* The upgrade handshake of the load generator's WebSocket client (see
 * ws_handshake.h). */
#include "ws_handshake.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ws_deflate.h"

/* The key from RFC 6455 section 1.3 and the accept value it must produce: any
 * fixed key does, the server cannot tell. */
static const char handshake_key[] = "dGhlIHNhbXBsZSBub25jZQ==";
static const char expected_accept[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

void ws_handshake_write_request(struct ws_connection* conn) {
  const struct loadgen_options* options = conn->state->options;
  evbuffer_add_printf(conn->output,
                      "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                      "Sec-WebSocket-Version: 13\r\n%s\r\n",
                      conn->path, options->host, conn->port, handshake_key,
                      options->deflate ? ws_deflate_offer(options) : "");
}

/* The value of header `name` (lower case, with its colon) in the response
 * head, trimmed; NULL when absent. Sets *length. */
static const char* header_value(const char* head, const char* name, size_t* length) {
  size_t name_length = strlen(name);
  for (const char* line = strstr(head, "\r\n"); line; line = strstr(line, "\r\n")) {
    line += 2;
    if (strncasecmp(line, name, name_length) != 0) continue;
    const char* value = line + name_length;
    value += strspn(value, " \t");
    size_t value_length = strcspn(value, "\r\n");
    while (value_length > 0 && (value[value_length - 1] == ' ' || value[value_length - 1] == '\t'))
      value_length--;
    *length = value_length;
    return value;
  }
  return NULL;
}

int ws_handshake_check_response(struct ws_connection* conn, const char* head, char* why,
                                size_t why_size) {
  if (strncmp(head, "HTTP/1.1 101", 12) != 0 || (head[12] != ' ' && head[12] != '\r')) {
    snprintf(why, why_size, "handshake answered '%.*s' (expected HTTP/1.1 101)",
             (int)strcspn(head, "\r\n"), head);
    return -1;
  }
  size_t length;
  const char* accept = header_value(head, "sec-websocket-accept:", &length);
  if (!accept)
    loadgen_fail(conn->state, "connection %u: the 101 answer has no Sec-WebSocket-Accept",
                 conn->id);
  if (length != sizeof expected_accept - 1 || memcmp(accept, expected_accept, length) != 0)
    loadgen_fail(conn->state, "connection %u: Sec-WebSocket-Accept is '%.*s', expected '%s'",
                 conn->id, (int)length, accept, expected_accept);
  const char* extensions = header_value(head, "sec-websocket-extensions:", &length);
  const struct loadgen_options* options = conn->state->options;
  if (!options->deflate) {
    if (extensions) /* RFC 6455 4.1: only extensions the client offered */
      loadgen_fail(conn->state, "connection %u: the server agreed to '%.*s', nothing was offered",
                   conn->id, (int)length, extensions);
    return 0;
  }
  /* A benchmark of compression that silently ran without it would mislead. */
  char refused[200];
  conn->deflate = ws_deflate_accept(options, extensions, length, refused, sizeof refused);
  if (!conn->deflate) loadgen_fail(conn->state, "connection %u: %s", conn->id, refused);
  return 0;
}
