/* The admin API: HTTP/1.1 + JSON, OpenFaaS's provider API (docs/functions.md,
 * "Coming from OpenFaaS", says what of it): one table of routes, each a
 * path (exact, or a prefix and a function's name) and a handler per method.
 *
 *   GET /healthz  GET /metrics  GET /ui (dashboard.c)
 *   GET /system/info  GET /system/namespaces            (api_system.c)
 *   GET|POST|PUT|DELETE /system/functions  GET /system/function/NAME
 *   POST /system/scale-function/NAME
 *   GET|POST|PUT|DELETE /system/secrets                 (api_system.c)
 *   POST /system/images[?name=REF]   the body is an image archive
 *   GET /system/logs?name=NAME[&follow][&tail][&since][&format=text]
 *   POST /async-function/NAME[/PATH]                    (async.c)
 *   *    /function/NAME[/...]  the function itself, routed by the listener
 *
 * On a unix socket (mode 0600) by default, or one systemd passes; on TCP
 * only with the token of <state>/api.token (Bearer, or Basic auth's
 * password), but for /function/NAME/..., which is public on the gateway
 * and at the function's own address as well. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/cleanup.h"
#include "common/fnname.h"
#include "common/fsutil.h"
#include "common/http.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "image/import.h"
#include "image/reference.h"
#include "image/store.h"
#include "api.h"
#include "runfd.h"

#define HEAD_MAX 16384
#define JSON_BODY_MAX (1 << 20)

static rfd_watch_t api_w = { .fd = -1 };
static bool api_tcp;
static char *api_token;

static void api_read (rfd_watch_t *w, uint32_t events);

static void
req_free_cb (void *p)
{
  api_req_t *r = p;
  free (r->buf);
  free (r->upload_path);
  free (r->job_out);
  free (r->out);
  free (r);
}

/* An upload is stored as uploads/N/upload.tar: what an OCI layout without
   names is called after is "upload", not runfd's scratch name. */
static void
remove_upload (api_req_t *r)
{
  char *slash;
  if (r->upload_path == NULL)
    return;
  unlink (r->upload_path);
  slash = strrchr (r->upload_path, '/');
  *slash = '\0';
  rmdir (r->upload_path);
  free (r->upload_path);
  r->upload_path = NULL;
}

static void
req_free (api_req_t *r)
{
  rfd_timer_cancel (&r->deadline);
  rfd_watch_close (&r->w);
  rfd_watch_close (&r->job);
  if (r->upload_fd >= 0)
    close (r->upload_fd);
  remove_upload (r);
  if (r->job_pid > 0)
    {
      kill (r->job_pid, SIGKILL);
      waitpid (r->job_pid, NULL, 0);
    }
  rfd_defer_free (r, req_free_cb);
}

/* The answer goes out as the client takes it: one that does not read holds
   its own connection (until the request timeout), never the loop. */
static void
api_write (rfd_watch_t *w, uint32_t events)
{
  api_req_t *r = w->data;
  while (r->out_off < r->out_len)
    {
      ssize_t n = send (w->fd, r->out + r->out_off, r->out_len - r->out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0)
        {
          req_free (r);
          return;
        }
      r->out_off += (size_t) n;
    }
  if (!r->body_read)
    {
      rfd_watch_del (&r->w);
      /* An answer that came before the whole request did (401, 408,
         413...): closing with the client's bytes unread would reset the
         connection, and the client could lose the answer. */
      rfd_linger_close (r->w.fd);
      r->w.fd = -1;
    }
  req_free (r);
}

void
rfd_api_reply (api_req_t *r, int status, const char *type, const char *body, size_t blen)
{
  /* A 401 names both schemes: Basic makes a browser ask for the token
     (as the password), Bearer is what runfctl sends. */
  cleanup_free char *head = NULL;
  size_t hlen;
  if (status == 204)
    head = xasprintf ("HTTP/1.1 204 No Content\r\n%sConnection: close\r\n\r\n",
                      r->extra_headers ? r->extra_headers : "");
  else
    head = xasprintf ("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s"
                      "Connection: close\r\n\r\n",
                      status, rf_http_reason (status), type, blen,
                      r->www_authenticate ? "WWW-Authenticate: Basic realm=\"runfd\", charset=\"UTF-8\"\r\n"
                                            "WWW-Authenticate: Bearer realm=\"runfd\"\r\n"
                                          : "",
                      r->extra_headers ? r->extra_headers : "");
  if (status == 204)
    blen = 0;
  hlen = strlen (head);
  r->out = xmalloc (hlen + blen + 1);
  memcpy (r->out, head, hlen);
  memcpy (r->out + hlen, body, blen);
  r->out_len = hlen + blen;
  r->out_off = 0;
  r->replying = true;
  r->w.fn = api_write;
  rfd_timer_arm (&r->deadline, rfd_config.request_line_timeout);
  if (rfd_watch_mod (&r->w, EPOLLOUT) < 0 && rfd_watch_add (&r->w, EPOLLOUT) < 0)
    {
      req_free (r);
      return;
    }
  api_write (&r->w, EPOLLOUT);
}

