#include "http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 token characters, for methods and header names. */
static bool
tchar_p (unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
         || (c && strchr ("!#$%&'*+-.^_`|~", c));
}

long
rf_http_parse_request_line (const char *buf, size_t len, size_t max, rf_http_request_t *req)
{
  const char *end = memchr (buf, '\n', len < max ? len : max);
  const char *p = buf, *sp1, *sp2, *line_end;

  if (end == NULL)
    return len >= max ? RF_HTTP_URI_LONG : RF_HTTP_INCOMPLETE;
  line_end = end > buf && end[-1] == '\r' ? end - 1 : end;
  sp1 = memchr (p, ' ', (size_t) (line_end - p));
  if (sp1 == NULL || sp1 == p)
    return RF_HTTP_BAD;
  for (const char *m = p; m < sp1; m++)
    if (!tchar_p ((unsigned char) *m))
      return RF_HTTP_BAD;
  sp2 = memchr (sp1 + 1, ' ', (size_t) (line_end - sp1 - 1));
  if (sp2 == NULL || sp2 == sp1 + 1)
    return RF_HTTP_BAD;
  for (const char *t = sp1 + 1; t < sp2; t++)
    if ((unsigned char) *t <= ' ' || *t == 0x7f)
      return RF_HTTP_BAD;
  if (line_end - sp2 - 1 != 8 || memcmp (sp2 + 1, "HTTP/1.", 7) != 0
      || (sp2[8] != '0' && sp2[8] != '1'))
    return RF_HTTP_BAD;
  req->method = p;
  req->method_len = (size_t) (sp1 - p);
  req->target = sp1 + 1;
  req->target_len = (size_t) (sp2 - sp1 - 1);
  req->minor_version = sp2[8] - '0';
  return (long) (end - buf + 1);
}

static bool
name_is (const rf_http_header_t *h, const char *name)
{
  return h->name_len == strlen (name) && strncasecmp (h->name, name, h->name_len) == 0;
}

static bool
value_has_token (const rf_http_header_t *h, const char *token)
{
  size_t tl = strlen (token);
  const char *v = h->value, *end = h->value + h->value_len;
  while (v < end)
    {
      const char *comma = memchr (v, ',', (size_t) (end - v));
      const char *e = comma ? comma : end;
      while (v < e && (*v == ' ' || *v == '\t'))
        v++;
      while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
      if ((size_t) (e - v) == tl && strncasecmp (v, token, tl) == 0)
        return true;
      v = comma ? comma + 1 : end;
    }
  return false;
}

/* The whole value is the one token (case-insensitive), whitespace aside. */
static bool
value_is_token (const rf_http_header_t *h, const char *token)
{
  return h->value_len == strlen (token) && strncasecmp (h->value, token, h->value_len) == 0;
}

/* The header lines from off through the empty line, into the fields both
   requests and responses share: the length of the head when complete, or
   RF_HTTP_INCOMPLETE, or an error. */
typedef struct
{
  rf_http_header_t *headers;
  size_t *n_headers;
  int64_t *content_length;
  bool *chunked, *keep_alive, *upgrade;
} fields_t;

static long
parse_fields (const char *buf, size_t len, size_t max, size_t off, const fields_t *f)
{
  *f->n_headers = 0;
  *f->content_length = -1;
  *f->chunked = false;
  for (;;)
    {
      const char *start = buf + off, *nl, *colon, *v, *ve;
      size_t avail = (len < max ? len : max) - off;
      rf_http_header_t *h;

      nl = memchr (start, '\n', avail);
      if (nl == NULL)
        return len >= max ? RF_HTTP_HEAD_LONG : RF_HTTP_INCOMPLETE;
      ve = nl > start && nl[-1] == '\r' ? nl - 1 : nl;
      off = (size_t) (nl - buf + 1);
      if (ve == start)
        break; /* the empty line */
      if (*f->n_headers == RF_HTTP_MAX_HEADERS)
        return RF_HTTP_HEAD_LONG;
      colon = memchr (start, ':', (size_t) (ve - start));
      if (colon == NULL || colon == start)
        return RF_HTTP_BAD;
      for (const char *c = start; c < colon; c++)
        if (!tchar_p ((unsigned char) *c))
          return RF_HTTP_BAD;
      v = colon + 1;
      while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
      for (const char *c = v; c < ve; c++)
        if ((unsigned char) *c < ' ' && *c != '\t')
          return RF_HTTP_BAD;
      h = &f->headers[(*f->n_headers)++];
      h->name = start;
      h->name_len = (size_t) (colon - start);
      h->value = v;
      h->value_len = (size_t) (ve - v);
      if (name_is (h, "Content-Length"))
        {
          int64_t n = 0;
          if (h->value_len == 0 || h->value_len > 18)
            return RF_HTTP_BAD;
          for (size_t i = 0; i < h->value_len; i++)
            {
              if (v[i] < '0' || v[i] > '9')
                return RF_HTTP_BAD;
              n = n * 10 + (v[i] - '0');
            }
          /* Two different lengths are the start of request smuggling. */
          if (*f->content_length >= 0 && *f->content_length != n)
            return RF_HTTP_BAD;
          *f->content_length = n;
        }
      else if (name_is (h, "Transfer-Encoding"))
        {
          /* Only "chunked", once: any other coding, or chunked not last,
             leaves the body without an end this parser agrees on with
             whoever else reads the stream. */
          if (*f->chunked || !value_is_token (h, "chunked"))
            return RF_HTTP_BAD;
          *f->chunked = true;
        }
      else if (name_is (h, "Connection"))
        {
          if (value_has_token (h, "close"))
            *f->keep_alive = false;
          else if (value_has_token (h, "keep-alive"))
            *f->keep_alive = true;
        }
      else if (name_is (h, "Upgrade"))
        *f->upgrade = true;
    }
  if (*f->chunked && *f->content_length >= 0)
    return RF_HTTP_BAD;
  return (long) off;
}

