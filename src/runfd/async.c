/* Asynchronous invocations: POST /async-function/NAME[/PATH] (OpenFaaS's).
 *
 * The request is kept (in memory, in a bounded queue: 429 when full) and
 * answered 202 with an X-Call-Id at once.  Later runfd makes it itself, at
 * the function's own address, a few at a time; an answer of 5xx (or none)
 * is tried again after 1, 2 and 4 s.  With X-Callback-Url the outcome is
 * POSTed there (the function's status in X-Function-Status, its body as
 * the body) by a worker process, off the loop: the URL is the client's,
 * and may take its time.  /metrics counts what waits, retries, failures
 * and callbacks that failed.  Calls that wait are lost with runfd (as
 * OpenFaaS's queue-worker without NATS persistence would lose them). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "api.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "runfd.h"

#define QUEUE_MAX 256        /* calls waiting, all functions */
#define IN_FLIGHT_MAX 4      /* calls being made at once */
#define ATTEMPTS 4           /* the first and three retries */
#define ANSWER_MAX (1 << 20) /* what is kept of a function's answer */

typedef struct call call_t;
struct call
{
  call_t *next;
  char id[40];
  char *function;
  char *request; /* the whole request to send */
  size_t request_len;
  char *callback;
  int attempts;
  uint64_t accepted;
  /* the attempt under way */
  rfd_watch_t w;
  size_t sent;
  char *answer;
  size_t answer_len;
  rfd_timer_t timer; /* the attempt's deadline, or the wait before a retry */
  bool waiting;      /* for its retry */
};

static call_t *queue_head, *queue_tail;
static int queued, in_flight;
static uint64_t calls_total, retries_total, failures_total, callback_failures_total;

static void start_next (void);

static void
call_free (call_t *c)
{
  rfd_timer_cancel (&c->timer);
  rfd_watch_close (&c->w);
  free (c->function);
  free (c->request);
  free (c->callback);
  free (c->answer);
  rfd_defer_free (c, free);
}

/* --- the callback, from a worker ------------------------------------------- */

typedef struct
{
  rfd_watch_t w;
  pid_t pid;
} callback_job_t;