static void
reply (api_req_t *r, int status, const char *type, const char *body)
{
  rfd_api_reply (r, status, type, body, strlen (body));
}

void
rfd_api_reply_json (api_req_t *r, int status, json_t *doc)
{
  cleanup_free char *text = json_dumps (doc, JSON_INDENT (2));
  json_decref (doc);
  reply (r, status, "application/json", text);
}

void
rfd_api_reply_error (api_req_t *r, int status, const char *msg)
{
  rfd_api_reply_json (r, status, json_pack ("{s:s}", "error", msg));
}

void
rfd_api_reply_rf_error (api_req_t *r, rf_error_t err)
{
  int code = err ? err->code : 0;
  int status = code == ENOENT ? 404 : code == EEXIST || code == EBUSY ? 409 : code == EFBIG ? 413 : 400;
  /* The status says what the errno would: the message stands alone. */
  cleanup_free char *text = status != 400 ? xstrdup (err->msg) : rf_error_text (err);
  rf_error_free (&err);
  rfd_api_reply_error (r, status, text);
}


static int
hex_value (char c)
{
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* %XX and '+' (a space, as forms and Go's url.Values encode it).  A bad
   escape or a NUL leaves the text as sent: no name or value runfd takes
   can then match it. */
static char *
percent_decode (const char *s, size_t n)
{
  char *out = xmalloc (n + 1), *o = out;
  for (size_t i = 0; i < n; i++)
    {
      if (s[i] == '+')
        *o++ = ' ';
      else if (s[i] != '%')
        *o++ = s[i];
      else if (i + 2 < n && hex_value (s[i + 1]) >= 0 && hex_value (s[i + 2]) >= 0
               && (hex_value (s[i + 1]) | hex_value (s[i + 2])) != 0)
        {
          *o++ = (char) (hex_value (s[i + 1]) * 16 + hex_value (s[i + 2]));
          i += 2;
        }
      else
        {
          free (out);
          return xstrndup (s, n);
        }
    }
  *o = '\0';
  return out;
}

char *
rfd_api_query_param (const api_req_t *r, const char *key)
{
  const char *q = memchr (r->req.target, '?', r->req.target_len);
  const char *end = r->req.target + r->req.target_len;
  size_t kl = strlen (key);
  char *found = NULL;
  /* The last of a repeated key counts, as in Go's servers. */
  while (q && q < end)
    {
      const char *amp;
      q++;
      amp = memchr (q, '&', (size_t) (end - q));
      if ((size_t) ((amp ? amp : end) - q) > kl && memcmp (q, key, kl) == 0 && q[kl] == '=')
        {
          free (found);
          found = percent_decode (q + kl + 1, (size_t) ((amp ? amp : end) - q - kl - 1));
        }
      q = amp;
    }
  return found;
}

json_t *
rfd_api_body_json (api_req_t *r)
{
  return json_loadb (r->buf + r->head_len, r->len - (size_t) r->head_len, 0, NULL);
}

const char *
rfd_api_body (const api_req_t *r, size_t *len)
{
  *len = r->len - (size_t) r->head_len;
  return r->buf + r->head_len;
}



/* --- deploy ----------------------------------------------------------------- */

static void
deploy_done (void *ctx, rf_error_t err, rfd_function_t *fn)
{
  api_req_t *r = ctx;
  r->busy = false;
  if (err)
    rfd_api_reply_rf_error (r, err);
  else
    rfd_api_reply_json (r, 200, rfd_function_json (fn));
}

static void
handle_deploy (api_req_t *r, bool replace)
{
  cleanup_json json_t *doc = rfd_api_body_json (r);
  rf_error_t err = NULL;
  if (doc == NULL)
    {
      rfd_api_reply_error (r, 400, "the request body is not JSON");
      return;
    }
  r->busy = true;
  if (rfd_function_deploy (doc, replace, deploy_done, r, &err) < 0)
    {
      r->busy = false;
      rfd_api_reply_rf_error (r, err);
    }
}

/* --- image upload ----------------------------------------------------------- */

static void
on_import_done (rfd_watch_t *w, uint32_t events)
{
  api_req_t *r = w->data;
  char buf[4096];
  ssize_t n = read (w->fd, buf, sizeof buf);
  int status;
  cleanup_json json_t *res = NULL;

  if (n > 0)
    {
      r->job_out = xrealloc (r->job_out, r->job_len + (size_t) n + 1);
      memcpy (r->job_out + r->job_len, buf, (size_t) n);
      r->job_len += (size_t) n;
      return;
    }
  if (n < 0 && errno == EINTR)
    return;
  rfd_watch_close (w);
  waitpid (r->job_pid, &status, 0);
  r->job_pid = 0;
  /* The worker is done with the upload: gone before the answer. */
  remove_upload (r);
  res = r->job_len ? json_loadb (r->job_out, r->job_len, 0, NULL) : NULL;
  if (res == NULL)
    rfd_api_reply_error (r, 500, "the import worker died");
  else if (json_object_get (res, "error"))
    rfd_api_reply_error (r, 400, json_string_value (json_object_get (res, "error")));
  else
    rfd_api_reply_json (r, 200, json_incref (res));
}

static void
imported (void *ctx, const char *digest, char *const *names, bool existed)
{
  json_t *list = ctx;
  json_t *n = json_array ();
  for (size_t i = 0; names && names[i]; i++)
    json_array_append_new (n, json_string (names[i]));
  json_array_append_new (list, json_pack ("{s:s, s:o, s:b}", "digest", digest, "names", n, "existed", existed));
}

static void
start_import (api_req_t *r)
{
  int pipefd[2];
  cleanup_free char *raw = rfd_api_query_param (r, "name");
  cleanup_free char *name = NULL;

  if (raw)
    {
      /* As `runfctl image import --name`: a reference, in its normal
         form, or nothing is stored. */
      rf_ref_t ref;
      rf_error_t err = NULL;
      if (rf_ref_parse (raw, &ref, &err) < 0)
        {
          rfd_api_reply_rf_error (r, err);
          return;
        }
      name = rf_ref_string (&ref);
      rf_ref_clear (&ref);
    }
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    {
      rfd_api_reply_error (r, 500, "pipe failed");
      return;
    }
  r->job_pid = rfd_worker_fork (pipefd[1], NULL);
  if (r->job_pid < 0)
    {
      close (pipefd[0]);
      close (pipefd[1]);
      r->job_pid = 0;
      rfd_api_reply_error (r, 500, "fork failed");
      return;
    }
  if (r->job_pid == 0)
    {
      /* The worker: the library imports while the loop goes on. */
      rf_store_t *store = NULL;
      rf_error_t err = NULL;
      json_t *images = json_array (), *out;
      rf_import_opts_t opts = { .name = name, .imported = imported, .ctx = images };
      char *text;
      close (pipefd[0]);
      if (rf_store_open (rfd_config.store, RF_STORE_WRITE, rfd_config.rootless, &store, &err) < 0
          || rf_import (store, r->upload_path, &opts, &err) < 0)
        {
          /* The client knows its upload, not runfd's name for it. */
          char *why = rf_error_text (err);
          char *at = strstr (why, r->upload_path);
          if (at)
            {
              char *shown = xasprintf ("%.*suploaded image%s", (int) (at - why), why, at + strlen (r->upload_path));
              free (why);
              why = shown;
            }
          out = json_pack ("{s:s}", "error", why);
        }
      else
        out = json_pack ("{s:o}", "images", images);
      text = json_dumps (out, JSON_COMPACT);
      rf_write_all (pipefd[1], text, strlen (text));
      /* Its scratch directory goes with it. */
      rf_store_close (store);
      _exit (0);
    }
  close (pipefd[1]);
  r->job.fd = pipefd[0];
  r->job.fn = on_import_done;
  r->job.data = r;
  rfd_watch_add (&r->job, EPOLLIN);
}

/* OpenFaaS's clients may name the one namespace there is. */
static bool
namespace_ok_p (api_req_t *r)
{
  cleanup_free char *ns = rfd_api_query_param (r, "namespace");
  cleanup_free char *why = NULL;
  if (ns == NULL || *ns == '\0' || strcmp (ns, rfd_namespace) == 0)
    return true;
  why = xasprintf ("namespace `%.64s`: runfd has one namespace, %s", ns, rfd_namespace);
  rfd_api_reply_error (r, 404, why);
  return false;
}

/* --- logs ------------------------------------------------------------------- */

static void
handle_logs (api_req_t *r)
{
  cleanup_free char *name = rfd_api_query_param (r, "name");
  cleanup_free char *follow = rfd_api_query_param (r, "follow");
  cleanup_free char *tail = rfd_api_query_param (r, "tail");
  cleanup_free char *since = rfd_api_query_param (r, "since");
  cleanup_free char *format = rfd_api_query_param (r, "format");
  rfd_function_t *fn = name ? rfd_function_find (name) : NULL;
  long lines = -1;
  int64_t since_ms = 0;
  int fd;

  if (fn == NULL)
    {
      rfd_api_reply_error (r, 404, "no such function");
      return;
    }
  if (!namespace_ok_p (r))
    return;
  if (tail && *tail)
    {
      /* OpenFaaS: tail <= 0 is all of it (faas-cli sends -1); runf's
         `fn logs --tail 0` is none, to follow what comes. */
      char *end;
      long n = strtol (tail, &end, 10);
      if (*end || n > 100000000 || (n == 0 && strcmp (tail, "0") != 0))
        {
          rfd_api_reply_error (r, 400, "tail: expected a whole number of lines");
          return;
        }
      lines = n < 0 ? -1 : n;
    }
  if (since && *since && (since_ms = rfd_logs_parse_since (since)) < 0)
    {
      rfd_api_reply_error (r, 400, "since: expected an RFC 3339 time, like 2006-01-02T15:04:05Z");
      return;
    }
  if (format && strcmp (format, "text") != 0 && strcmp (format, "json") != 0)
    {
      rfd_api_reply_error (r, 400, "format: expected json (OpenFaaS's log messages, the default) or text");
      return;
    }
  /* The connection is the log reader's from here (fnlog.c). */
  rfd_timer_cancel (&r->deadline);
  rfd_watch_del (&r->w);
  fd = r->w.fd;
  r->w.fd = -1;
  rfd_logs_serve (fd, fn->name, lines, follow && strcmp (follow, "0") != 0 && strcmp (follow, "false") != 0,
                  format == NULL || strcmp (format, "json") == 0, since_ms);
  req_free (r);
}

/* --- the handlers ------------------------------------------------------------ */

static void
get_healthz (api_req_t *r, const char *name)
{
  reply (r, 200, "text/plain", "OK\n");
}

static void
get_metrics (api_req_t *r, const char *name)
{
  cleanup_free char *text = rfd_metrics_text ();
  reply (r, 200, "text/plain; version=0.0.4", text);
}

static void
list_functions (api_req_t *r, const char *name)
{
  json_t *list;
  if (!namespace_ok_p (r))
    return;
  list = json_array ();
  for (rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    if (!fn->removing)
      json_array_append_new (list, rfd_function_json (fn));
  rfd_api_reply_json (r, 200, list);
}

static void
deploy_new (api_req_t *r, const char *name)
{
  handle_deploy (r, false);
}

static void
deploy_update (api_req_t *r, const char *name)
{
  handle_deploy (r, true);
}

static void
remove_function (api_req_t *r, const char *name)
{
  cleanup_json json_t *doc = rfd_api_body_json (r);
  const char *fname = json_string_value (json_object_get (doc, "functionName"));
  rf_error_t err = NULL;
  if (!namespace_ok_p (r))
    return;
  if (fname == NULL)
    rfd_api_reply_error (r, 400, "functionName: missing");
  else if (rfd_function_remove (fname, &err) < 0)
    rfd_api_reply_rf_error (r, err);
  else
    rfd_api_reply_json (r, 200, json_pack ("{s:s}", "removed", fname));
}

static void
get_function (api_req_t *r, const char *name)
{
  rfd_function_t *fn = rfd_function_find (name);
  if (!namespace_ok_p (r))
    return;
  if (fn == NULL)
    rfd_api_reply_error (r, 404, "no such function");
  else
    rfd_api_reply_json (r, 200, rfd_function_json (fn));
}

static void
scale_function (api_req_t *r, const char *name)
{
  cleanup_json json_t *doc = rfd_api_body_json (r);
  json_t *n = json_object_get (doc, "replicas");
  rfd_function_t *fn = rfd_function_find (name);
  rf_error_t err = NULL;
  if (fn == NULL)
    rfd_api_reply_error (r, 404, "no such function");
  else if (!json_is_integer (n) || json_integer_value (n) < 0 || json_integer_value (n) > 1000)
    rfd_api_reply_error (r, 400, "replicas: expected a whole number in 0..1000");
  else if (rfd_function_scale (fn, (int) json_integer_value (n), &err) < 0)
    rfd_api_reply_rf_error (r, err);
  else
    rfd_api_reply_json (r, 200, rfd_function_json (fn));
}

static void
post_images (api_req_t *r, const char *name)
{
  start_import (r);
}

static void
get_logs (api_req_t *r, const char *name)
{
  handle_logs (r);
}

/* --- routing ---------------------------------------------------------------- */

enum { M_GET, M_POST, M_PUT, M_DELETE, M_N };
static const char *const method_names[M_N] = { "GET", "POST", "PUT", "DELETE" };

typedef void (*route_fn) (api_req_t *r, const char *name);

/* What follows a route's path. */
typedef enum
{
  PATH_EXACT, /* nothing */
  PATH_NAME,  /* a function's name, then at most a "/" */
  PATH_BELOW, /* a function's name, then anything (the function's own path) */
} path_kind_t;

typedef struct
{
  const char *path;
  path_kind_t kind;
  route_fn fn[M_N];
  bool upload; /* POST's body goes to a file as it comes (an image), not to memory */
} route_t;

static const route_t routes[] = {
  { "/healthz", PATH_EXACT, { [M_GET] = get_healthz }, false },
  { "/metrics", PATH_EXACT, { [M_GET] = get_metrics }, false },
  { "/system/info", PATH_EXACT, { [M_GET] = rfd_api_get_info }, false },
  { "/system/namespaces", PATH_EXACT, { [M_GET] = rfd_api_get_namespaces }, false },
  { "/system/functions", PATH_EXACT,
    { [M_GET] = list_functions, [M_POST] = deploy_new, [M_PUT] = deploy_update, [M_DELETE] = remove_function }, false },
  { "/system/function/", PATH_NAME, { [M_GET] = get_function }, false },
  { "/system/scale-function/", PATH_NAME, { [M_POST] = scale_function }, false },
  { "/system/secrets", PATH_EXACT,
    { [M_GET] = rfd_api_list_secrets, [M_POST] = rfd_api_create_secret, [M_PUT] = rfd_api_update_secret,
      [M_DELETE] = rfd_api_remove_secret }, false },
  { "/system/images", PATH_EXACT, { [M_POST] = post_images }, true },
  { "/system/logs", PATH_EXACT, { [M_GET] = get_logs }, false },
  { "/async-function/", PATH_BELOW, { [M_POST] = rfd_api_async_invoke }, false },
  { "/ui", PATH_EXACT, { [M_GET] = rfd_api_get_dashboard }, false },
  { "/ui/", PATH_EXACT, { [M_GET] = rfd_api_get_dashboard }, false },
};

/* The request's method as an index of route_t.fn; M_N for another. */
static int
method_of (const api_req_t *r)
{
  int m;
  for (m = 0; m < M_N; m++)
    if (r->req.method_len == strlen (method_names[m]) && memcmp (r->req.method, method_names[m], r->req.method_len) == 0)
      break;
  return m;
}

/* The route of the target's path, and the name in it (a function's; NULL
   for an exact path); r->below: where what follows the name starts.  *bad_name: the
   path is the route's, but what stands for the name is none. */
static const route_t *
route_find (api_req_t *r, char **name, bool *bad_name)
{
  size_t n = strcspn (r->req.target, "? ");
  if (n > r->req.target_len)
    n = r->req.target_len;
  *name = NULL;
  *bad_name = false;
  for (size_t i = 0; i < ARRAY_SIZE (routes); i++)
    {
      const route_t *rt = &routes[i];
      size_t pl = strlen (rt->path), nl;
      if (rt->kind == PATH_EXACT)
        {
          if (n == pl && memcmp (r->req.target, rt->path, n) == 0)
            return rt;
          continue;
        }
      if (n <= pl || memcmp (r->req.target, rt->path, pl) != 0)
        continue;
      nl = strcspn (r->req.target + pl, "/?# ");
      if (nl > n - pl)
        nl = n - pl;
      *name = xstrndup (r->req.target + pl, nl);
      r->below = pl + nl;
      /* Names are checked before any lookup: nothing else reaches a file
         or a function. */
      if (!rf_function_name_valid_p (*name)
          || (rt->kind == PATH_NAME && pl + nl < n && !(pl + nl + 1 == n && r->req.target[pl + nl] == '/')))
        *bad_name = true;
      return rt;
    }
  return NULL;
}

static void
handle (api_req_t *r)
{
  cleanup_free char *name = NULL;
  bool bad_name;
  const route_t *rt;
  int m;

  rfd_timer_cancel (&r->deadline);
  rfd_watch_del (&r->w);
  rt = route_find (r, &name, &bad_name);
  if (rt == NULL)
    {
      rfd_api_reply_error (r, 404, "no such path");
      return;
    }
  m = method_of (r);
  if (m == M_N || rt->fn[m] == NULL)
    {
      char allowed[64] = "";
      cleanup_free char *why = NULL;
      int k = 0;
      for (int i = 0; i < M_N; i++)
        if (rt->fn[i])
          k++;
      for (int i = 0, j = 0; i < M_N; i++)
        if (rt->fn[i])
          {
            j++;
            strcat (allowed, j == 1 ? "" : j == k ? " or " : ", ");
            strcat (allowed, method_names[i]);
          }
      why = xasprintf ("method not allowed: use %s", allowed);
      rfd_api_reply_error (r, 405, why);
      return;
    }
  if (bad_name)
    {
      rfd_api_reply_error (r, 404, "no such function");
      return;
    }
  rt->fn[m] (r, name);
}

/* Whether the body is to go to a file, as the route of the request says:
   decided once the head is in, before any of the body is read. */
static bool
upload_p (api_req_t *r)
{
  cleanup_free char *name = NULL;
  bool bad_name;
  const route_t *rt = route_find (r, &name, &bad_name);
  return rt && rt->upload && method_of (r) == M_POST;
}

/* Compared in constant time: how long a wrong token takes to refuse must
   not tell how much of it was right. */
static bool
token_equal_p (const char *given, size_t len)
{
  size_t tl = strlen (api_token);
  unsigned char diff = 0;
  if (len != tl)
    return false;
  for (size_t i = 0; i < tl; i++)
    diff |= (unsigned char) (given[i] ^ api_token[i]);
  return diff == 0;
}

/* The token of api.token, as runfctl sends it ("Bearer TOKEN") or as
   faas-cli and browsers do ("Basic" of USER:TOKEN, any user: OpenFaaS's
   is admin). */
static bool
token_ok_p (const rf_http_request_t *req)
{
  size_t al = 0;
  const char *auth = rf_http_header (req, "Authorization", &al);
  if (auth == NULL)
    return false;
  if (al > 7 && strncasecmp (auth, "Bearer ", 7) == 0)
    return token_equal_p (auth + 7, al - 7);
  if (al > 6 && al < 1024 && strncasecmp (auth, "Basic ", 6) == 0 && (al - 6) % 4 == 0)
    {
      unsigned char plain[1024];
      size_t bl = al - 6, pad = 0;
      int n;
      char *colon;
      n = EVP_DecodeBlock (plain, (const unsigned char *) auth + 6, (int) bl);
      if (n < 0)
        return false;
      while (pad < 2 && auth[6 + bl - 1 - pad] == '=')
        pad++;
      n -= (int) pad;
      colon = memchr (plain, ':', (size_t) n);
      return colon && token_equal_p (colon + 1, (size_t) n - (size_t) (colon + 1 - (char *) plain));
    }
  return false;
}

static void
on_api_deadline (rfd_timer_t *t)
{
  api_req_t *r = t->data;
  /* A client that does not take its answer in that time loses it. */
  if (r->replying)
    req_free (r);
  else
    rfd_api_reply_error (r, 408, "the request did not come in time");
}

/* The parsed head points into buf: where buf moves, it is parsed again. */
static void
grow_buffer (api_req_t *r)
{
  r->cap = r->cap ? r->cap * 2 : 16384;
  r->buf = xrealloc (r->buf, r->cap + 1);
  if (r->head_len > 0)
    rf_http_parse_head (r->buf, (size_t) r->head_len, HEAD_MAX, &r->req);
}

/* Read the head, then the body (to memory, or for an upload to a file).
   The head must be in within the request timeout, and the body may not
   pause longer than that: a client cannot hold a connection by sending
   nothing. */
static void
api_read (rfd_watch_t *w, uint32_t events)
{
  api_req_t *r = w->data;

  for (;;)
    {
      ssize_t n;
      if (r->len == r->cap)
        grow_buffer (r);
      n = recv (w->fd, r->buf + r->len, r->cap - r->len, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0)
        {
          req_free (r);
          return;
        }
      if (r->head_len > 0)
        rfd_timer_arm (&r->deadline, rfd_config.request_line_timeout);
      if (r->head_len == 0)
        {
          long h = rf_http_parse_head (r->buf, r->len + (size_t) n, HEAD_MAX, &r->req);
          r->len += (size_t) n;
          if (h == RF_HTTP_INCOMPLETE)
            continue;
          if (h < 0)
            {
              rfd_api_reply_error (r, -h, "malformed request");
              return;
            }
          r->head_len = h;
          if (api_tcp && !token_ok_p (&r->req))
            {
              r->www_authenticate = true;
              rfd_api_reply_error (r, 401, "a token is needed: the one in api.token of runfd's state directory, "
                                           "as a bearer token or as Basic auth's password");
              return;
            }
          r->chunked = r->req.chunked;
          r->upload = upload_p (r);
          r->body_left = r->req.content_length > 0 ? (uint64_t) r->req.content_length : 0;
          if (!r->upload && r->req.content_length > JSON_BODY_MAX)
            {
              rfd_api_reply_error (r, 413, "the body is too large");
              return;
            }
          if (r->upload)
            {
              static unsigned uploads;
              cleanup_free char *dir = xasprintf ("%s/uploads/%u", rfd_config.run_dir, ++uploads);
              if (rf_mkdir_p (dir, 0700, NULL) == 0)
                {
                  r->upload_path = xasprintf ("%s/upload.tar", dir);
                  r->upload_fd = open (r->upload_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                }
              if (r->upload_fd < 0)
                {
                  rfd_api_reply_error (r, 500, "cannot store the upload");
                  return;
                }
            }
          if (r->chunked || r->body_left > 0)
            {
              /* A client that asks (curl does for an upload) would
                 otherwise wait a second before it sends the body. */
              size_t el = 0;
              const char *expect = rf_http_header (&r->req, "Expect", &el);
              static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
              if (expect && el == 12 && strncasecmp (expect, "100-continue", 12) == 0)
                {
                  ssize_t ignored = send (w->fd, cont, sizeof cont - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                  (void) ignored;
                }
              rfd_timer_arm (&r->deadline, rfd_config.request_line_timeout);
            }
          /* What came with the head is body already. */
          n = (ssize_t) (r->len - (size_t) r->head_len);
          r->len = (size_t) r->head_len;
        }
      else
        r->buf[r->len + (size_t) n] = '\0';
      /* Body bytes at r->buf + r->len, n of them. */
      if (r->chunked)
        {
          size_t consumed;
          long out = rf_http_chunked_decode (&r->ch, r->buf + r->len, (size_t) n, &consumed);
          if (out < 0)
            {
              rfd_api_reply_error (r, 400, "malformed chunked body");
              return;
            }
          n = out;
        }
      else
        {
          if ((uint64_t) n > r->body_left)
            n = (ssize_t) r->body_left;
          r->body_left -= (uint64_t) n;
        }
      if (r->upload)
        {
          if (n > 0 && rf_write_all (r->upload_fd, r->buf + r->len, (size_t) n) < 0)
            {
              rfd_api_reply_error (r, 500, "cannot store the upload");
              return;
            }
          r->upload_size += (uint64_t) n;
        }
      else
        {
          r->len += (size_t) n;
          if (r->len > JSON_BODY_MAX + (size_t) r->head_len)
            {
              rfd_api_reply_error (r, 413, "the body is too large");
              return;
            }
        }
      if (r->chunked ? r->ch.done : r->body_left == 0)
        {
          if (r->upload)
            {
              close (r->upload_fd);
              r->upload_fd = -1;
            }
          r->buf[r->len] = '\0';
          r->body_read = true;
          handle (r);
          return;
        }
    }
}

/* A connection on the API socket whose path is the API's own (not
   /function/...): read and serve it. */
void
rfd_api_accept_conn (rfd_conn_t *c)
{
  api_req_t *r = xzalloc (sizeof *r);
  r->w.fd = c->w.fd;
  r->w.fn = api_read;
  r->w.data = r;
  r->upload_fd = -1;
  r->job.fd = -1;
  rfd_timer_init (&r->deadline, on_api_deadline, r);
  rfd_timer_arm (&r->deadline, rfd_config.request_line_timeout);
  c->w.fd = -1;
  rfd_conn_free (c);
  if (rfd_watch_add (&r->w, EPOLLIN | EPOLLRDHUP) < 0)
    req_free (r);
  else
    api_read (&r->w, EPOLLIN);
}

static void
on_api_accept (rfd_watch_t *w, uint32_t events)
{
  for (int i = 0; i < 64; i++)
    {
      int fd = accept4 (w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      rfd_conn_t *c;
      if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
        continue;
      if (fd < 0)
        {
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            rfd_accept_pause (errno);
          return;
        }
      c = xzalloc (sizeof *c);
      c->w.fd = fd;
      c->kind = RFD_CONN_API;
      c->accepted = rfd_now ();
      rfd_conn_wait_request (c);
    }
}

static int
load_token (rf_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/api.token", rfd_config.state_dir);
  char *text = NULL;
  if (rf_read_file_at (AT_FDCWD, path, 4096, &text, NULL, NULL) == 0 && strlen (text) >= 32)
    {
      text[strcspn (text, "\n")] = '\0';
      api_token = text;
      return 0;
    }
  free (text);
  {
    /* The first start makes one: 32 random bytes as hex. */
    unsigned char raw[32];
    char hex[65];
    int fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || rf_read_all (fd, raw, sizeof raw) != sizeof raw)
      {
        if (fd >= 0)
          close (fd);
        return rf_error_sys (err, "read /dev/urandom");
      }
    close (fd);
    for (int i = 0; i < 32; i++)
      snprintf (hex + 2 * i, 3, "%02x", raw[i]);
    if (rf_write_file_atomic (path, hex, 64, 0600, err) < 0)
      return -1;
    api_token = xstrdup (hex);
  }
  return 0;
}

/* The API's socket when systemd made it (runfd.socket): fd 3. */
static int inherited_fd = -1;

int
rfd_api_inherit (rf_error_t *err)
{
  const char *pid = getenv ("LISTEN_PID"), *fds = getenv ("LISTEN_FDS");
  bool ours = pid && fds && atol (pid) == (long) getpid () && atoi (fds) >= 1;
  int type = 0, listening = 0;
  socklen_t len = sizeof type;

  /* Gone before any spawner starts: the instances' own LISTEN_FDS (their
     socket, handed over) must not be confused with these. */
  unsetenv ("LISTEN_PID");
  unsetenv ("LISTEN_FDS");
  unsetenv ("LISTEN_FDNAMES");
  if (!ours)
    return 0;
  if (getsockopt (3, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM
      || (len = sizeof listening, getsockopt (3, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len)) < 0 || !listening)
    return rf_error_make (err, 0, "LISTEN_FDS: fd 3 is not a listening stream socket (ListenStream= in runfd.socket)");
  fcntl (3, F_SETFD, FD_CLOEXEC);
  fcntl (3, F_SETFL, fcntl (3, F_GETFL) | O_NONBLOCK);
  inherited_fd = 3;
  return 1;
}

int
rfd_api_start (const char *spec, rf_error_t *err)
{
  int fd;
  if (inherited_fd >= 0)
    {
      /* Made, bound and moded by systemd: only whether it is TCP matters
         (then the token is needed, as for --api tcp:). */
      struct sockaddr_storage ss;
      socklen_t len = sizeof ss;
      fd = inherited_fd;
      if (getsockname (fd, (struct sockaddr *) &ss, &len) < 0)
        return rf_error_sys (err, "the socket systemd passed (fd 3)");
      if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)
        {
          if (load_token (err) < 0)
            return -1;
          api_tcp = true;
        }
    }
  else if (strncmp (spec, "unix:", 5) == 0)
    {
      struct sockaddr_un sa = { .sun_family = AF_UNIX };
      const char *path = spec + 5;
      struct stat st;
      if (strlen (path) >= sizeof sa.sun_path)
        return rf_error_make (err, ENAMETOOLONG, "--api `%s`: path too long", spec);
      /* Only the socket an earlier daemon left is in the way: whatever
         else a mistyped --api names stays. */
      if (lstat (path, &st) == 0 && !S_ISSOCK (st.st_mode))
        return rf_error_make (err, 0, "--api `%s`: `%s` exists and is not a socket", spec, path);
      strcpy (sa.sun_path, path);
      fd = socket (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0)
        return rf_error_sys (err, "--api: socket");
      unlink (path);
      if (bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0 || chmod (path, 0600) < 0 || listen (fd, 128) < 0)
        {
          close (fd);
          return rf_error_sys (err, "--api: listen on `%s`", path);
        }
    }
  else if (strncmp (spec, "tcp:", 4) == 0)
    {
      cleanup_free char *host = xstrdup (spec + 4);
      char *colon = strrchr (host, ':');
      struct in_addr addr;
      int port;
      if (colon == NULL || (port = atoi (colon + 1)) <= 0 || port > 65535)
        return rf_error_make (err, 0, "--api `%s`: expected tcp:ADDR:PORT", spec);
      *colon = '\0';
      if (inet_pton (AF_INET, host, &addr) != 1 || (ntohl (addr.s_addr) >> 24) != 127)
        return rf_error_make (err, 0, "--api `%s`: only a loopback address (127.0.0.0/8)", spec);
      if (load_token (err) < 0)
        return -1;
      fd = rfd_listen_tcp (addr, port, err);
      if (fd < 0)
        return rf_error_wrap (err, "--api");
      api_tcp = true;
    }
  else
    return rf_error_make (err, 0, "--api `%s`: expected unix:PATH or tcp:127.0.0.1:PORT", spec);
  api_w.fd = fd;
  api_w.fn = on_api_accept;
  rfd_listener_register (&api_w);
  return rfd_watch_add (&api_w, EPOLLIN);
}

void
rfd_api_close (void)
{
  rfd_watch_close (&api_w);
}