long
rf_http_parse_head (const char *buf, size_t len, size_t max, rf_http_request_t *req)
{
  long line = rf_http_parse_request_line (buf, len, max, req);
  long r;

  if (line <= 0)
    return line;
  req->keep_alive = req->minor_version == 1;
  req->upgrade = false;
  {
    fields_t f = { req->headers, &req->n_headers, &req->content_length, &req->chunked, &req->keep_alive,
                   &req->upgrade };
    r = parse_fields (buf, len, max, (size_t) line, &f);
  }
  return r;
}

long
rf_http_parse_response_head (const char *buf, size_t len, size_t max, rf_http_response_t *res)
{
  const char *end = memchr (buf, '\n', len < max ? len : max);
  const char *line_end;

  if (end == NULL)
    return len >= max ? RF_HTTP_HEAD_LONG : RF_HTTP_INCOMPLETE;
  line_end = end > buf && end[-1] == '\r' ? end - 1 : end;
  /* "HTTP/1.x NNN", then a reason, which may be empty. */
  if (line_end - buf < 12 || memcmp (buf, "HTTP/1.", 7) != 0 || (buf[7] != '0' && buf[7] != '1')
      || buf[8] != ' ' || buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' || buf[11] < '0'
      || buf[11] > '9' || (line_end - buf > 12 && buf[12] != ' '))
    return RF_HTTP_BAD;
  res->minor_version = buf[7] - '0';
  res->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
  res->keep_alive = res->minor_version == 1;
  res->upgrade = false;
  {
    fields_t f = { res->headers, &res->n_headers, &res->content_length, &res->chunked, &res->keep_alive,
                   &res->upgrade };
    return parse_fields (buf, len, max, (size_t) (end - buf + 1), &f);
  }
}

const char *
rf_http_header (const rf_http_request_t *req, const char *name, size_t *len)
{
  for (size_t i = 0; i < req->n_headers; i++)
    if (name_is (&req->headers[i], name))
      {
        if (len)
          *len = req->headers[i].value_len;
        return req->headers[i].value;
      }
  return NULL;
}

