/* RFC 6455 frame basics for the reference server: opcodes, server frame
 * headers, unmasking, close codes. */
#ifndef C_WS_FRAME_H
#define C_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum opcode {
  OP_CONTINUATION = 0,
  OP_TEXT = 1,
  OP_BINARY = 2,
  OP_CLOSE = 8,
  OP_PING = 9,
  OP_PONG = 10,
};

#define MAX_CONTROL_PAYLOAD 125 /* 5.5 */
#define FRAME_ROOM 10           /* the largest server frame header (server frames are unmasked) */

/* Writes the header of an unmasked, final frame into `header` (FRAME_ROOM
 * bytes); returns its length. */
size_t frame_header(uint8_t* header, uint8_t opcode, size_t length);

/* XORs `length` bytes with the frame's 4-byte masking key (5.3). */
void frame_unmask(uint8_t* data, size_t length, const uint8_t mask[4]);

/* Whether a close frame may carry `code` (7.4.1, 7.4.2 and the IANA registry). */
int valid_close_code(int code);

#endif
