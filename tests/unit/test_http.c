/* The HTTP/1.x request parser (src/lib/common/http.c): well-formed
 * requests, incremental input, and hostile input of every kind the
 * listeners and the stdio shim can meet. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/http.h"

#define HEAD_MAX 16384

static long
head (const char *text, rf_http_request_t *req)
{
  return rf_http_parse_head (text, strlen (text), HEAD_MAX, req);
}

static void
assert_mem (const char *p, size_t len, const char *want)
{
  assert_int_equal (len, strlen (want));
  assert_memory_equal (p, want, len);
}

static void
test_simple_get (void **state)
{
  const char *r = "GET /function/hello/x?y=1 HTTP/1.1\r\nHost: a\r\nX-Thing:  v  \r\n\r\nBODY";
  rf_http_request_t req;
  size_t len;
  const char *v;

  assert_int_equal (head (r, &req), (long) (strstr (r, "BODY") - r));
  assert_mem (req.method, req.method_len, "GET");
  assert_mem (req.target, req.target_len, "/function/hello/x?y=1");
  assert_int_equal (req.minor_version, 1);
  assert_int_equal (req.n_headers, 2);
  assert_int_equal (req.content_length, -1);
  assert_false (req.chunked);
  assert_true (req.keep_alive);
  v = rf_http_header (&req, "x-thing", &len);
  assert_non_null (v);
  assert_mem (v, len, "v");
  assert_null (rf_http_header (&req, "X-Other", NULL));
}

static void
test_bare_lf_and_http10 (void **state)
{
  rf_http_request_t req;
  const char *r = "POST / HTTP/1.0\nContent-Length: 5\n\nhello";

  assert_int_equal (head (r, &req), (long) strlen (r) - 5);
  assert_int_equal (req.minor_version, 0);
  assert_int_equal (req.content_length, 5);
  assert_false (req.keep_alive);
  assert_true (head ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &req) > 0);
  assert_true (req.keep_alive);
  assert_true (head ("GET / HTTP/1.1\r\nConnection: foo, Close\r\n\r\n", &req) > 0);
  assert_false (req.keep_alive);
}

/* Every prefix of a request is incomplete, never an error. */
static void
test_incremental (void **state)
{
  const char *r = "PUT /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  rf_http_request_t req;
  size_t n = strlen (r);

  for (size_t i = 0; i < n; i++)
    {
      char *copy = malloc (i + 1);
      memcpy (copy, r, i);
      assert_int_equal (rf_http_parse_head (copy, i, HEAD_MAX, &req), RF_HTTP_INCOMPLETE);
      free (copy);
    }
  assert_int_equal (rf_http_parse_head (r, n, HEAD_MAX, &req), (long) n);
  assert_true (req.chunked);
}

static void
test_request_line_errors (void **state)
{
  static const char *bad[] = {
    "GET /\r\n\r\n",                     /* HTTP/0.9 */
    " GET / HTTP/1.1\r\n\r\n",           /* leading space */
    "GET  / HTTP/1.1\r\n\r\n",           /* empty target */
    "GET / HTTP/1.1 \r\n\r\n",           /* trailing space */
    "GET / HTTP/2.0\r\n\r\n",
    "GET / HTTP/1.2\r\n\r\n",
    "GET / http/1.1\r\n\r\n",
    "G(T / HTTP/1.1\r\n\r\n",            /* not a token */
    "GET /a b HTTP/1.1\r\n\r\n",         /* space in the target */
    "GET /a\tb HTTP/1.1\r\n\r\n",
    "GET /a\x7f HTTP/1.1\r\n\r\n",
    "GET /\r HTTP/1.1\r\n\r\n",
    "\r\n",
    "GET / HTTP/1.1\r\r\n\r\n",          /* CR CR LF */
  };
  rf_http_request_t req;

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      long r = head (bad[i], &req);
      if (r != RF_HTTP_BAD)
        fail_msg ("case %zu: got %ld", i, r);
    }
  /* A NUL in the method or target. */
  assert_int_equal (rf_http_parse_head ("G\0T / HTTP/1.1\r\n\r\n", 18, HEAD_MAX, &req), RF_HTTP_BAD);
  assert_int_equal (rf_http_parse_head ("GET /\0 HTTP/1.1\r\n\r\n", 19, HEAD_MAX, &req), RF_HTTP_BAD);
}

