/* The upgrade handshake of the load generator's WebSocket client: the request
 * (with the permessage-deflate offer under --deflate) and the check of the
 * server's answer: 101, Upgrade and Connection, Sec-WebSocket-Accept against
 * the connection's own key, and the extensions agreed. */
#ifndef LOADGEN_WS_HANDSHAKE_H
#define LOADGEN_WS_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "ws_client.h"

/* Room for one upgrade request: the head with a long path and the deflate
 * offer. */
#define WS_HANDSHAKE_MAX_REQUEST 1024

/* Chooses the random key of connection `id` and computes the
 * Sec-WebSocket-Accept it asks for, into conn->key and conn->expected_accept.
 * ws_handshake_request does it when it was not done; a workload that times
 * its handshakes calls it for every connection before it starts the clock. */
void ws_handshake_prepare(struct ws_connection* conn, uint32_t id);

/* Writes the upgrade request into `request` (WS_HANDSHAKE_MAX_REQUEST bytes)
 * and returns its length: the connection's path, Host and offer come from a
 * head formatted once per path and port, with the connection's key patched
 * in. */
size_t ws_handshake_request(struct ws_connection* conn, char* request);

/* Checks the response head `head` (NUL-terminated, ending in an empty line).
 * Returns 0 when it accepts the upgrade (conn->deflate set when
 * permessage-deflate was agreed), or -1 after writing into `why` why the
 * server refused it (not a 101). An answer that breaks the protocol (no
 * Upgrade: websocket or Connection: Upgrade, a wrong Sec-WebSocket-Accept, an
 * extension not offered or not acceptable, or none when --deflate requires
 * one) fails the run through loadgen_fail. */
int ws_handshake_check_response(struct ws_connection* conn, const char* head, char* why,
                                size_t why_size);

#endif
