#include "registry.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "digest.h"
#include "text.h"

#define ERROR_BODY_MAX (64 * 1024)
#define TOKEN_MAX (1024 * 1024)

typedef struct
{
  /* Where a 2xx body goes: memory (up to max) or a blob writer. */
  char *buf;
  size_t len, cap, max;
  rf_blob_writer_t *w;
  rf_error_t err; /* why the body was refused */
  /* The rest of any other answer, for its error message. */
  char *errbuf;
  size_t errlen;
} sink_t;

struct rf_registry_s
{
  CURL *curl;
  char *domain, *path, *host;
  const char *scheme;
  bool may_downgrade;
  char *authorization; /* "Authorization: ..." once a challenge was answered */
  char *user, *pass;
  bool creds_looked_up;
  rf_registry_opts_t opts;
  /* The current answer. */
  sink_t *sink;
  char *www_authenticate, *content_type, *location, *docker_digest;
  long retry_after;
};

/* What a request sends: nothing, bytes in memory, or a file (a blob being
   pushed), read again from the start on every attempt. */
typedef struct
{
  const char *buf;
  size_t len;
  int fd; /* >= 0: the body is this file's first `len` bytes */
  size_t off;
} body_t;

typedef struct
{
  const char *method;       /* "GET", "HEAD", "POST", "PUT" */
  const char *target;       /* "/v2/..." on the registry, or an absolute URL (a Location) */
  const char *accept;       /* a whole "Accept: ..." header, or NULL */
  const char *content_type; /* of the body */
  body_t *body;             /* NULL: none */
  bool missing_ok;          /* a 404 is an answer (request returns 1), not an error */
} req_t;

static char *
header_value (const char *line, size_t len, const char *name)
{
  size_t n = strlen (name);
  const char *v;
  if (len <= n || strncasecmp (line, name, n) != 0 || line[n] != ':')
    return NULL;
  v = line + n + 1;
  while (v < line + len && (*v == ' ' || *v == '\t'))
    v++;
  len -= v - line;
  while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
    len--;
  return xstrndup (v, len);
}

static void
reset_answer (rf_registry_t *r)
{
  free (r->www_authenticate);
  free (r->content_type);
  free (r->location);
  free (r->docker_digest);
  r->www_authenticate = r->content_type = r->location = r->docker_digest = NULL;
  r->retry_after = 0;
}

static size_t
on_header (char *line, size_t size, size_t n, void *data)
{
  rf_registry_t *r = data;
  size_t len = size * n;
  char *v;
  /* Each answer (a redirect, a 401) starts with its status line. */
  if (len > 5 && strncmp (line, "HTTP/", 5) == 0)
    reset_answer (r);
  else if ((v = header_value (line, len, "WWW-Authenticate")))
    {
      free (r->www_authenticate);
      r->www_authenticate = v;
    }
  else if ((v = header_value (line, len, "Content-Type")))
    {
      free (r->content_type);
      r->content_type = v;
    }
  else if ((v = header_value (line, len, "Location")))
    {
      free (r->location);
      r->location = v;
    }
  else if ((v = header_value (line, len, "Docker-Content-Digest")))
    {
      free (r->docker_digest);
      r->docker_digest = v;
    }
  else if ((v = header_value (line, len, "Retry-After")))
    {
      r->retry_after = strtol (v, NULL, 10);
      free (v);
    }
  return len;
}

static size_t
on_body (char *data, size_t size, size_t n, void *ctx)
{
  rf_registry_t *r = ctx;
  sink_t *s = r->sink;
  size_t len = size * n;
  long status = 0;

  curl_easy_getinfo (r->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300)
    {
      size_t room = ERROR_BODY_MAX - s->errlen;
      size_t take = len < room ? len : room;
      s->errbuf = xrealloc (s->errbuf, s->errlen + take + 1);
      memcpy (s->errbuf + s->errlen, data, take);
      s->errlen += take;
      s->errbuf[s->errlen] = '\0';
      return len;
    }
  if (s->w)
    {
      if (rf_blob_writer_write (s->w, data, len, &s->err) < 0)
        return 0;
      rf_progress_update (r->opts.progress, rf_blob_writer_size (s->w));
      return len;
    }
  if (s->len + len > s->max)
    {
      rf_error_make (&s->err, 0, "larger than %zu bytes", s->max);
      return 0;
    }
  if (s->len + len + 1 > s->cap)
    {
      s->cap = (s->len + len + 1) * 2;
      s->buf = xrealloc (s->buf, s->cap);
    }
  memcpy (s->buf + s->len, data, len);
  s->len += len;
  s->buf[s->len] = '\0';
  return len;
}

