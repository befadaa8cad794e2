// SHA-1 (FIPS 180-4) for the opening handshake's Sec-WebSocket-Accept, which RFC 6455 defines with
// it. Not for anything that needs a secure hash.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace node_bufferevent::ws {

using Sha1Digest = std::array<uint8_t, 20>;

// The digest of the concatenation first + second (the handshake hashes key + GUID).
Sha1Digest Sha1(const uint8_t* first, size_t first_length, const uint8_t* second,
                size_t second_length);

}  // namespace node_bufferevent::ws