static void
test_overlong (void **state)
{
  rf_http_request_t req;
  size_t big = 100000;
  char *buf = malloc (big);

  /* A request line longer than the bound, with or without its end. */
  memcpy (buf, "GET /", 5);
  memset (buf + 5, 'a', big - 5);
  assert_int_equal (rf_http_parse_request_line (buf, big, 8192, &req), RF_HTTP_URI_LONG);
  assert_int_equal (rf_http_parse_head (buf, big, HEAD_MAX, &req), RF_HTTP_URI_LONG);
  memcpy (buf + 9000, " HTTP/1.1\r\n\r\n", 13);
  assert_int_equal (rf_http_parse_request_line (buf, big, 8192, &req), RF_HTTP_URI_LONG);
  /* Below the bound it is only incomplete. */
  assert_int_equal (rf_http_parse_request_line (buf, 100, 8192, &req), RF_HTTP_INCOMPLETE);

  /* One endless header, and many small ones. */
  memcpy (buf, "GET / HTTP/1.1\r\nX: ", 19);
  memset (buf + 19, 'v', big - 19);
  assert_int_equal (rf_http_parse_head (buf, big, HEAD_MAX, &req), RF_HTTP_HEAD_LONG);
  assert_int_equal (rf_http_parse_head (buf, 1000, HEAD_MAX, &req), RF_HTTP_INCOMPLETE);
  {
    size_t off = (size_t) sprintf (buf, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < RF_HTTP_MAX_HEADERS; i++)
      off += (size_t) sprintf (buf + off, "H%d: v\r\n", i);
    off += (size_t) sprintf (buf + off, "\r\n");
    assert_int_equal (rf_http_parse_head (buf, off, HEAD_MAX, &req), (long) off);
    assert_int_equal (req.n_headers, RF_HTTP_MAX_HEADERS);
    off -= 2;
    off += (size_t) sprintf (buf + off, "One-Too-Many: v\r\n\r\n");
    assert_int_equal (rf_http_parse_head (buf, off, HEAD_MAX, &req), RF_HTTP_HEAD_LONG);
  }
  /* A complete head that is exactly the bound fits. */
  {
    size_t n = (size_t) sprintf (buf, "GET / HTTP/1.1\r\nX: ");
    size_t fill = 200 - n - 4;
    memset (buf + n, 'v', fill);
    memcpy (buf + n + fill, "\r\n\r\n", 4);
    assert_int_equal (rf_http_parse_head (buf, 200, 200, &req), 200);
    assert_int_equal (rf_http_parse_head (buf, 200, 199, &req), RF_HTTP_HEAD_LONG);
  }
  free (buf);
}

static void
test_bad_headers (void **state)
{
  static const char *bad[] = {
    "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
    "GET / HTTP/1.1\r\n: empty name\r\n\r\n",
    "GET / HTTP/1.1\r\nSpace Name: v\r\n\r\n",
    "GET / HTTP/1.1\r\nName : v\r\n\r\n",         /* whitespace before the colon */
    "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", /* obsolete line folding */
    "GET / HTTP/1.1\r\n\tTab: v\r\n\r\n",
    "GET / HTTP/1.1\r\nN(ame: v\r\n\r\n",
    "GET / HTTP/1.1\r\nName: a\rb\r\n\r\n",      /* bare CR in a value */
    "GET / HTTP/1.1\r\nName: a\x01\r\n\r\n",
    "GET / HTTP/1.1\r\nName: v\r\r\n\r\n",
  };
  rf_http_request_t req;

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      long r = head (bad[i], &req);
      if (r != RF_HTTP_BAD)
        fail_msg ("case %zu: got %ld", i, r);
    }
  assert_int_equal (rf_http_parse_head ("GET / HTTP/1.1\r\nA: x\0y\r\n\r\n", 26, HEAD_MAX, &req),
                    RF_HTTP_BAD);
  assert_int_equal (rf_http_parse_head ("GET / HTTP/1.1\r\nA\0: x\r\n\r\n", 25, HEAD_MAX, &req),
                    RF_HTTP_BAD);
  /* Bytes past 0x7f are obs-text: allowed in values. */
  assert_true (head ("GET / HTTP/1.1\r\nName: caf\xc3\xa9\r\nEmpty:\r\n\r\n", &req) > 0);
  assert_int_equal (req.headers[1].value_len, 0);
}

static void
test_content_length (void **state)
{
  static const char *bad[] = {
    "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: 9999999999999999999\r\n\r\n", /* overflows int64 */
    "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
  };
  rf_http_request_t req;

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      long r = head (bad[i], &req);
      if (r != RF_HTTP_BAD)
        fail_msg ("case %zu: got %ld", i, r);
    }
  /* The same length twice is one length. */
  assert_true (head ("POST / HTTP/1.1\r\ncontent-length: 7\r\nCONTENT-LENGTH: 007\r\n\r\n", &req) > 0);
  assert_int_equal (req.content_length, 7);
  assert_true (head ("POST / HTTP/1.1\r\nContent-Length: 999999999999999999\r\n\r\n", &req) > 0);
  assert_int_equal (req.content_length, 999999999999999999LL);
}

