/* Where connections come in: each function's own address, the shared
 * gateway, and each control-socket function's /control.sock.  A
 * connection is routed on its request line, read with MSG_PEEK so the
 * handler gets the request whole; slow or silent clients and overlong
 * lines are cut off here, before they can hold a container. */
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
#include <unistd.h>

#include "common/cleanup.h"
#include "common/http.h"
#include "common/log.h"
#include "runfd.h"

static rfd_watch_t gateway_w = { .fd = -1 };

/* A whole request head must be in before a connection is routed: a client
   that trickles its headers holds an fd of runfd's until the request
   timeout, never a container. */
#define HEAD_PEEK_MAX (32 * 1024)

int
rfd_listen_tcp (struct in_addr addr, int port, rf_error_t *err)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port), .sin_addr = addr };
  int one = 1;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return rf_error_sys (err, "socket");
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen (fd, 4096) < 0)
    {
      rf_error_sys (err, "listen on %s:%d", inet_ntoa (addr), port);
      close (fd);
      return -1;
    }
  return fd;
}

static void
conn_free (void *p)
{
  free (p);
}

void
rfd_conn_free (rfd_conn_t *c)
{
  rfd_timer_cancel (&c->deadline);
  rfd_watch_close (&c->w);
  rfd_defer_free (c, conn_free);
}

