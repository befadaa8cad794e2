/* SHA-1 and base64, just enough for Sec-WebSocket-Accept (RFC 6455 section
 * 4.2.2): the reference server takes no OpenSSL dependency. SHA-1 is used here
 * only because the handshake prescribes it, not for any security property. */
#ifndef C_WS_SHA1_H
#define C_WS_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_SIZE 20

/* One-shot digest of `length` bytes (FIPS 180-4 section 6.1). */
void sha1(const uint8_t* data, size_t length, uint8_t digest[SHA1_DIGEST_SIZE]);

/* Standard base64 with padding (RFC 4648 section 4) of `length` bytes into
 * `out`, which must hold 4 * ((length + 2) / 3) + 1 bytes; NUL-terminated.
 * Returns the number of characters written (without the NUL). */
size_t base64_encode(const uint8_t* data, size_t length, char* out);

#endif
