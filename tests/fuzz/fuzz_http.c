/* libFuzzer target: the HTTP request parser and the chunked decoder.
 * Besides memory safety it checks that what the parser reports lies inside
 * the input, that feeding the input byte by byte gives the same answer as
 * all at once, and that the decoder agrees with itself however the body
 * is split. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/http.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_inside (const char *buf, size_t len, const char *p, size_t n)
{
  if (n && (p < buf || p + n > buf + len))
    abort ();
}

/* Decode the whole of buf in pieces of step bytes: decoded length, or the
   error; *used is the input taken. */
static long
decode (const char *in, size_t len, size_t step, char *out, size_t *used)
{
  rf_http_chunked_t c;
  char *buf = malloc (len ? len : 1);
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
      if (consumed > n || (size_t) got > consumed || (consumed < n && !c.done))
        abort ();
      memcpy (out + total, buf + off, (size_t) got);
      total += (size_t) got;
      off += consumed;
    }
  free (buf);
  *used = off;
  return c.done ? (long) total : RF_HTTP_INCOMPLETE - 1000 - (long) total;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *buf = (const char *) data;
  rf_http_request_t req, again;
  size_t max = size > 0 ? 64 + data[0] * 64u : 64;
  long r = rf_http_parse_head (buf, size, max, &req);

  if (r > 0)
    {
      if ((size_t) r > size || (size_t) r > max)
        abort ();
      check_inside (buf, (size_t) r, req.method, req.method_len);
      check_inside (buf, (size_t) r, req.target, req.target_len);
      for (size_t i = 0; i < req.n_headers; i++)
        {
          check_inside (buf, (size_t) r, req.headers[i].name, req.headers[i].name_len);
          check_inside (buf, (size_t) r, req.headers[i].value, req.headers[i].value_len);
        }
      if (req.chunked && req.content_length >= 0)
        abort ();
      (void) rf_http_path_has_prefix (req.target, req.target_len, "/function/x");
      (void) rf_http_header (&req, "Host", NULL);
      /* Any prefix of a complete head is incomplete. */
      if (rf_http_parse_head (buf, (size_t) r - 1, max, &again) != RF_HTTP_INCOMPLETE)
        abort ();
    }
  else if (r == RF_HTTP_INCOMPLETE && size >= max)
    abort ();

  /* The same bytes as an answer's head (the gateway's relay reads those). */
  {
    rf_http_response_t res, res2;
    long rr = rf_http_parse_response_head (buf, size, max, &res);
    if (rr > 0)
      {
        if ((size_t) rr > size || (size_t) rr > max || res.status < 100 || res.status > 599)
          abort ();
        for (size_t i = 0; i < res.n_headers; i++)
          check_inside (buf, (size_t) rr, res.headers[i].value, res.headers[i].value_len);
        if (res.chunked && res.content_length >= 0)
          abort ();
        if (rf_http_parse_response_head (buf, (size_t) rr - 1, max, &res2) != RF_HTTP_INCOMPLETE)
          abort ();
      }
  }

  /* The chunked decoder on what follows the head (or on everything). */
  {
    size_t off = r > 0 ? (size_t) r : 0, len = size - off, used1 = 0, used2 = 0;
    char *out1 = malloc (len + 1), *out2 = malloc (len + 1);
    long whole = decode (buf + off, len, len ? len : 1, out1, &used1);
    long bytewise = decode (buf + off, len, 1, out2, &used2);

    if (whole != bytewise)
      abort ();
    if (whole >= 0 && (used1 != used2 || memcmp (out1, out2, (size_t) whole) != 0))
      abort ();
    free (out1);
    free (out2);
  }
  return 0;
}