void
rfd_conn_fail (rfd_conn_t *c, int status, const char *body)
{
  char buf[1024];
  int n = rf_http_format_response (buf, sizeof buf, status, "text/plain", body, strlen (body));
  if (n > 0 && (size_t) n < sizeof buf)
    {
      ssize_t ignored = send (c->w.fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
      (void) ignored;
    }
  if (c->fn)
    {
      int k = status == 400 || status == 414 || status == 431 ? RFD_REQ_400
              : status == 404 ? RFD_REQ_404 : status == 408 ? RFD_REQ_408
              : status == 429 ? RFD_REQ_429 : status == 503 ? RFD_REQ_503
              : status == 504 ? RFD_REQ_504 : RFD_REQ_502;
      c->fn->requests[k]++;
      c->fn->invocations++;
    }
  rfd_conn_free (c);
}

static void
on_deadline (rfd_timer_t *t)
{
  rfd_conn_t *c = t->data;
  rfd_conn_fail (c, 408, "the request did not come in time\n");
}

/* Route on the target of the request line: the gateway by the path's
   /function/<name> prefix, a function's own address to it. */
void
rfd_conn_route (rfd_conn_t *c, const char *target, size_t target_len)
{
  if (c->kind == RFD_CONN_FUNCTION)
    {
      /* Its function may have gone while the request came in (a next
         request on a kept connection, a slow client). */
      rfd_function_t *fn = rfd_functions;
      while (fn && (fn != c->fn || fn->id != c->fn_id))
        fn = fn->next;
      if (fn && fn->removing)
        {
          /* Replaced by an update: its successor serves the address. */
          rfd_function_t *now = rfd_function_find (fn->name);
          if (now && !now->removing)
            fn = now;
        }
      if (fn == NULL)
        {
          c->fn = NULL;
          rfd_conn_fail (c, 503, "the function is gone\n");
          return;
        }
      rfd_dispatch (fn, c);
      return;
    }
  if (target_len > 10 && memcmp (target, "/function/", 10) == 0)
    {
      char name[64];
      size_t n = 0;
      rfd_function_t *fn;
      /* The target is not NUL-terminated: "/function/NAME" ends at its
         length (OpenFaaS's clients call the bare form too). */
      while (10 + n < target_len && target[10 + n] != '/' && target[10 + n] != '?')
        n++;
      if (n == 0 || n >= sizeof name)
        {
          rfd_conn_fail (c, 404, "no such function\n");
          return;
        }
      memcpy (name, target + 10, n);
      name[n] = '\0';
      fn = rfd_function_find (name);
      if (fn == NULL)
        {
          rfd_conn_fail (c, 404, "no such function\n");
          return;
        }
      c->fn = fn;
      c->via_gateway = true;
      rfd_dispatch (fn, c);
      return;
    }
  if (c->kind == RFD_CONN_API)
    {
      rfd_api_accept_conn (c);
      return;
    }
  rfd_conn_fail (c, 404, "the gateway serves /function/<name>/...\n");
}

/* Where the head ends (after its empty line), or 0. */
static size_t
head_end (const char *buf, size_t len)
{
  for (size_t i = 0; i + 1 < len; i++)
    if (buf[i] == '\n' && (buf[i + 1] == '\n' || (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')))
      return i + (buf[i + 1] == '\n' ? 2 : 3);
  return 0;
}

static void
on_conn_readable (rfd_watch_t *w, uint32_t events)
{
  rfd_conn_t *c = w->data;
  char buf[HEAD_PEEK_MAX];
  rf_http_request_t req;
  size_t max = rfd_config.request_line_max;
  ssize_t n;
  long r;

  if (max >= sizeof buf)
    max = sizeof buf - 1;
  n = recv (w->fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      rfd_conn_free (c);
      return;
    }
  r = rf_http_parse_request_line (buf, (size_t) n, max, &req);
  if (r == RF_HTTP_INCOMPLETE)
    {
      if (events & (EPOLLRDHUP | EPOLLHUP))
        rfd_conn_free (c);
      return; /* edge-triggered: the next bytes wake us */
    }
  if (r < 0)
    {
      rfd_conn_fail (c, r == RF_HTTP_URI_LONG ? 414 : 400,
                     r == RF_HTTP_URI_LONG ? "request line too long\n" : "malformed request line\n");
      return;
    }
  /* The admin API reads its own head; everything else is routed once the
     head is whole. */
  if (c->kind != RFD_CONN_API || rf_http_path_has_prefix (req.target, req.target_len, "/function"))
    if (head_end (buf + r - 1, (size_t) n - (size_t) r + 1) == 0)
      {
        if ((size_t) n >= sizeof buf)
          rfd_conn_fail (c, 431, "request head too large\n");
        else if (events & (EPOLLRDHUP | EPOLLHUP))
          rfd_conn_free (c);
        return;
      }
  rfd_timer_cancel (&c->deadline);
  rfd_watch_del (&c->w);
  rfd_conn_route (c, req.target, req.target_len);
}

void
rfd_conn_wait_request (rfd_conn_t *c)
{
  c->w.fn = on_conn_readable;
  c->w.data = c;
  rfd_timer_init (&c->deadline, on_deadline, c);
  rfd_timer_arm (&c->deadline, rfd_config.request_line_timeout);
  if (rfd_watch_add (&c->w, EPOLLIN | EPOLLET | EPOLLRDHUP) < 0)
    rfd_conn_free (c);
}

static rfd_conn_t *conn_new (int fd, rfd_conn_kind_t kind, rfd_function_t *fn);

/* --- closing a connection that may still send ---------------------------

   A socket closed with unread bytes in it is reset, and a reset can take
   the last answer with it from the client's side: what the client still
   sends (a pipelined request) is read and dropped for a moment first. */

#define LINGER_NS (2 * RFD_S)

typedef struct
{
  rfd_watch_t w;
  rfd_timer_t t;
} linger_t;

static void
linger_end (linger_t *l)
{
  rfd_timer_cancel (&l->t);
  rfd_watch_close (&l->w);
  rfd_defer_free (l, free);
}

static void
on_linger (rfd_watch_t *w, uint32_t events)
{
  linger_t *l = w->data;
  char drop[16384];
  /* A bounded bite per wakeup: a fast sender cannot hold the loop. */
  for (int i = 0; i < 16; i++)
    {
      ssize_t n = recv (w->fd, drop, sizeof drop, MSG_DONTWAIT);
      if (n > 0 || (n < 0 && errno == EINTR))
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      linger_end (l);
      return;
    }
}

static void
on_linger_timeout (rfd_timer_t *t)
{
  linger_end (t->data);
}

void
rfd_linger_close (int fd)
{
  linger_t *l = xzalloc (sizeof *l);
  shutdown (fd, SHUT_WR);
  l->w.fd = fd;
  l->w.fn = on_linger;
  l->w.data = l;
  rfd_timer_init (&l->t, on_linger_timeout, l);
  rfd_timer_arm (&l->t, LINGER_NS);
  if (rfd_watch_add (&l->w, EPOLLIN | EPOLLRDHUP) < 0)
    linger_end (l);
}

void
rfd_conn_again (int fd, rfd_conn_kind_t kind, rfd_function_t *fn)
{
  rfd_conn_wait_request (conn_new (fd, kind, kind == RFD_CONN_FUNCTION ? fn : NULL));
}

static rfd_conn_t *
conn_new (int fd, rfd_conn_kind_t kind, rfd_function_t *fn)
{
  rfd_conn_t *c = xzalloc (sizeof *c);
  c->w.fd = fd;
  c->kind = kind;
  c->fn = fn;
  c->fn_id = fn ? fn->id : 0;
  c->accepted = rfd_now ();
  rfd_timer_init (&c->deadline, on_deadline, c);
  return c;
}

/* --- out of fds ------------------------------------------------------------ */

/* accept() that fails for want of fds leaves the connection in the listen
   queue, and a level-triggered listener would wake the loop at once, for
   ever.  So every listener rests a moment (the connections wait in their
   queues), the failures are counted and said once in a while, and
   accepting resumes by itself: as connections end (a silent one at the
   request timeout), fds come back. */
#define ACCEPT_REST (100 * RFD_MS)
#define ACCEPT_LOG_EVERY (10 * RFD_S)
static rfd_watch_t *registered[4];
static size_t n_registered;
static bool accept_paused;
static rfd_timer_t accept_timer;
static uint64_t accept_failures, accept_logged_at;

void
rfd_listener_register (rfd_watch_t *w)
{
  if (n_registered < ARRAY_SIZE (registered))
    registered[n_registered++] = w;
}

bool
rfd_accept_paused_p (void)
{
  return accept_paused;
}

static void
set_listeners (uint32_t events)
{
  for (size_t i = 0; i < n_registered; i++)
    if (registered[i]->fd >= 0)
      rfd_watch_mod (registered[i], events);
  for (rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    {
      if (fn->listen_w.fd >= 0 && fn->mode != RFD_MODE_WARM)
        rfd_watch_mod (&fn->listen_w, events);
      if (fn->control_w.fd >= 0)
        rfd_watch_mod (&fn->control_w, events);
    }
}

static void
on_accept_rested (rfd_timer_t *t)
{
  accept_paused = false;
  set_listeners (EPOLLIN);
}

void
rfd_accept_pause (int error)
{
  uint64_t now = rfd_now ();
  accept_failures++;
  if (accept_logged_at == 0 || now - accept_logged_at >= ACCEPT_LOG_EVERY)
    {
      rf_log (RF_LOG_WARN, "accept: %s (%llu times since the last such line): connections wait in the listen "
              "queues while runfd's fds are all in use", strerror (error), (unsigned long long) accept_failures);
      accept_failures = 0;
      accept_logged_at = now;
    }
  if (accept_paused)
    return;
  accept_paused = true;
  set_listeners (0);
  if (accept_timer.fn == NULL)
    rfd_timer_init (&accept_timer, on_accept_rested, NULL);
  rfd_timer_arm (&accept_timer, ACCEPT_REST);
}

static void
accept_all (rfd_watch_t *w, rfd_conn_kind_t kind, rfd_function_t *fn)
{
  /* A bounded batch per wakeup: the listener stays ready for the next
     pass, after what else is ready now. */
  for (int i = 0; i < 64; i++)
    {
      int fd = accept4 (w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            rfd_accept_pause (errno);
          return;
        }
      rfd_conn_wait_request (conn_new (fd, kind, fn));
    }
}

static void
on_function_accept (rfd_watch_t *w, uint32_t events)
{
  rfd_function_t *fn = w->data;
  if (fn->mode == RFD_MODE_WARM)
    {
      /* Warm instances accept by themselves; runfd only notices the
         listener when none runs, to start one. */
      rfd_warm_watch (fn);
      return;
    }
  accept_all (w, RFD_CONN_FUNCTION, fn);
}

void
rfd_function_listen (rfd_function_t *fn, int fd)
{
  fn->listen_w.fd = fd;
  fn->listen_w.fn = on_function_accept;
  fn->listen_w.data = fn;
  rfd_watch_add (&fn->listen_w, accept_paused && fn->mode != RFD_MODE_WARM ? 0 : EPOLLIN);
}

static void
on_gateway_accept (rfd_watch_t *w, uint32_t events)
{
  accept_all (w, RFD_CONN_GATEWAY, NULL);
}

int
rfd_gateway_start (const char *spec, rf_error_t *err)
{
  cleanup_free char *host = xstrdup (spec);
  char *colon = strrchr (host, ':');
  struct in_addr addr;
  int port, fd;

  if (colon == NULL || (port = atoi (colon + 1)) <= 0 || port > 65535)
    return rf_error_make (err, 0, "--gateway `%s`: expected ADDR:PORT", spec);
  *colon = '\0';
  if (inet_pton (AF_INET, host, &addr) != 1)
    return rf_error_make (err, 0, "--gateway `%s`: not an IPv4 address", spec);
  fd = rfd_listen_tcp (addr, port, err);
  if (fd < 0)
    return rf_error_wrap (err, "--gateway");
  gateway_w.fd = fd;
  gateway_w.fn = on_gateway_accept;
  rfd_listener_register (&gateway_w);
  return rfd_watch_add (&gateway_w, EPOLLIN);
}

void
rfd_gateway_close (void)
{
  rfd_watch_close (&gateway_w);
}

/* --- control-socket mode -------------------------------------------------- */

/* A handler connected to /control.sock: it is the instance whose pid the
   kernel vouches for (dispatch.c takes it from here). */
static void
on_control_accept (rfd_watch_t *w, uint32_t events)
{
  rfd_function_t *fn = w->data;
  for (;;)
    {
      struct ucred cred;
      socklen_t len = sizeof cred;
      /* Non-blocking: runfd only ever sends on it, what fits. */
      int fd = accept4 (w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        {
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            rfd_accept_pause (errno);
          return;
        }
      if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        {
          close (fd);
          continue;
        }
      rfd_control_connected (fn, cred.pid, fd);
    }
}

int
rfd_control_listen (rfd_function_t *fn, rf_error_t *err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  cleanup_free char *path = xasprintf ("%s/control.sock", fn->sock_dir);
  int fd;

  if (strlen (path) >= sizeof sa.sun_path)
    return rf_error_make (err, ENAMETOOLONG, "`%s`: path too long for a socket", path);
  strcpy (sa.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return rf_error_sys (err, "socket");
  unlink (path);
  if (bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen (fd, 1024) < 0)
    {
      close (fd);
      return rf_error_sys (err, "listen on `%s`", path);
    }
  /* The handler runs as an unprivileged id of the host. */
  chmod (path, 0666);
  fn->control_w.fd = fd;
  fn->control_w.fn = on_control_accept;
  fn->control_w.data = fn;
  rfd_watch_add (&fn->control_w, EPOLLIN);
  return 0;
}
