/* permessage-deflate (RFC 7692) for the load generator's WebSocket client:
 * the offer in the upgrade request, the check of the server's answer, and one
 * connection's compressor (what it sends) and decompressor (what it receives).
 * Used only with --deflate; without it no connection has a ws_deflate. */
#ifndef LOADGEN_WS_DEFLATE_H
#define LOADGEN_WS_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "loadgen.h"

struct ws_deflate;

/* The Sec-WebSocket-Extensions header line (with its CRLF) the upgrade request
 * carries: permessage-deflate with client_max_window_bits, and with
 * --deflate-no-context-takeover both no_context_takeover parameters. */
const char* ws_deflate_offer(const struct loadgen_options* options);

/* Checks the server's Sec-WebSocket-Extensions value (NULL: the header was
 * absent) against the offer and, when it agrees to permessage-deflate with
 * parameters this client can honour, returns the connection's state. Returns
 * NULL and writes why into `why` (`why_size` bytes) otherwise: declined, an
 * extension or parameter not offered, a malformed or repeated parameter. */
struct ws_deflate* ws_deflate_accept(const struct loadgen_options* options, const char* value,
                                     size_t value_length, char* why, size_t why_size);

/* Frees the zlib streams (a connection that will send and receive no more
 * messages) and the state; NULL is ignored. */
void ws_deflate_free(struct ws_deflate* extension);

/* Compresses one whole message: the raw deflate stream flushed with
 * Z_SYNC_FLUSH, its final 00 00 ff ff removed (RFC 7692 7.2.1), the context
 * kept for the next message unless client_no_context_takeover was agreed.
 * Returns the bytes (valid until the next call on any connection) and sets
 * *compressed_length; NULL after writing why into `why` when zlib failed. */
const uint8_t* ws_deflate_compress(struct ws_deflate* extension, const uint8_t* data, size_t length,
                                   size_t* compressed_length, char* why, size_t why_size);

/* Receives a compressed message (RSV1 on its first frame): feed every payload
 * byte of its frames in order, then call end after its last frame.
 * Inflated bytes go to `deliver(context, bytes, length)` as they come out, in
 * pieces of any size. feed and end return 0, or -1 after writing why into `why`
 * (invalid compressed data). */
typedef void (*ws_deflate_deliver)(void* context, const uint8_t* data, size_t length);
int ws_deflate_feed(struct ws_deflate* extension, const uint8_t* data, size_t length,
                    ws_deflate_deliver deliver, void* context, char* why, size_t why_size);
int ws_deflate_end(struct ws_deflate* extension, ws_deflate_deliver deliver, void* context,
                   char* why, size_t why_size);

#endif
