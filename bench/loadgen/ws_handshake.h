/* The upgrade handshake of the load generator's WebSocket client: the request
 * (with the permessage-deflate offer under --deflate) and the check of the
 * server's answer: 101, Sec-WebSocket-Accept, and the extensions agreed. */
#ifndef LOADGEN_WS_HANDSHAKE_H
#define LOADGEN_WS_HANDSHAKE_H

#include <stddef.h>

#include "ws_client.h"

/* Appends the upgrade request to the connection's output. */
void ws_handshake_write_request(struct ws_connection* conn);

/* Checks the response head `head` (NUL-terminated, ending in an empty line).
 * Returns 0 when it accepts the upgrade (conn->deflate set when
 * permessage-deflate was agreed), or -1 after writing into `why` why the
 * server refused it (not a 101). An answer that breaks the protocol (a wrong
 * Sec-WebSocket-Accept, an extension not offered or not acceptable, or none
 * when --deflate requires one) fails the run through loadgen_fail. */
int ws_handshake_check_response(struct ws_connection* conn, const char* head, char* why,
                                size_t why_size);

#endif