static void
on_callback_done (rfd_watch_t *w, uint32_t events)
{
  callback_job_t *job = w->data;
  char buf[64];
  int status = 0;
  if (read (w->fd, buf, sizeof buf) > 0)
    return;
  while (waitpid (job->pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    callback_failures_total++;
  rfd_watch_close (w);
  rfd_defer_free (job, free);
}

static size_t
discard_body (char *ptr, size_t size, size_t n, void *ctx)
{
  return size * n;
}

/* In the worker: POST the outcome, exit 0 when the callback took it. */
static void __attribute__ ((noreturn))
post_callback (const call_t *c, int status, const char *body, size_t len)
{
  CURL *curl = curl_easy_init ();
  struct curl_slist *h = NULL;
  char line[256];
  long code = 0;
  CURLcode rc;
  snprintf (line, sizeof line, "X-Call-Id: %s", c->id);
  h = curl_slist_append (h, line);
  snprintf (line, sizeof line, "X-Function-Name: %s", c->function);
  h = curl_slist_append (h, line);
  snprintf (line, sizeof line, "X-Function-Status: %d", status);
  h = curl_slist_append (h, line);
  snprintf (line, sizeof line, "X-Duration-Seconds: %.6f", (double) (rfd_now () - c->accepted) / RFD_S);
  h = curl_slist_append (h, line);
  h = curl_slist_append (h, "Content-Type: application/octet-stream");
  h = curl_slist_append (h, "Expect:");
  curl_easy_setopt (curl, CURLOPT_URL, c->callback);
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (curl, CURLOPT_POST, 1L);
  curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt (curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, discard_body);
  rc = curl_easy_perform (curl);
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &code);
  if (rc != CURLE_OK || code < 200 || code >= 300)
    rf_log (RF_LOG_WARN, "function %s: call %s: the callback to `%s` failed: %s", c->function, c->id, c->callback,
            rc != CURLE_OK ? curl_easy_strerror (rc) : "it did not answer 2xx");
  _exit (rc == CURLE_OK && code >= 200 && code < 300 ? 0 : 1);
}

static void
callback (const call_t *c, int status, const char *body, size_t len)
{
  int p[2];
  pid_t pid;
  callback_job_t *job;
  if (pipe2 (p, O_CLOEXEC) < 0)
    {
      callback_failures_total++;
      return;
    }
  pid = rfd_worker_fork (p[1], NULL);
  if (pid == 0)
    post_callback (c, status, body, len);
  close (p[1]);
  if (pid < 0)
    {
      close (p[0]);
      callback_failures_total++;
      return;
    }
  job = xzalloc (sizeof *job);
  job->w.fd = p[0];
  job->w.fn = on_callback_done;
  job->w.data = job;
  job->pid = pid;
  if (rfd_watch_add (&job->w, EPOLLIN) < 0)
    {
      close (p[0]);
      free (job);
    }
}

/* --- making the call ---------------------------------------------------------- */

static void attempt (call_t *c);

static void
on_retry_timer (rfd_timer_t *t)
{
  call_t *c = t->data;
  c->waiting = false;
  attempt (c);
}

/* The answer's status, from "HTTP/1.x NNN ...", or 0. */
static int
answer_status (const call_t *c)
{
  if (c->answer_len < 12 || memcmp (c->answer, "HTTP/1.", 7) != 0)
    return 0;
  return atoi (c->answer + 9);
}

static void
finish (call_t *c)
{
  int status = answer_status (c);
  const char *body = "";
  size_t len = 0;
  rfd_watch_close (&c->w);
  rfd_timer_cancel (&c->timer);
  if ((status == 0 || status >= 500) && c->attempts < ATTEMPTS && !rfd_config.draining)
    {
      /* 1 s, 2 s, 4 s: time for a function that failed for a moment. */
      retries_total++;
      c->waiting = true;
      free (c->answer);
      c->answer = NULL;
      c->answer_len = 0;
      rfd_timer_init (&c->timer, on_retry_timer, c);
      rfd_timer_arm (&c->timer, (RFD_S << (c->attempts - 1)));
      return;
    }
  in_flight--;
  if (status == 0 || status >= 500)
    {
      failures_total++;
      rf_log (RF_LOG_WARN, "function %s: call %s failed after %d attempts (%s)", c->function, c->id, c->attempts,
              status ? "5xx" : "no answer");
    }
  if (c->callback)
    {
      char *sep = c->answer ? memmem (c->answer, c->answer_len, "\r\n\r\n", 4) : NULL;
      if (sep)
        {
          body = sep + 4;
          len = c->answer_len - (size_t) (sep + 4 - c->answer);
        }
      callback (c, status ? status : 502, body, len);
    }
  call_free (c);
  start_next ();
}

static void
on_deadline (rfd_timer_t *t)
{
  finish (t->data);
}

static void
on_call_io (rfd_watch_t *w, uint32_t events)
{
  call_t *c = w->data;
  if (c->sent < c->request_len)
    {
      ssize_t n = send (w->fd, c->request + c->sent, c->request_len - c->sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == EINPROGRESS))
        return;
      if (n < 0)
        {
          finish (c);
          return;
        }
      c->sent += (size_t) n;
      if (c->sent == c->request_len)
        rfd_watch_mod (w, EPOLLIN | EPOLLRDHUP);
      return;
    }
  for (int i = 0; i < 16; i++)
    {
      char buf[16384];
      ssize_t n = recv (w->fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
      if (n <= 0)
        {
          finish (c);
          return;
        }
      /* Past ANSWER_MAX the rest is read and dropped. */
      if (c->answer_len < ANSWER_MAX)
        {
          size_t k = (size_t) n > ANSWER_MAX - c->answer_len ? ANSWER_MAX - c->answer_len : (size_t) n;
          c->answer = xrealloc (c->answer, c->answer_len + k + 1);
          memcpy (c->answer + c->answer_len, buf, k);
          c->answer_len += k;
          c->answer[c->answer_len] = '\0';
        }
    }
}

static void
attempt (call_t *c)
{
  rfd_function_t *fn = rfd_function_find (c->function);
  struct sockaddr_in sa = { .sin_family = AF_INET };
  int fd;
  c->attempts++;
  c->sent = 0;
  rfd_timer_init (&c->timer, on_deadline, c);
  if (fn == NULL || fn->failing)
    {
      /* Removed meanwhile, or not serving: a retry may find it back. */
      rfd_timer_arm (&c->timer, 0);
      return;
    }
  sa.sin_port = htons ((uint16_t) fn->port);
  sa.sin_addr = fn->addr;
  fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0 && errno != EINPROGRESS))
    {
      if (fd >= 0)
        close (fd);
      rfd_timer_arm (&c->timer, 0);
      return;
    }
  c->w.fd = fd;
  c->w.fn = on_call_io;
  c->w.data = c;
  rfd_watch_add (&c->w, EPOLLOUT | EPOLLRDHUP);
  rfd_timer_arm (&c->timer, fn->timeout_ns + 2 * RFD_S);
}

static void
start_next (void)
{
  while (queue_head && in_flight < IN_FLIGHT_MAX)
    {
      call_t *c = queue_head;
      queue_head = c->next;
      if (queue_head == NULL)
        queue_tail = NULL;
      queued--;
      in_flight++;
      attempt (c);
    }
}

/* --- POST /async-function/NAME ---------------------------------------------------- */

/* Headers the function gets as the client sent them: its content type and
   X-... ones (but the callback's, which is runfd's). */