const char *
rf_http_reason (int status)
{
  switch (status)
    {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

int
rf_http_format_response (char *buf, size_t size, int status, const char *content_type,
                         const char *body, size_t body_len)
{
  int n = snprintf (buf, size,
                    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                    "Connection: close\r\n\r\n",
                    status, rf_http_reason (status), content_type, body_len);
  if (n < 0)
    return n;
  if ((size_t) n + body_len < size)
    {
      if (body_len)
        memcpy (buf + n, body, body_len);
      buf[n + body_len] = '\0';
    }
  return n + (int) body_len;
}

bool
rf_http_path_has_prefix (const char *target, size_t len, const char *prefix)
{
  size_t pl = strlen (prefix);
  const char *q = memchr (target, '?', len);
  size_t path_len = q ? (size_t) (q - target) : len;
  if (path_len < pl || memcmp (target, prefix, pl) != 0)
    return false;
  return path_len == pl || target[pl] == '/';
}

/* Decoder states.  The zero state is the start of a chunk-size line, so a
   zeroed rf_http_chunked_t is ready to use. */
enum
{
  CH_SIZE_START,   /* a chunk size's first digit */
  CH_SIZE,         /* more digits */
  CH_EXT,          /* chunk extensions, up to the line end */
  CH_SIZE_LF,      /* LF after the size line's CR */
  CH_DATA,
  CH_DATA_CR,      /* the CRLF after the data */
  CH_DATA_LF,
  CH_TRAILER,      /* the start of a trailer line, or the empty line */
  CH_TRAILER_CR,   /* LF after the empty line's CR */
  CH_TRAILER_LINE, /* inside a trailer field, skipped */
  CH_TRAILER_LINE_LF,
  CH_DONE
};

static int
hex_value (char ch)
{
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if ((ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'))
    return (ch | 0x20) - 'a' + 10;
  return -1;
}

/* Extensions and trailers are skipped, not kept, but still bounded: a
   sender that never ends them gets an error, not an endless read. */
static bool
meta_byte_ok (rf_http_chunked_t *c, char ch)
{
  if (((unsigned char) ch < ' ' && ch != '\t') || ch == 0x7f)
    return false;
  return ++c->meta_len <= RF_HTTP_CHUNK_META_MAX;
}

long
rf_http_chunked_decode (rf_http_chunked_t *c, char *buf, size_t len, size_t *consumed)
{
  size_t in = 0, out = 0;

  while (in < len && c->state != CH_DONE)
    {
      char ch = buf[in];
      int digit;

      switch (c->state)
        {
        case CH_SIZE_START:
          /* A size line without a size is not the last chunk: an error. */
          if ((digit = hex_value (ch)) < 0)
            return RF_HTTP_BAD;
          c->left = (uint64_t) digit;
          c->meta_len = 0;
          c->state = CH_SIZE;
          break;
        case CH_SIZE:
          if ((digit = hex_value (ch)) >= 0)
            {
              if (c->left >> 60)
                return RF_HTTP_BAD;
              c->left = c->left * 16 + (uint64_t) digit;
            }
          else if (ch == ';' || ch == ' ' || ch == '\t')
            c->state = CH_EXT;
          else if (ch == '\r')
            c->state = CH_SIZE_LF;
          else if (ch == '\n')
            c->state = c->left ? CH_DATA : CH_TRAILER;
          else
            return RF_HTTP_BAD;
          break;
        case CH_EXT:
          if (ch == '\r')
            c->state = CH_SIZE_LF;
          else if (ch == '\n')
            c->state = c->left ? CH_DATA : CH_TRAILER;
          else if (!meta_byte_ok (c, ch))
            return RF_HTTP_BAD;
          break;
        case CH_SIZE_LF:
          if (ch != '\n')
            return RF_HTTP_BAD;
          c->state = c->left ? CH_DATA : CH_TRAILER;
          break;
        case CH_DATA:
          {
            size_t n = len - in < c->left ? len - in : (size_t) c->left;
            memmove (buf + out, buf + in, n);
            out += n;
            in += n;
            c->left -= n;
            if (c->left == 0)
              c->state = CH_DATA_CR;
          }
          continue;
        case CH_DATA_CR:
          if (ch == '\r')
            c->state = CH_DATA_LF;
          else if (ch == '\n')
            c->state = CH_SIZE_START;
          else
            return RF_HTTP_BAD;
          break;
        case CH_DATA_LF:
          if (ch != '\n')
            return RF_HTTP_BAD;
          c->state = CH_SIZE_START;
          break;
        case CH_TRAILER:
          if (ch == '\r')
            c->state = CH_TRAILER_CR;
          else if (ch == '\n')
            c->state = CH_DONE;
          else if (!meta_byte_ok (c, ch))
            return RF_HTTP_BAD;
          else
            c->state = CH_TRAILER_LINE;
          break;
        case CH_TRAILER_CR:
          if (ch != '\n')
            return RF_HTTP_BAD;
          c->state = CH_DONE;
          break;
        case CH_TRAILER_LINE:
          if (ch == '\r')
            c->state = CH_TRAILER_LINE_LF;
          else if (ch == '\n')
            c->state = CH_TRAILER;
          else if (!meta_byte_ok (c, ch))
            return RF_HTTP_BAD;
          break;
        case CH_TRAILER_LINE_LF:
          if (ch != '\n')
            return RF_HTTP_BAD;
          c->state = CH_TRAILER;
          break;
        default:
          return RF_HTTP_BAD;
        }
      in++;
    }
  c->done = c->state == CH_DONE;
  *consumed = in;
  return (long) out;
}