static void
test_transfer_encoding (void **state)
{
  static const char *bad[] = {
    "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    /* chunked must be the last coding, or the body has no end. */
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
    /* Codings the parser does not decode are not passed off as chunked. */
    "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked;q=1\r\n\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n",
  };
  rf_http_request_t req;

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      long r = head (bad[i], &req);
      if (r != RF_HTTP_BAD)
        fail_msg ("case %zu: got %ld", i, r);
    }
  assert_true (head ("POST / HTTP/1.1\r\ntransfer-encoding:  Chunked \r\n\r\n", &req) > 0);
  assert_true (req.chunked);
}

/* Decode a whole chunked body fed in pieces of `step` bytes; returns the
   decoded length or the error, and how much of the input was used. */
static long
decode_in_steps (const char *in, size_t len, size_t step, char *out, size_t *used)
{
  rf_http_chunked_t c;
  char *buf = malloc (len + 1);
  size_t off = 0, total = 0;

  memset (&c, 0, sizeof c);
  memcpy (buf, in, len);
  while (off < len && !c.done)
    {
      size_t n = len - off < step ? len - off : step, consumed = 0;
      long got = rf_http_chunked_decode (&c, buf + off, n, &consumed);
      if (got < 0)
        {
          free (buf);
          return got;
        }
      assert_true (consumed <= n);
      memcpy (out + total, buf + off, (size_t) got);
      total += (size_t) got;
      off += consumed;
      if (consumed < n)
        assert_true (c.done);
    }
  free (buf);
  *used = off;
  return c.done ? (long) total : RF_HTTP_INCOMPLETE;
}

static void
test_chunked_ok (void **state)
{
  static const char body[] = "4\r\nWiki\r\n5;name=value\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
                             "0\r\nTrailer: x\r\n\r\nNEXT";
  char out[64];
  size_t used;

  for (size_t step = 1; step <= sizeof body; step++)
    {
      long n = decode_in_steps (body, sizeof body - 1, step, out, &used);
      assert_int_equal (n, 23);
      assert_memory_equal (out, "Wikipedia in\r\n\r\nchunks.", 23);
      assert_int_equal (used, sizeof body - 1 - 4);
    }
  /* Upper-case hex, leading zeros, bare LF line ends, no trailer. */
  assert_int_equal (decode_in_steps ("0A\n0123456789\n000\n\n", 19, 3, out, &used), 10);
  assert_int_equal (decode_in_steps ("0\r\n\r\n", 5, 1, out, &used), 0);
  /* Extensions with whitespace before the semicolon. */
  assert_int_equal (decode_in_steps ("1 ; a=b\r\nx\r\n0\r\n\r\n", 17, 2, out, &used), 1);
}

static void
test_chunked_bad (void **state)
{
  static const char *bad[] = {
    "\r\n\r\n",                          /* a size line without a size is not the last chunk */
    "\r\nx\r\n0\r\n\r\n",
    ";ext\r\n\r\n",
    "g\r\n",
    "-1\r\n",
    " 1\r\nx\r\n0\r\n\r\n",
    "1\r\nxx\r\n",                       /* the data is longer than its size */
    "1\r\nx\rX",
    "1\rX",
    "11111111111111111\r\n",            /* 2^64 and more */
    "1;a\rb\r\nx\r\n0\r\n\r\n",          /* a bare CR in an extension */
    "1;a\x01\r\nx\r\n0\r\n\r\n",
    "0\r\n\rX",                          /* CR without LF ending the trailer */
    "0\r\nT: v\r\n\r\r\n",
  };
  char out[64];
  size_t used;

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    for (size_t step = 1; step <= 4; step += 3)
      {
        long r = decode_in_steps (bad[i], strlen (bad[i]), step, out, &used);
        if (r != RF_HTTP_BAD)
          fail_msg ("case %zu (step %zu): got %ld", i, step, r);
      }
  /* The biggest size that fits is only incomplete. */
  assert_int_equal (decode_in_steps ("FFFFFFFFFFFFFFF\r\nabc", 20, 5, out, &used), RF_HTTP_INCOMPLETE);
}