rf_registry_t *
rf_registry_new (const rf_ref_t *ref, const rf_registry_opts_t *opts)
{
  static bool initialized;
  rf_registry_t *r = xzalloc (sizeof *r);

  if (!initialized)
    {
      curl_global_init (CURL_GLOBAL_DEFAULT);
      initialized = true;
    }
  r->curl = curl_easy_init ();
  if (r->curl == NULL)
    abort ();
  r->domain = xstrdup (ref->domain);
  r->path = xstrdup (ref->path);
  r->host = xstrdup (rf_ref_api_host (ref));
  r->opts = *opts;
  r->scheme = "https";
  /* As docker does: plain HTTP only when asked to skip TLS checks, or for
     a registry on this machine's loopback. */
  r->may_downgrade = !opts->tls_verify || rf_ref_loopback_p (ref->domain);
  if (opts->user)
    {
      r->user = xstrdup (opts->user);
      r->pass = xstrdup (opts->pass ? opts->pass : "");
      r->creds_looked_up = true;
    }
  return r;
}

void
rf_registry_free (rf_registry_t *r)
{
  if (r == NULL)
    return;
  curl_easy_cleanup (r->curl);
  reset_answer (r);
  free (r->domain);
  free (r->path);
  free (r->host);
  free (r->authorization);
  free (r->user);
  free (r->pass);
  free (r);
}

static void
sink_clear (sink_t *s)
{
  free (s->buf);
  free (s->errbuf);
  rf_error_free (&s->err);
  memset (s, 0, sizeof *s);
}

static size_t
on_read (char *dest, size_t size, size_t n, void *ctx)
{
  body_t *b = ctx;
  size_t want = size * n, left = b->len - b->off;
  if (want > left)
    want = left;
  if (want == 0)
    return 0;
  if (b->fd >= 0)
    {
      ssize_t got = pread (b->fd, dest, want, (off_t) b->off);
      if (got <= 0)
        return CURL_READFUNC_ABORT;
      want = (size_t) got;
    }
  else
    memcpy (dest, b->buf + b->off, want);
  b->off += want;
  return want;
}

static int
on_seek (void *ctx, curl_off_t offset, int origin)
{
  body_t *b = ctx;
  if (origin != SEEK_SET || offset < 0 || (size_t) offset > b->len)
    return CURL_SEEKFUNC_CANTSEEK;
  b->off = (size_t) offset;
  return CURL_SEEKFUNC_OK;
}

static int
on_progress (void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  rf_registry_t *r = ctx;
  if (ulnow > 0)
    rf_progress_update (r->opts.progress, (int64_t) ulnow);
  return 0;
}

/* One request, no retries: *status is the HTTP status, or 0 with *rc the
   transport error. */