static bool
forwarded_p (const rf_http_header_t *h)
{
  if (h->name_len == 12 && strncasecmp (h->name, "Content-Type", 12) == 0)
    return true;
  if (h->name_len == 14 && strncasecmp (h->name, "X-Callback-Url", 14) == 0)
    return false;
  if (h->name_len == 9 && strncasecmp (h->name, "X-Call-Id", 9) == 0)
    return false;
  return h->name_len > 2 && strncasecmp (h->name, "X-", 2) == 0;
}

void
rfd_api_async_invoke (api_req_t *r, const char *name)
{
  rfd_function_t *fn = rfd_function_find (name);
  size_t blen, cl = 0;
  const char *body = rfd_api_body (r, &blen);
  /* The function's own path (and query), as the route found it. */
  const char *rest = r->req.target + r->below;
  size_t rest_len = r->req.target_len - r->below;
  const char *cb = rf_http_header (&r->req, "X-Callback-Url", &cl);
  static unsigned long long seq;
  cleanup_free char *head = NULL;
  call_t *c;
  char extra[80];

  if (fn == NULL)
    {
      rfd_api_reply_error (r, 404, "no such function");
      return;
    }
  if (cb && !(cl > 7 && (strncasecmp (cb, "http://", 7) == 0 || (cl > 8 && strncasecmp (cb, "https://", 8) == 0))))
    {
      rfd_api_reply_error (r, 400, "X-Callback-Url: expected an http:// or https:// URL");
      return;
    }
  if (queued >= QUEUE_MAX)
    {
      rfd_api_reply_error (r, 429, "too many asynchronous calls waiting");
      return;
    }
  c = xzalloc (sizeof *c);
  c->w.fd = -1;
  snprintf (c->id, sizeof c->id, "%08llx-%llx", (unsigned long long) (rfd_now () / RFD_MS & 0xffffffffULL), ++seq);
  c->function = xstrdup (name);
  c->accepted = rfd_now ();
  if (cb)
    c->callback = xstrndup (cb, cl);
  {
    /* The request line and headers as the function gets them. */
    size_t cap = 512 + rest_len, n;
    head = xmalloc (cap);
    n = (size_t) snprintf (head, cap, "POST %s%.*s HTTP/1.1\r\nHost: %s\r\nContent-Length: %zu\r\n"
                                      "Connection: close\r\nX-Call-Id: %s\r\n",
                           rest_len && rest[0] == '/' ? "" : "/", (int) rest_len, rest, name, blen, c->id);
    for (size_t i = 0; i < r->req.n_headers; i++)
      if (forwarded_p (&r->req.headers[i]))
        {
          const rf_http_header_t *h = &r->req.headers[i];
          head = xrealloc (head, n + h->name_len + h->value_len + 5);
          n += (size_t) sprintf (head + n, "%.*s: %.*s\r\n", (int) h->name_len, h->name, (int) h->value_len, h->value);
        }
    c->request = xmalloc (n + 2 + blen);
    memcpy (c->request, head, n);
    memcpy (c->request + n, "\r\n", 2);
    memcpy (c->request + n + 2, body, blen);
    c->request_len = n + 2 + blen;
  }
  if (queue_tail)
    queue_tail->next = c;
  else
    queue_head = c;
  queue_tail = c;
  queued++;
  calls_total++;
  snprintf (extra, sizeof extra, "X-Call-Id: %s\r\n", c->id);
  r->extra_headers = extra;
  rfd_api_reply_json (r, 202, json_pack ("{s:s, s:s}", "callId", c->id, "function", name));
  r->extra_headers = NULL;
  start_next ();
}

char *
rfd_async_metrics_text (void)
{
  return xasprintf ("# HELP runfd_async_queue_depth Asynchronous calls waiting to be made.\n"
                    "# TYPE runfd_async_queue_depth gauge\nrunfd_async_queue_depth %d\n"
                    "# HELP runfd_async_in_flight Asynchronous calls being made, and waiting to be retried.\n"
                    "# TYPE runfd_async_in_flight gauge\nrunfd_async_in_flight %d\n"
                    "# HELP runfd_async_calls_total Asynchronous calls accepted.\n"
                    "# TYPE runfd_async_calls_total counter\nrunfd_async_calls_total %llu\n"
                    "# HELP runfd_async_retries_total Asynchronous calls made again after a 5xx or no answer.\n"
                    "# TYPE runfd_async_retries_total counter\nrunfd_async_retries_total %llu\n"
                    "# HELP runfd_async_failures_total Asynchronous calls that failed after every retry.\n"
                    "# TYPE runfd_async_failures_total counter\nrunfd_async_failures_total %llu\n"
                    "# HELP runfd_async_callback_failures_total Callbacks that did not answer 2xx.\n"
                    "# TYPE runfd_async_callback_failures_total counter\nrunfd_async_callback_failures_total %llu\n",
                    queued, in_flight, (unsigned long long) calls_total, (unsigned long long) retries_total,
                    (unsigned long long) failures_total, (unsigned long long) callback_failures_total);
}
