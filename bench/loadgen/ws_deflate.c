/* permessage-deflate for the load generator (see ws_deflate.h), on zlib's raw
 * deflate streams. RFC 7692 sections are cited where a rule is applied. */
#include "ws_deflate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

struct ws_deflate {
  z_stream compressor;
  z_stream decompressor;
  int client_no_context_takeover; /* reset the compressor after each message */
  int server_no_context_takeover; /* the server resets its own: so do we, after each message */
};

/* The empty stored block a sync flush ends with: removed from what is sent,
 * appended to what is received (7.2.1, 7.2.2). */
static const uint8_t flush_tail[4] = {0x00, 0x00, 0xff, 0xff};

/* Inflated bytes go out through this buffer (shared: one connection at a time). */
static uint8_t inflate_buffer[64 * 1024];

/* Compressed messages are built here, grown as needed (shared as above). */
static uint8_t* compress_buffer;
static size_t compress_capacity;

const char* ws_deflate_offer(const struct loadgen_options* options) {
  if (options->deflate_no_context_takeover)
    return "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; "
           "server_no_context_takeover; client_no_context_takeover\r\n";
  return "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
}

/* Parses a window-bits value (8-15, maybe quoted: 7.1.2's token or
 * quoted-string). Returns it, or -1. */
static int window_bits_of(const char* text, size_t length) {
  if (length >= 2 && text[0] == '"' && text[length - 1] == '"') text++, length -= 2;
  if (length == 1 && text[0] >= '8' && text[0] <= '9') return text[0] - '0';
  if (length == 2 && text[0] == '1' && text[1] >= '0' && text[1] <= '5') return 10 + text[1] - '0';
  return -1;
}

static size_t trimmed(const char** text, size_t length) {
  while (length > 0 && (**text == ' ' || **text == '\t')) (*text)++, length--;
  while (length > 0 && ((*text)[length - 1] == ' ' || (*text)[length - 1] == '\t')) length--;
  return length;
}

static int equals(const char* text, size_t length, const char* name) {
  return strlen(name) == length && strncasecmp(text, name, length) == 0;
}

struct agreed {
  int server_no_context_takeover, client_no_context_takeover;
  int server_max_window_bits, client_max_window_bits; /* 0: absent */
};

/* One `name[=value]` parameter of the answer (7.1): each at most once, values
 * in range, client_max_window_bits only because the offer had it. */
static int take_parameter(struct agreed* agreed, const char* text, size_t length, char* why,
                          size_t why_size) {
  const char* equal = memchr(text, '=', length);
  size_t name_length = equal ? (size_t)(equal - text) : length;
  const char* name = text;
  name_length = trimmed(&name, name_length);
  const char* value = equal ? equal + 1 : NULL;
  size_t value_length = equal ? trimmed(&value, length - name_length - 1) : 0;
  int* flag = equals(name, name_length, "server_no_context_takeover")
                  ? &agreed->server_no_context_takeover
              : equals(name, name_length, "client_no_context_takeover")
                  ? &agreed->client_no_context_takeover
                  : NULL;
  int* bits = equals(name, name_length, "server_max_window_bits") ? &agreed->server_max_window_bits
              : equals(name, name_length, "client_max_window_bits")
                  ? &agreed->client_max_window_bits
                  : NULL;
  if (!flag && !bits) {
    snprintf(why, why_size, "unknown permessage-deflate parameter '%.*s'", (int)length, text);
    return -1;
  }
  if ((flag && *flag) || (bits && *bits)) {
    snprintf(why, why_size, "permessage-deflate parameter '%.*s' repeated", (int)name_length, name);
    return -1;
  }
  if (flag) {
    if (value) {
      snprintf(why, why_size, "'%.*s' takes no value", (int)name_length, name);
      return -1;
    }
    *flag = 1;
    return 0;
  }
  *bits = value ? window_bits_of(value, value_length) : -1;
  if (*bits < 0) {
    snprintf(why, why_size, "'%.*s' needs a value in 8-15, got '%.*s'", (int)name_length, name,
             (int)value_length, value ? value : "");
    return -1;
  }
  return 0;
}