static void
perform (rf_registry_t *r, const char *url, const req_t *q, const char *authorization,
         sink_t *sink, long *status, CURLcode *rc)
{
  struct curl_slist *headers = NULL;
  cleanup_free char *ctype = NULL;
  CURL *c = r->curl;

  curl_easy_reset (c);
  if (q->accept)
    headers = curl_slist_append (headers, q->accept);
  if (authorization)
    headers = curl_slist_append (headers, authorization);
  if (q->content_type)
    {
      ctype = xasprintf ("Content-Type: %s", q->content_type);
      headers = curl_slist_append (headers, ctype);
    }
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_USERAGENT, "runfctl/0.1");
  curl_easy_setopt (c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT, r->opts.timeout);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_TIME, r->opts.timeout);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, r);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, r);
  curl_easy_setopt (c, CURLOPT_ACCEPT_ENCODING, "");
  if (strcmp (q->method, "HEAD") == 0)
    curl_easy_setopt (c, CURLOPT_NOBODY, 1L);
  else if (strcmp (q->method, "PUT") == 0 || (strcmp (q->method, "POST") == 0 && q->body))
    {
      /* A body of a known length, never "Expect: 100-continue": a registry
         answers a PUT only once it has the whole blob anyway. */
      q->body->off = 0;
      headers = curl_slist_append (headers, "Expect:");
      curl_easy_setopt (c, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, q->method);
      curl_easy_setopt (c, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt (c, CURLOPT_READDATA, q->body);
      curl_easy_setopt (c, CURLOPT_SEEKFUNCTION, on_seek);
      curl_easy_setopt (c, CURLOPT_SEEKDATA, q->body);
      curl_easy_setopt (c, CURLOPT_INFILESIZE_LARGE, (curl_off_t) q->body->len);
      if (r->opts.progress)
        {
          curl_easy_setopt (c, CURLOPT_XFERINFOFUNCTION, on_progress);
          curl_easy_setopt (c, CURLOPT_XFERINFODATA, r);
          curl_easy_setopt (c, CURLOPT_NOPROGRESS, 0L);
        }
    }
  else if (strcmp (q->method, "POST") == 0)
    {
      curl_easy_setopt (c, CURLOPT_POST, 1L);
      curl_easy_setopt (c, CURLOPT_POSTFIELDS, "");
      curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE, 0L);
    }
  else if (strcmp (q->method, "DELETE") == 0)
    curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, "DELETE");
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, headers);
  if (!r->opts.tls_verify)
    {
      curl_easy_setopt (c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt (c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  r->sink = sink;
  reset_answer (r);
  *status = 0;
  *rc = curl_easy_perform (c);
  if (*rc == CURLE_OK)
    curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, status);
  curl_slist_free_all (headers);
  r->sink = NULL;
}

static const char *
reason (long status)
{
  switch (status)
    {
    case 400: return "400 Bad Request";
    case 401: return "401 Unauthorized";
    case 403: return "403 Forbidden";
    case 404: return "404 Not Found";
    case 408: return "408 Request Timeout";
    case 429: return "429 Too Many Requests";
    case 500: return "500 Internal Server Error";
    case 502: return "502 Bad Gateway";
    case 503: return "503 Service Unavailable";
    case 504: return "504 Gateway Timeout";
    default: return NULL;
    }
}

/* "404 Not Found (MANIFEST_UNKNOWN: manifest unknown)" from the status
   and the registry's error document, when it sent one. */
static char *
describe_status (long status, const sink_t *s)
{
  cleanup_json json_t *doc = NULL;
  json_t *first;
  const char *code = NULL, *message = NULL;
  char num[32];
  const char *what = reason (status);

  if (what == NULL)
    {
      snprintf (num, sizeof num, "HTTP status %ld", status);
      what = num;
    }
  if (s->errbuf)
    doc = json_loadb (s->errbuf, s->errlen, 0, NULL);
  first = json_array_get (json_object_get (doc, "errors"), 0);
  code = json_string_value (json_object_get (first, "code"));
  message = json_string_value (json_object_get (first, "message"));
  if (code || message)
    {
      cleanup_free char *c = rf_printable (code ? code : "", 60);
      cleanup_free char *m = rf_printable (message ? message : "", 160);
      return xasprintf ("%s (%s%s%s)", what, c, *c && *m ? ": " : "", m);
    }
  return xstrdup (what);
}

static bool
retryable_status (long status)
{
  return status == 408 || status == 429 || status >= 500;
}

static bool
retryable_transport (CURLcode rc)
{
  switch (rc)
    {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return true;
    default: return false;
    }
}

static bool
tls_failure_p (CURLcode rc)
{
  return rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION
         || rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CIPHER || rc == CURLE_SSL_CACERT_BADFILE;
}

static void
backoff (int attempt, long retry_after)
{
  long ms = 250L << (attempt < 5 ? attempt : 5);
  struct timespec ts;
  if (retry_after > 0)
    ms = (retry_after > 10 ? 10 : retry_after) * 1000;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep (&ts, NULL);
}

static int
fetch_token (rf_registry_t *r, const rf_challenge_t *ch, rf_error_t *err)
{
  /* A push asks for both rights at once, whatever the first challenge
     (a HEAD of a blob) names; a login asks for none. */
  cleanup_free char *scope = r->opts.push ? xasprintf ("repository:%s:pull,push", r->path)
                             : ch->scope  ? xstrdup (ch->scope)
                             : *r->path   ? xasprintf ("repository:%s:pull", r->path)
                                          : xstrdup ("");
  char *esc_service = curl_easy_escape (r->curl, ch->service ? ch->service : "", 0);
  char *esc_scope = curl_easy_escape (r->curl, scope, 0);
  cleanup_free char *url = xasprintf ("%s%sservice=%s%s%s", ch->realm,
                                      strchr (ch->realm, '?') ? "&" : "?", esc_service,
                                      *scope ? "&scope=" : "", esc_scope);
  req_t q = { .method = "GET", .target = url };
  cleanup_free char *basic = NULL;
  cleanup_json json_t *doc = NULL;
  const char *token;
  sink_t sink = { .max = TOKEN_MAX };
  long status;
  CURLcode rc;
  int ret = 0;

  curl_free (esc_service);
  curl_free (esc_scope);
  if (r->user)
    {
      cleanup_free char *b = rf_basic_auth (r->user, r->pass);
      basic = xasprintf ("Authorization: %s", b);
    }
  for (int attempt = 0;; attempt++)
    {
      perform (r, url, &q, basic, &sink, &status, &rc);
      if (rc == CURLE_OK && !retryable_status (status))
        break;
      if (attempt >= r->opts.retries)
        break;
      backoff (attempt, r->retry_after);
      sink_clear (&sink);
      sink.max = TOKEN_MAX;
    }
  if (rc != CURLE_OK)
    ret = rf_error_make (err, 0, "token from the registry's auth server: %s", curl_easy_strerror (rc));
  else if (status != 200)
    {
      cleanup_free char *what = describe_status (status, &sink);
      ret = rf_error_make (err, 0, "token from the registry's auth server: %s%s", what,
                           status == 401 ? ": wrong or missing credentials" : "");
    }
  else if ((doc = json_loadb (sink.buf ? sink.buf : "", sink.len, 0, NULL)) == NULL
           || (!(token = json_string_value (json_object_get (doc, "token")))
               && !(token = json_string_value (json_object_get (doc, "access_token")))))
    ret = rf_error_make (err, 0, "token from the registry's auth server: no token in the answer");
  else
    {
      free (r->authorization);
      r->authorization = xasprintf ("Authorization: Bearer %s", token);
    }
  sink_clear (&sink);
  return ret;
}

/* Answer a 401: a token for Bearer, the credentials for Basic. */
static int
authenticate (rf_registry_t *r, rf_error_t *err)
{
  rf_challenge_t ch;
  int ret;

  if (r->www_authenticate == NULL)
    return rf_error_make (err, 0, "401 Unauthorized without a challenge");
  if (rf_challenge_parse (r->www_authenticate, &ch, err) < 0)
    return -1;
  if (!r->creds_looked_up)
    {
      r->creds_looked_up = true;
      if (rf_creds_lookup (r->opts.authfile, r->domain, r->path, &r->user, &r->pass, err) < 0)
        {
          rf_challenge_clear (&ch);
          return -1;
        }
    }
  if (strcasecmp (ch.scheme, "Bearer") == 0)
    ret = fetch_token (r, &ch, err);
  else if (r->user == NULL)
    ret = rf_error_make (err, 0, "401 Unauthorized: the registry wants a user and password "
                                      "(--creds, --authfile, or runfctl image login)");
  else
    {
      cleanup_free char *b = rf_basic_auth (r->user, r->pass);
      free (r->authorization);
      r->authorization = xasprintf ("Authorization: %s", b);
      ret = 0;
    }
  rf_challenge_clear (&ch);
  return ret;
}

/* A request with everything around it: the challenge answered, the
   retries, the fall back to plain HTTP.  0 for a 2xx answer, 1 for a 404
   with q->missing_ok, -1 with err. */
static int
request (rf_registry_t *r, const char *what, const req_t *q, sink_t *sink, rf_error_t *err)
{
  bool answered_challenge = false;
  int attempt = 0;

  for (;;)
    {
      cleanup_free char *url = strncmp (q->target, "http://", 7) == 0
                                       || strncmp (q->target, "https://", 8) == 0
                                   ? xstrdup (q->target)
                                   : xasprintf ("%s://%s%s", r->scheme, r->host, q->target);
      long status;
      CURLcode rc;

      if (sink->w && rf_blob_writer_size (sink->w) > 0
          && rf_blob_writer_restart (sink->w, err) < 0)
        return -1;
      free (sink->errbuf);
      sink->errbuf = NULL;
      sink->errlen = 0;
      sink->len = 0;
      perform (r, url, q, r->authorization, sink, &status, &rc);

      if (rc != CURLE_OK)
        {
          if (sink->err)
            {
              rf_error_make (err, sink->err->code, "%s: %s", what, sink->err->msg);
              return -1;
            }
          if (strcmp (r->scheme, "https") == 0 && r->may_downgrade && tls_failure_p (rc))
            {
              r->scheme = "http";
              continue;
            }
          if (retryable_transport (rc) && attempt < r->opts.retries)
            {
              rf_progress_restart (r->opts.progress, curl_easy_strerror (rc));
              backoff (attempt++, 0);
              continue;
            }
          if (rc == CURLE_OPERATION_TIMEDOUT)
            return rf_error_make (err, 0, "%s: no answer from %s for %ld s (--timeout)", what,
                                  r->host, r->opts.timeout);
          return rf_error_make (err, 0, "%s: %s://%s: %s", what, r->scheme, r->host,
                                curl_easy_strerror (rc));
        }
      if (status >= 200 && status < 300)
        return 0;
      if (status == 404 && q->missing_ok)
        return 1;
      if (status == 401 && !answered_challenge)
        {
          answered_challenge = true;
          if (authenticate (r, err) < 0)
            return rf_error_wrap (err, "%s", what);
          continue;
        }
      if (retryable_status (status) && attempt < r->opts.retries)
        {
          cleanup_free char *d = describe_status (status, sink);
          rf_progress_restart (r->opts.progress, d);
          backoff (attempt++, r->retry_after);
          continue;
        }
      {
        cleanup_free char *d = describe_status (status, sink);
        if (status == 401 && r->user)
          return rf_error_make (err, 0, "%s: %s: the registry refused the credentials", what, d);
        if (status == 401)
          return rf_error_make (err, 0, "%s: %s: the registry wants a user and password "
                                        "(--creds, --authfile, or runfctl image login)", what, d);
        return rf_error_make (err, 0, "%s: %s", what, d);
      }
    }
}

int
rf_registry_manifest (rf_registry_t *r, const char *reference, char **body, size_t *len,
                      char **content_type, rf_error_t *err)
{
  static const char accept[] = "Accept: " RF_MT_OCI_INDEX ", " RF_MT_DOCKER_LIST ", "
                               RF_MT_OCI_MANIFEST ", " RF_MT_DOCKER_MANIFEST;
  cleanup_free char *shown = rf_printable (reference, 80);
  cleanup_free char *what = xasprintf ("manifest `%s`", shown);
  cleanup_free char *target = xasprintf ("/v2/%s/manifests/%s", r->path, reference);
  req_t q = { .method = "GET", .target = target, .accept = accept };
  sink_t sink = { .max = RF_MANIFEST_MAX };
  int ret = request (r, what, &q, &sink, err);
  if (ret == 0)
    {
      *body = sink.buf ? steal_pointer (&sink.buf) : xstrdup ("");
      *len = sink.len;
      *content_type = r->content_type ? xstrdup (r->content_type) : NULL;
    }
  sink_clear (&sink);
  return ret;
}

int
rf_registry_blob (rf_registry_t *r, const rf_descriptor_t *d, rf_blob_writer_t *w, rf_error_t *err)
{
  cleanup_free char *what = xasprintf ("blob %s", d->digest);
  cleanup_free char *target = xasprintf ("/v2/%s/blobs/%s", r->path, d->digest);
  req_t q = { .method = "GET", .target = target };
  sink_t sink = { .w = w };
  int ret = request (r, what, &q, &sink, err);
  sink_clear (&sink);
  return ret;
}

int
rf_registry_blob_buffer (rf_registry_t *r, const rf_descriptor_t *d, size_t max, char **buf,
                         size_t *len, rf_error_t *err)
{
  cleanup_free char *what = xasprintf ("blob %s", d->digest);
  cleanup_free char *target = xasprintf ("/v2/%s/blobs/%s", r->path, d->digest);
  req_t q = { .method = "GET", .target = target };
  sink_t sink = { .max = max };
  char got[RF_DIGEST_MAX];
  int ret = request (r, what, &q, &sink, err);
  if (ret == 0)
    {
      rf_digest_buffer (sink.buf ? sink.buf : "", sink.len, got);
      if (strcmp (got, d->digest) != 0)
        ret = rf_error_make (err, 0, "%s: digest mismatch (the registry sent %s)", what, got);
      else
        {
          *buf = sink.buf ? steal_pointer (&sink.buf) : xstrdup ("");
          *len = sink.len;
        }
    }
  sink_clear (&sink);
  return ret;
}

int
rf_registry_blob_exists (rf_registry_t *r, const char *digest, rf_error_t *err)
{
  cleanup_free char *what = xasprintf ("blob %s", digest);
  cleanup_free char *target = xasprintf ("/v2/%s/blobs/%s", r->path, digest);
  req_t q = { .method = "HEAD", .target = target, .missing_ok = true };
  sink_t sink = { .max = 0 };
  int ret = request (r, what, &q, &sink, err);
  sink_clear (&sink);
  return ret < 0 ? -1 : ret == 0;
}

/* The upload URL a POST gave, with the digest that finishes the upload
   added to its query. */
static char *
upload_target (rf_registry_t *r, const char *location, const char *digest)
{
  char *esc = curl_easy_escape (r->curl, digest, 0);
  char *out = xasprintf ("%s%s%sdigest=%s", location[0] == '/' || strstr (location, "://") ? "" : "/",
                         location, strchr (location, '?') ? "&" : "?", esc);
  curl_free (esc);
  return out;
}

int
rf_registry_blob_upload (rf_registry_t *r, const char *digest, int fd, int64_t size,
                         rf_error_t *err)
{
  cleanup_free char *what = xasprintf ("upload blob %s", digest);
  cleanup_free char *start = xasprintf ("/v2/%s/blobs/uploads/", r->path);
  cleanup_free char *location = NULL, *target = NULL;
  req_t post = { .method = "POST", .target = start };
  body_t body = { .fd = fd, .len = (size_t) size };
  req_t put = { .method = "PUT", .content_type = "application/octet-stream", .body = &body };
  sink_t sink = { .max = 0 };
  int ret;

  /* The distribution spec's monolithic upload: POST for a session, then
     the whole blob in one PUT to its Location, with the digest. */
  ret = request (r, what, &post, &sink, err);
  if (ret == 0 && r->location == NULL)
    ret = rf_error_make (err, 0, "%s: the registry gave no upload location", what);
  if (ret == 0)
    {
      location = xstrdup (r->location);
      target = upload_target (r, location, digest);
      put.target = target;
      ret = request (r, what, &put, &sink, err);
    }
  if (ret == 0 && r->docker_digest && strcmp (r->docker_digest, digest) != 0)
    {
      cleanup_free char *shown = rf_printable (r->docker_digest, 80);
      ret = rf_error_make (err, 0, "%s: the registry stored it as %s", what, shown);
    }
  sink_clear (&sink);
  return ret;
}

int
rf_registry_manifest_put (rf_registry_t *r, const char *reference, const char *buf, size_t len,
                          const char *media_type, rf_error_t *err)
{
  cleanup_free char *shown = rf_printable (reference, 80);
  cleanup_free char *what = xasprintf ("put manifest `%s`", shown);
  cleanup_free char *target = xasprintf ("/v2/%s/manifests/%s", r->path, reference);
  body_t body = { .buf = buf, .len = len, .fd = -1 };
  req_t q = { .method = "PUT", .target = target, .content_type = media_type, .body = &body };
  sink_t sink = { .max = 0 };
  char digest[RF_DIGEST_MAX];
  int ret = request (r, what, &q, &sink, err);

  rf_digest_buffer (buf, len, digest);
  if (ret == 0 && r->docker_digest && strcmp (r->docker_digest, digest) != 0)
    {
      cleanup_free char *got = rf_printable (r->docker_digest, 80);
      ret = rf_error_make (err, 0, "%s: the registry stored it as %s, not %s", what, got, digest);
    }
  sink_clear (&sink);
  return ret;
}

int
rf_registry_ping (rf_registry_t *r, rf_error_t *err)
{
  req_t q = { .method = "GET", .target = "/v2/" };
  sink_t sink = { .max = 64 * 1024 };
  int ret = request (r, "/v2/", &q, &sink, err);
  sink_clear (&sink);
  return ret;
}
