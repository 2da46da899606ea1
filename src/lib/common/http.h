/* A small HTTP/1.x request parser, for the parts of runf that must look at
 * requests: runfd's listeners (the request line, peeked, never consumed),
 * its admin API, and the stdio shim.  It works on a buffer the caller
 * fills; nothing here reads or allocates. */
#ifndef RF_HTTP_H
#define RF_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum
{
  RF_HTTP_INCOMPLETE = 0,
  RF_HTTP_BAD = -400,      /* malformed */
  RF_HTTP_URI_LONG = -414, /* the request line is longer than allowed */
  RF_HTTP_HEAD_LONG = -431 /* the headers are */
};

#define RF_HTTP_MAX_HEADERS 64

typedef struct
{
  const char *name, *value;
  size_t name_len, value_len;
} rf_http_header_t;

typedef struct
{
  const char *method, *target;
  size_t method_len, target_len;
  int minor_version;
  rf_http_header_t headers[RF_HTTP_MAX_HEADERS];
  size_t n_headers;
  int64_t content_length; /* -1: none given */
  bool chunked;
  bool keep_alive;
  bool upgrade; /* an Upgrade header */
} rf_http_request_t;

typedef struct
{
  int status;
  int minor_version;
  rf_http_header_t headers[RF_HTTP_MAX_HEADERS];
  size_t n_headers;
  int64_t content_length; /* -1: none given */
  bool chunked;
  bool keep_alive;
  bool upgrade;
} rf_http_response_t;

/* The request line alone: its length with the CRLF when complete,
   RF_HTTP_INCOMPLETE, or an RF_HTTP_* error.  max bounds the line. */
long rf_http_parse_request_line (const char *buf, size_t len, size_t max, rf_http_request_t *req);
/* The request line and headers: the length of the head (through the
   empty line) when complete, or as above; max bounds the whole head. */
long rf_http_parse_head (const char *buf, size_t len, size_t max, rf_http_request_t *req);
/* A response's status line and headers, as rf_http_parse_head. */
long rf_http_parse_response_head (const char *buf, size_t len, size_t max, rf_http_response_t *res);
/* A header's value (case-insensitive name), or NULL. */
const char *rf_http_header (const rf_http_request_t *req, const char *name, size_t *len);
const char *rf_http_reason (int status);
/* "HTTP/1.1 <status> <reason>" with Content-Type, Content-Length and
   Connection: close, then the body: into buf, returning the length (or
   what it would need, as snprintf). */
int rf_http_format_response (char *buf, size_t size, int status, const char *content_type,
                             const char *body, size_t body_len);
/* The target's path without the query, and whether it starts with prefix
   as a whole segment ("/function/x" matches "/function/x/y", not "/function/xy"). */
bool rf_http_path_has_prefix (const char *target, size_t len, const char *prefix);

/* Chunked transfer coding, decoded in place as data arrives: feed bytes,
   get how many decoded body bytes were written at the start of buf, or
   RF_HTTP_BAD.  *consumed is how much input was used: all of it, unless
   the body ended (done), when the rest belongs to whatever follows.
   Start from a zeroed struct. */
#define RF_HTTP_CHUNK_META_MAX 8192 /* bytes of one size line's extensions; of all trailers */
typedef struct
{
  int state;
  uint64_t left;
  bool done;
  uint32_t meta_len;
} rf_http_chunked_t;
long rf_http_chunked_decode (rf_http_chunked_t *c, char *buf, size_t len, size_t *consumed);

#endif