struct ws_deflate* ws_deflate_accept(const struct loadgen_options* options, const char* value,
                                     size_t value_length, char* why, size_t why_size) {
  if (!value) {
    snprintf(why, why_size, "the server declined permessage-deflate (no Sec-WebSocket-Extensions)");
    return NULL;
  }
  if (memchr(value, ',', value_length)) {
    snprintf(why, why_size, "the server agreed to more than the one extension offered: '%.*s'",
             (int)value_length, value);
    return NULL;
  }
  const char* end = value + value_length;
  const char* semicolon = memchr(value, ';', value_length);
  const char* name = value;
  size_t name_length = trimmed(&name, (size_t)((semicolon ? semicolon : end) - value));
  if (!equals(name, name_length, "permessage-deflate")) {
    snprintf(why, why_size, "the server agreed to '%.*s', which was not offered", (int)name_length,
             name);
    return NULL;
  }
  struct agreed agreed = {0};
  while (semicolon) {
    const char* parameter = semicolon + 1;
    semicolon = memchr(parameter, ';', (size_t)(end - parameter));
    size_t length = (size_t)((semicolon ? semicolon : end) - parameter);
    if (take_parameter(&agreed, parameter, length, why, why_size) < 0) return NULL;
  }
  /* zlib turns a raw deflate window of 8 bits into 9 (since 1.2.9), which
   * would break the server's limit: refuse what this client cannot honour. */
  if (agreed.client_max_window_bits == 8) {
    snprintf(why, why_size, "client_max_window_bits=8 cannot be honoured with zlib");
    return NULL;
  }

  struct ws_deflate* extension = calloc(1, sizeof *extension);
  if (!extension) {
    snprintf(why, why_size, "out of memory");
    return NULL;
  }
  extension->client_no_context_takeover =
      agreed.client_no_context_takeover || options->deflate_no_context_takeover;
  extension->server_no_context_takeover = agreed.server_no_context_takeover;
  int window_bits = agreed.client_max_window_bits ? agreed.client_max_window_bits : 15;
  /* Negative window bits: raw deflate, no zlib header or trailer (7.2.1). The
   * decompressor takes the largest window, so any window the server used fits. */
  if (deflateInit2(&extension->compressor, options->deflate_level, Z_DEFLATED, -window_bits, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    free(extension);
    snprintf(why, why_size, "zlib: deflateInit2 failed");
    return NULL;
  }
  if (inflateInit2(&extension->decompressor, -15) != Z_OK) {
    deflateEnd(&extension->compressor);
    free(extension);
    snprintf(why, why_size, "zlib: inflateInit2 failed");
    return NULL;
  }
  return extension;
}

void ws_deflate_free(struct ws_deflate* extension) {
  if (!extension) return;
  deflateEnd(&extension->compressor);
  inflateEnd(&extension->decompressor);
  free(extension);
}

static int grow_compress_buffer(size_t capacity) {
  if (capacity <= compress_capacity) return 0;
  uint8_t* grown = realloc(compress_buffer, capacity);
  if (!grown) return -1;
  compress_buffer = grown;
  compress_capacity = capacity;
  return 0;
}

const uint8_t* ws_deflate_compress(struct ws_deflate* extension, const uint8_t* data, size_t length,
                                   size_t* compressed_length, char* why, size_t why_size) {
  z_stream* stream = &extension->compressor;
  if (grow_compress_buffer(deflateBound(stream, length) + 64) < 0) {
    snprintf(why, why_size, "out of memory compressing a %zu-byte message", length);
    return NULL;
  }
  stream->next_in = (Bytef*)data;
  stream->avail_in = (uInt)length;
  size_t produced = 0;
  /* A sync flush is complete once it leaves output space unused. */
  do {
    if (produced == compress_capacity && grow_compress_buffer(2 * compress_capacity) < 0) {
      snprintf(why, why_size, "out of memory compressing a %zu-byte message", length);
      return NULL;
    }
    stream->next_out = compress_buffer + produced;
    stream->avail_out = (uInt)(compress_capacity - produced);
    int status = deflate(stream, Z_SYNC_FLUSH);
    if (status != Z_OK && status != Z_BUF_ERROR) {
      snprintf(why, why_size, "zlib: deflate failed (%d)", status);
      return NULL;
    }
    produced = compress_capacity - stream->avail_out;
  } while (stream->avail_in > 0 || stream->avail_out == 0);
  if (produced < 4 || memcmp(compress_buffer + produced - 4, flush_tail, 4) != 0) {
    snprintf(why, why_size, "zlib: a sync flush did not end in 00 00 ff ff");
    return NULL;
  }
  if (extension->client_no_context_takeover) deflateReset(stream);
  *compressed_length = produced - 4;
  return compress_buffer;
}

static int inflate_into(struct ws_deflate* extension, const uint8_t* data, size_t length,
                        ws_deflate_deliver deliver, void* context, char* why, size_t why_size) {
  z_stream* stream = &extension->decompressor;
  stream->next_in = (Bytef*)data;
  stream->avail_in = (uInt)length;
  do {
    stream->next_out = inflate_buffer;
    stream->avail_out = sizeof inflate_buffer;
    int status = inflate(stream, Z_SYNC_FLUSH);
    size_t produced = sizeof inflate_buffer - stream->avail_out;
    if (produced > 0) deliver(context, inflate_buffer, produced);
    if (status == Z_STREAM_END) {
      /* A final block (BFINAL) ended the stream: the next message starts a new one. */
      inflateReset(stream);
    } else if (status == Z_BUF_ERROR) {
      if (produced == 0) break; /* needs more input: the next frame's bytes */
    } else if (status != Z_OK) {
      snprintf(why, why_size, "invalid compressed data: %s",
               stream->msg ? stream->msg : "zlib inflate failed");
      return -1;
    }
  } while (stream->avail_in > 0 || stream->avail_out == 0);
  return 0;
}

int ws_deflate_feed(struct ws_deflate* extension, const uint8_t* data, size_t length,
                    ws_deflate_deliver deliver, void* context, char* why, size_t why_size) {
  if (length == 0) return 0;
  return inflate_into(extension, data, length, deliver, context, why, why_size);
}

int ws_deflate_end(struct ws_deflate* extension, ws_deflate_deliver deliver, void* context,
                   char* why, size_t why_size) {
  if (inflate_into(extension, flush_tail, sizeof flush_tail, deliver, context, why, why_size) < 0)
    return -1;
  if (extension->server_no_context_takeover) inflateReset(&extension->decompressor);
  return 0;
}
