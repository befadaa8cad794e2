/* UTF-8 validation for text messages and close reasons (RFC 6455 section
 * 8.1: invalid UTF-8 in either fails the connection with 1007). */
#ifndef C_WS_UTF8_H
#define C_WS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Whether `length` bytes are well-formed UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF). */
int utf8_valid(const uint8_t* data, size_t length);

#endif
