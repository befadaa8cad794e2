/* The upgrade handshake of the load generator's WebSocket client (see
 * ws_handshake.h). Every connection sends its own random key (RFC 6455 4.1
 * asks for a fresh one per connection), so a server cannot answer from a
 * cache; the expected accept value is computed with the key, before the
 * request is sent (ws-idle: for every connection before the clock starts). */
#include "ws_handshake.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../c-ws/sha1.h"
#include "ws_deflate.h"

static const char websocket_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* A request head formatted once: everything but the key, which goes at
 * `key_offset`. ws-chat may use two servers, so there can be a few. */
struct request_template {
  const char* path;
  int port;
  size_t length;
  size_t key_offset;
  char bytes[WS_HANDSHAKE_MAX_REQUEST];
};
static struct request_template templates[4];
static int template_count;

static const struct request_template* template_for(const struct ws_connection* conn) {
  for (int i = 0; i < template_count; i++)
    if (templates[i].port == conn->port && strcmp(templates[i].path, conn->path) == 0)
      return &templates[i];
  if (template_count == (int)(sizeof templates / sizeof templates[0]))
    loadgen_fail(conn->state, "more than %d distinct request targets", template_count);
  const struct loadgen_options* options = conn->state->options;
  struct request_template* made = &templates[template_count];
  static const char key_header[] = "\r\nSec-WebSocket-Key: ";
  int length = snprintf(made->bytes, sizeof made->bytes,
                        "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade%s%*s\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                        conn->path, options->host, conn->port, key_header, WS_KEY_LENGTH, "",
                        options->deflate ? ws_deflate_offer(options) : "");
  if (length < 0 || (size_t)length >= sizeof made->bytes)
    loadgen_fail(conn->state, "the upgrade request for path '%s' is too long", conn->path);
  /* The path cannot hold CR LF (it comes from the command line as one line). */
  size_t key_offset = (size_t)(strstr(made->bytes, key_header) - made->bytes) + strlen(key_header);
  made->path = conn->path;
  made->port = conn->port;
  made->length = (size_t)length;
  made->key_offset = key_offset;
  template_count++;
  return made;
}

/* 16 bytes for a key: xorshift64 seeded per process and per connection, so
 * no two connections of a run share a key. */
static void random_key_bytes(uint32_t id, uint8_t bytes[16]) {
  static uint64_t process_seed;
  if (!process_seed)
    process_seed = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ 0x9e3779b97f4a7c15ull;
  uint64_t x = process_seed ^ (0xbf58476d1ce4e5b9ull * (id + 1u));
  for (int half = 0; half < 2; half++) {
    for (int round = 0; round < 3; round++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
    memcpy(bytes + 8 * half, &x, 8);
  }
}

void ws_handshake_prepare(struct ws_connection* conn, uint32_t id) {
  uint8_t key_bytes[16];
  random_key_bytes(id, key_bytes);
  base64_encode(key_bytes, sizeof key_bytes, conn->key);
  uint8_t input[WS_KEY_LENGTH + sizeof websocket_guid - 1];
  memcpy(input, conn->key, WS_KEY_LENGTH);
  memcpy(input + WS_KEY_LENGTH, websocket_guid, sizeof websocket_guid - 1);
  uint8_t digest[SHA1_DIGEST_SIZE];
  sha1(input, sizeof input, digest);
  base64_encode(digest, sizeof digest, conn->expected_accept);
}

size_t ws_handshake_request(struct ws_connection* conn, char* request) {
  const struct request_template* made = template_for(conn);
  if (!conn->key[0]) ws_handshake_prepare(conn, conn->id);
  memcpy(request, made->bytes, made->length);
  memcpy(request + made->key_offset, conn->key, WS_KEY_LENGTH);
  return made->length;
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

/* Whether the comma-separated `value` (`length` bytes) holds `token`,
 * case-insensitively, as Upgrade and Connection must (RFC 6455 4.1). */
static int list_has_token(const char* value, size_t length, const char* token) {
  size_t token_length = strlen(token);
  const char* end = value + length;
  while (value < end) {
    while (value < end && (*value == ' ' || *value == '\t' || *value == ',')) value++;
    const char* item_end = value;
    while (item_end < end && *item_end != ',') item_end++;
    const char* trimmed = item_end;
    while (trimmed > value && (trimmed[-1] == ' ' || trimmed[-1] == '\t')) trimmed--;
    if ((size_t)(trimmed - value) == token_length && strncasecmp(value, token, token_length) == 0)
      return 1;
    value = item_end;
  }
  return 0;
}

int ws_handshake_check_response(struct ws_connection* conn, const char* head, char* why,
                                size_t why_size) {
  if (strncmp(head, "HTTP/1.1 101", 12) != 0 || (head[12] != ' ' && head[12] != '\r')) {
    snprintf(why, why_size, "handshake answered '%.*s' (expected HTTP/1.1 101)",
             (int)strcspn(head, "\r\n"), head);
    return -1;
  }
  size_t length;
  const char* upgrade = header_value(head, "upgrade:", &length);
  if (!upgrade || !list_has_token(upgrade, length, "websocket"))
    loadgen_fail(conn->state, "connection %u: the 101 answer has no 'Upgrade: websocket'",
                 conn->id);
  const char* connection = header_value(head, "connection:", &length);
  if (!connection || !list_has_token(connection, length, "upgrade"))
    loadgen_fail(conn->state, "connection %u: the 101 answer has no 'Connection: Upgrade'",
                 conn->id);
  const char* accept = header_value(head, "sec-websocket-accept:", &length);
  if (!accept)
    loadgen_fail(conn->state, "connection %u: the 101 answer has no Sec-WebSocket-Accept",
                 conn->id);
  if (length != WS_ACCEPT_LENGTH || memcmp(accept, conn->expected_accept, length) != 0)
    loadgen_fail(conn->state, "connection %u: Sec-WebSocket-Accept is '%.*s', expected '%s'",
                 conn->id, (int)length, accept, conn->expected_accept);
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