/* Endless extensions or trailers are refused, not consumed forever. */
static void
test_chunked_bounded (void **state)
{
  size_t big = 200000;
  char *buf = malloc (big), out[8];
  size_t used;

  memcpy (buf, "1;", 2);
  memset (buf + 2, 'e', big - 2);
  assert_int_equal (decode_in_steps (buf, big, 4096, out, &used), RF_HTTP_BAD);
  {
    size_t end = 3;
    memcpy (buf, "0\r\n", 3);
    for (; end + 5 <= big; end += 5)
      memcpy (buf + end, "T:v\r\n", 5);
    assert_int_equal (decode_in_steps (buf, end, 4096, out, &used), RF_HTTP_BAD);
  }
  free (buf);
}

static void
test_response_and_prefix (void **state)
{
  char buf[256];
  int n = rf_http_format_response (buf, sizeof buf, 404, "text/plain", "nope\n", 5);

  assert_string_equal (buf, "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
                            "Connection: close\r\n\r\nnope\n");
  assert_int_equal (n, (int) strlen (buf));
  /* Too small: the length it needs, as snprintf. */
  assert_int_equal (rf_http_format_response (buf, 10, 404, "text/plain", "nope\n", 5), n);
  n = rf_http_format_response (buf, sizeof buf, 204, "text/plain", NULL, 0);
  assert_int_equal (n, (int) strlen (buf));
  assert_string_equal (rf_http_reason (431), "Request Header Fields Too Large");
  assert_string_equal (rf_http_reason (599), "Unknown");

  assert_true (rf_http_path_has_prefix ("/function/x", 11, "/function/x"));
  assert_true (rf_http_path_has_prefix ("/function/x/y", 13, "/function/x"));
  assert_true (rf_http_path_has_prefix ("/function/x?q=/", 15, "/function/x"));
  assert_false (rf_http_path_has_prefix ("/function/xy", 12, "/function/x"));
  assert_false (rf_http_path_has_prefix ("/function?/x", 12, "/function/x"));
  assert_false (rf_http_path_has_prefix ("/func", 5, "/function/x"));
  /* Only len bytes count. */
  assert_false (rf_http_path_has_prefix ("/function/x", 10, "/function/x"));
}

static long
response (const char *text, rf_http_response_t *res)
{
  return rf_http_parse_response_head (text, strlen (text), 65536, res);
}

/* The answers the gateway's relay follows to their end. */
static void
test_response_head (void **state)
{
  rf_http_response_t res;
  const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  assert_int_equal (response (ok, &res), (long) strlen (ok) - 5);
  assert_int_equal (res.status, 200);
  assert_int_equal (res.content_length, 5);
  assert_true (res.keep_alive);
  assert_false (res.chunked);

  assert_true (response ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", &res) > 0);
  assert_true (res.chunked);
  assert_int_equal (res.content_length, -1);
  assert_true (response ("HTTP/1.0 200 OK\r\n\r\n", &res) > 0);
  assert_false (res.keep_alive);
  assert_true (response ("HTTP/1.1 204\r\nConnection: close\r\n\r\n", &res) > 0);
  assert_int_equal (res.status, 204);
  assert_false (res.keep_alive);
  assert_true (response ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", &res) > 0);
  assert_true (res.upgrade);
  assert_int_equal (response ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", &res), RF_HTTP_INCOMPLETE);
  assert_int_equal (response ("HTTP/1.1 200", &res), RF_HTTP_INCOMPLETE);
  /* Malformed: what the relay must not guess an end for. */
  assert_int_equal (response ("HTTP/2 200 OK\r\n\r\n", &res), RF_HTTP_BAD);
  assert_int_equal (response ("HTTP/1.1 20 OK\r\n\r\n", &res), RF_HTTP_BAD);
  assert_int_equal (response ("HTTP/1.1 600 OK\r\n\r\n", &res), RF_HTTP_BAD);
  assert_int_equal (response ("HTTP/1.1 200OK\r\n\r\n", &res), RF_HTTP_BAD);
  assert_int_equal (response ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", &res),
                    RF_HTTP_BAD);
  assert_int_equal (response ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", &res), RF_HTTP_BAD);
  assert_int_equal (response ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n", &res),
                    RF_HTTP_BAD);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_simple_get),
    cmocka_unit_test (test_bare_lf_and_http10),
    cmocka_unit_test (test_incremental),
    cmocka_unit_test (test_request_line_errors),
    cmocka_unit_test (test_overlong),
    cmocka_unit_test (test_bad_headers),
    cmocka_unit_test (test_content_length),
    cmocka_unit_test (test_transfer_encoding),
    cmocka_unit_test (test_chunked_ok),
    cmocka_unit_test (test_chunked_bad),
    cmocka_unit_test (test_chunked_bounded),
    cmocka_unit_test (test_response_and_prefix),
    cmocka_unit_test (test_response_head),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
