/* From a routed connection to a running handler: take an instance from
 * the function's pool and hand it the socket (with START to a created one;
 * over /control.sock, or relayed to its own server, for a pre-started
 * one), or queue the connection (bounded) until one is ready or a slot
 * frees; then follow the instance to its end: 502 when it dies without
 * answering, 504 when it runs out of time.  Pools follow the request
 * rate. */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpass.h"
#include "common/fsutil.h"
#include "common/http.h"
#include "common/log.h"
#include "relay.h"
#include "runfd.h"
#include "runtime/container.h"
#include "common/syscalls.h"

#define POOL_MAX 64           /* instances made ahead, per function */
#define CREATING_MAX 8        /* creations in flight per function */
#define RATE_TAU 2.0          /* seconds of memory in the request rate */
#define POOL_IDLE (30 * RFD_S) /* no request that long: no pool */

static int ready_total;    /* made ahead: ready or (pre-started) starting, all functions */
static int running_total; /* serving a request, every function but warm ones */

static void start_failure (rfd_function_t *fn, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static int pool_size (const rfd_function_t *fn, double rate);
static void instance_up (rfd_instance_t *inst);
static void prestart (rfd_instance_t *inst);

/* --- small helpers --------------------------------------------------------- */

static void
list_remove (rfd_instance_t **head, rfd_instance_t *inst)
{
  for (rfd_instance_t **p = head; *p; p = &(*p)->next)
    if (*p == inst)
      {
        *p = inst->next;
        inst->next = NULL;
        return;
      }
}

/* Into the pool: a request waiting takes it at once. */
static void drain_queue (rfd_function_t *fn);

static void
ready_push (rfd_instance_t *inst)
{
  rfd_function_t *fn = inst->fn;
  inst->next = fn->ready;
  fn->ready = inst;
  fn->n_ready++;
  ready_total++;
  drain_queue (fn);
  rfd_pool_adjust (fn);
}

/* The instance a request takes next (the one made last: its pages are
   the likeliest to be in the caches). */
static rfd_instance_t *
ready_pop (rfd_function_t *fn)
{
  rfd_instance_t *inst = fn->ready;
  fn->ready = inst->next;
  inst->next = NULL;
  fn->n_ready--;
  ready_total--;
  return inst;
}

static void
note_request (rfd_function_t *fn)
{
  uint64_t now = rfd_now ();
  double dt = fn->last_request ? (double) (now - fn->last_request) / RFD_S : 0;
  /* An exponentially decaying count of arrivals: requests per second. */
  fn->rate = fn->rate * exp (-dt / RATE_TAU) + 1.0 / RATE_TAU;
  fn->last_request = now;
}

/* What the handler sent on the socket: TCP knows, for a unix socket (the
   admin API's) we cannot tell and assume it answered. */
static bool
answered_p (int fd)
{
  struct tcp_info ti;
  socklen_t len = sizeof ti;
  if (getsockopt (fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
    return true;
  return ti.tcpi_bytes_sent > 0;
}

static void
respond_and_close (int fd, int status, const char *body)
{
  char buf[512];
  int n = rf_http_format_response (buf, sizeof buf, status, "text/plain", body, strlen (body));
  if (n > 0 && (size_t) n < sizeof buf)
    {
      ssize_t ignored = send (fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
      (void) ignored;
    }
  close (fd);
}

/* --- instances ------------------------------------------------------------- */

static void discard (rfd_instance_t *inst);

static void
instance_free_cb (void *p)
{
  free (p);
}

void
rfd_instance_free (rfd_instance_t *inst)
{
  if (inst->relay)
    rfd_relay_detach (inst->relay);
  inst->relay = NULL;
  rfd_timer_cancel (&inst->timeout);
  rfd_timer_cancel (&inst->probe);
  rfd_watch_close (&inst->sync_w);
  rfd_watch_close (&inst->held_w);
  if (inst->pidfd >= 0)
    close (inst->pidfd);
  inst->pidfd = -1;
  if (inst->client_fd >= 0)
    close (inst->client_fd);
  inst->client_fd = -1;
  rfd_defer_free (inst, instance_free_cb);
}

void
rfd_instance_kill (rfd_instance_t *inst, int sig)
{
  if (inst->pidfd >= 0)
    rf_pidfd_send_signal (inst->pidfd, sig);
  else if (inst->pid > 0)
    kill (inst->pid, sig);
}

static void
on_timeout (rfd_timer_t *t)
{
  rfd_instance_t *inst = t->data;
  inst->timed_out = true;
  rfd_instance_kill (inst, SIGKILL);
  rfd_function_event (inst->fn, "instance %s-%llu: killed: still running after %.3gs (its timeout)",
                      inst->fn->name, (unsigned long long) inst->id, (double) inst->fn->timeout_ns / RFD_S);
}

/* The sync socket after START: EOF once the handler is exec'd, or the
   reason it could not be.  Read at the instance's exit too (exited):
   the exit may be seen first, and the reason would go with the socket. */
static void
read_sync (rfd_instance_t *inst, rfd_watch_t *w, bool exited)
{
  char why[1024];
  int r = rf_instance_started (w->fd, why, sizeof why);
  if (r < 0 && (errno == EAGAIN || errno == EINTR) && !exited)
    return;
  if (r == 1)
    {
      inst->exec_failed = true;
      rf_log (RF_LOG_WARN, "function %s: instance %llu: %s", inst->fn->name, (unsigned long long) inst->id, why);
      rfd_function_event (inst->fn, "instance %s-%llu: its command could not be started: %s", inst->fn->name,
                          (unsigned long long) inst->id, why);
    }
  else if (r == 0 && !exited && inst->started && inst->fn->mode != RFD_MODE_WARM && !inst->prestarted)
    rfd_histogram_add (&inst->fn->cold_hist, (double) (rfd_now () - inst->started) / RFD_S);
  rfd_watch_close (w);
}

static void
on_sync (rfd_watch_t *w, uint32_t events)
{
  (void) events;
  read_sync (w->data, w, false);
}

/* --- connections through the gateway --------------------------------------

   Through the gateway, the next request on a connection may name another
   function: the handler gets one end of a socketpair, and runfd relays
   the request and its answer (relay.c), then routes the next. */

#define RELAY_GRACE (5 * RFD_S) /* past the function's timeout */

/* The relay of a warm function's connection is done. */
static void
relay_again (rfd_relay_t *r, int client, void *data)
{
  if (client >= 0)
    rfd_conn_again (client, (rfd_conn_kind_t) (uintptr_t) data, NULL);
}

static void request_done (rfd_instance_t *inst);

static void
instance_relay_end (rfd_relay_t *r, int client, void *data)
{
  rfd_instance_t *inst = data;
  rfd_conn_kind_t kind = inst->relay_kind;
  inst->relay = NULL;
  if (client >= 0)
    rfd_conn_again (client, kind, inst->fn);
  /* Its server answered: the instance serves the next request, or ends. */
  if (inst->fn->mode == RFD_MODE_HTTP)
    request_done (inst);
}

/* The handler closed without a byte: its exit says why (502, 504). */
static void
instance_relay_unanswered (rfd_relay_t *r, void *data)
{
  rfd_instance_t *inst = data;
  /* A server (http) that closed its connection without an answer may
     still run: it will not answer now. */
  if (inst->fn->mode == RFD_MODE_HTTP)
    rfd_instance_kill (inst, SIGKILL);
}

/* An instance takes a connection: it is running from here, on the clock
   of the function's timeout. */
static void
instance_running (rfd_instance_t *inst, rfd_conn_t *c)
{
  rfd_function_t *fn = inst->fn;
  uint64_t now = rfd_now ();

  if (!inst->prestarted || inst->started == 0)
    inst->started = now;
  inst->via_gateway = c && c->via_gateway;
  inst->next = fn->running;
  fn->running = inst;
  fn->n_running++;
  if (fn->mode != RFD_MODE_WARM)
    running_total++;
  if (c == NULL)
    return;
  /* runfd keeps its copy of the client's socket until the instance ends
     (or, pre-started, its request does): to answer 502 or 504 if the
     handler could not. */
  inst->served++;
  inst->client_fd = c->w.fd;
  inst->accepted = c->accepted;
  c->w.fd = -1;
  fn->requests[RFD_REQ_OK]++;
  fn->invocations++;
  rfd_histogram_add (&fn->latency_hist, (double) (now - c->accepted) / RFD_S);
  rfd_timer_init (&inst->timeout, on_timeout, inst);
  rfd_timer_arm (&inst->timeout, fn->timeout_ns);
  rfd_conn_free (c);
}

/* Let a created instance go: with the client's socket (inetd, stdio), the
   listening socket (warm), or nothing (pre-started: it waits for its
   request by itself). */
static int
instance_start (rfd_instance_t *inst, rfd_conn_t *c, int fd)
{
  rfd_function_t *fn = inst->fn;
  char env[256];
  size_t len = 0;

  if (c && c->via_gateway)
    len = (size_t) snprintf (env, sizeof env, "RUNF_PATH_PREFIX=/function/%s", fn->name) + 1;
  /* runfd reads and writes its sockets without blocking; a handler gets
     its socket as systemd hands one over, blocking, or a reader faster
     than its client sees EAGAIN as an error.  (runfd's own copy is only
     ever used with MSG_DONTWAIT from here on.) */
  if (c && c->via_gateway && fn->mode != RFD_MODE_WARM)
    {
      int pair[2];
      if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
        return -1;
      if (rf_instance_start (inst->sync_w.fd, pair[1], env, len) < 0)
        {
          close (pair[0]);
          close (pair[1]);
          return -1;
        }
      inst->relay_kind = c->kind;
      inst->relay = rfd_relay_new (c->w.fd, pair[0], fn->timeout_ns + RELAY_GRACE, NULL, instance_relay_end,
                                   instance_relay_unanswered, inst);
      c->w.fd = pair[1]; /* what runfd keeps */
    }
  else
    {
      if (c)
        fcntl (c->w.fd, F_SETFL, fcntl (c->w.fd, F_GETFL) & ~O_NONBLOCK);
      if (rf_instance_start (inst->sync_w.fd, fd, env, len) < 0)
        return -1;
    }
  inst->sync_w.fn = on_sync;
  inst->sync_w.data = inst;
  rfd_watch_add (&inst->sync_w, EPOLLIN);
  instance_running (inst, c);
  return 0;
}

/* One fd over a unix socket, as /control.sock hands them. */
static int
send_fd (int sock, int fd)
{
  return rf_send_fds (sock, "fd", 2, &fd, 1);
}

/* A pre-started instance takes its request: the client's socket over its
   /control.sock connection, or the request relayed to its server.
   Through the gateway, the handler sees the path without /function/NAME,
   as OpenFaaS's gateway forwards it (its environment was set before the
   request existed). */
static int
instance_hand_over (rfd_instance_t *inst, rfd_conn_t *c)
{
  rfd_function_t *fn = inst->fn;
  cleanup_free char *prefix = c->via_gateway ? xasprintf ("/function/%s", fn->name) : NULL;
  int held = inst->held_w.fd;

  rfd_watch_del (&inst->held_w);
  inst->held_w.fd = -1;
  if (fn->mode == RFD_MODE_HTTP)
    {
      /* The relay takes the client's socket, and answers 502 or 504 for
         the instance. */
      int client = c->w.fd;
      inst->relay_kind = c->kind;
      c->w.fd = -1;
      instance_running (inst, c);
      inst->relay = rfd_relay_new (client, held, fn->timeout_ns + RELAY_GRACE, prefix, instance_relay_end,
                                   instance_relay_unanswered, inst);
      return 0;
    }
  if (c->via_gateway)
    {
      int pair[2];
      if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
        {
          close (held);
          return -1;
        }
      if (send_fd (held, pair[1]) < 0)
        {
          close (held);
          close (pair[0]);
          close (pair[1]);
          return -1;
        }
      inst->relay_kind = c->kind;
      inst->relay = rfd_relay_new (c->w.fd, pair[0], fn->timeout_ns + RELAY_GRACE, prefix, instance_relay_end,
                                   instance_relay_unanswered, inst);
      c->w.fd = pair[1];
    }
  else
    {
      fcntl (c->w.fd, F_SETFL, fcntl (c->w.fd, F_GETFL) & ~O_NONBLOCK);
      if (send_fd (held, c->w.fd) < 0)
        {
          close (held);
          return -1;
        }
    }
  close (held);
  instance_running (inst, c);
  return 0;
}

/* A connection and a ready instance meet. */
static void
serve (rfd_function_t *fn, rfd_instance_t *inst, rfd_conn_t *c)
{
  if ((inst->prestarted ? instance_hand_over (inst, c) : instance_start (inst, c, c->w.fd)) < 0)
    {
      /* The instance died while it waited: its EXITED follows; try the
         next one. */
      rf_log (RF_LOG_WARN, "function %s: instance %llu is gone: %s", fn->name, (unsigned long long) inst->id,
              strerror (errno));
      discard (inst);
      rfd_dispatch (fn, c);
    }
}

static void
on_queue_timeout (rfd_timer_t *t)
{
  rfd_conn_t *c = t->data;
  rfd_function_t *fn = c->fn;
  for (rfd_conn_t **p = &fn->queue_head; *p; p = &(*p)->next)
    if (*p == c)
      {
        *p = c->next;
        if (fn->queue_tail == c)
          {
            fn->queue_tail = NULL;
            for (rfd_conn_t *q = fn->queue_head; q; q = q->next)
              fn->queue_tail = q;
          }
        fn->n_queued--;
        break;
      }
  rfd_conn_fail (c, 503, "no instance became free in time\n");
}

static void
enqueue (rfd_function_t *fn, rfd_conn_t *c)
{
  c->next = NULL;
  c->fn = fn;
  if (fn->queue_tail)
    fn->queue_tail->next = c;
  else
    fn->queue_head = c;
  fn->queue_tail = c;
  fn->n_queued++;
  rfd_timer_init (&c->deadline, on_queue_timeout, c);
  rfd_timer_arm (&c->deadline, fn->timeout_ns);
}

static rfd_conn_t *
dequeue (rfd_function_t *fn)
{
  rfd_conn_t *c = fn->queue_head;
  if (c == NULL)
    return NULL;
  fn->queue_head = c->next;
  if (fn->queue_head == NULL)
    fn->queue_tail = NULL;
  fn->n_queued--;
  rfd_timer_cancel (&c->deadline);
  return c;
}

static bool
slot_free_p (const rfd_function_t *fn)
{
  return (fn->concurrency == 0 || fn->n_running < fn->concurrency) && running_total < rfd_config.max_instances;
}

/* Serve what waits, as far as instances and slots allow. */
static void
drain_queue (rfd_function_t *fn)
{
  while (fn->queue_head && fn->ready && slot_free_p (fn))
    {
      rfd_instance_t *inst = ready_pop (fn);
      serve (fn, inst, dequeue (fn));
    }
}

static void warm_relay (rfd_function_t *fn, rfd_conn_t *c);

void
rfd_dispatch (rfd_function_t *fn, rfd_conn_t *c)
{
  c->fn = fn;
  note_request (fn);
  if (fn->removing)
    {
      rfd_conn_fail (c, 503, "the function is being removed\n");
      return;
    }
  if (fn->dir == NULL)
    {
      /* Listed, but its image could not be prepared (fn describe says
         why); it is being retried. */
      rfd_conn_fail (c, 503, "the function is failing (runfctl fn describe says why)\n");
      return;
    }
  if (fn->mode == RFD_MODE_WARM)
    {
      warm_relay (fn, c);
      return;
    }
  if (fn->ready && slot_free_p (fn) && fn->queue_head == NULL)
    {
      serve (fn, ready_pop (fn), c);
      rfd_pool_adjust (fn);
      return;
    }
  if (fn->n_queued >= fn->queue_max)
    {
      rfd_conn_fail (c, 429, "too many requests waiting for this function\n");
      return;
    }
  enqueue (fn, c);
  if (!fn->ready)
    fn->cold_starts++;
  rfd_pool_adjust (fn);
}

void
rfd_instance_ready (rfd_instance_t *inst)
{
  rfd_function_t *fn = inst->fn;
  if (fn->removing || fn->mode == RFD_MODE_WARM)
    {
      if (fn->mode == RFD_MODE_WARM && !fn->removing)
        {
          /* Warm instances start at once, on the listening socket. */
          if (instance_start (inst, NULL, fn->listen_w.fd) < 0)
            rfd_instance_kill (inst, SIGKILL);
          rfd_watch_mod (&fn->listen_w, 0);
          return;
        }
      discard (inst);
      return;
    }
  if (RFD_PRESTART_P (fn->mode))
    {
      prestart (inst);
      return;
    }
  ready_push (inst);
}

/* --- pre-started instances -------------------------------------------------

   A handler that can wait for its request (control-socket, http) is
   started as soon as its container is created, and is ready once it
   waits: connected to /control.sock, or its server accepting a
   connection on $PORT, which runfd makes (through the holder of the
   function's network, in the instance's namespace) and keeps for the
   request.  A request then costs the handoff.  With requestsPerInstance
   1 the instance ends after its request; with N it waits again until its
   Nth (0: no bound). */

#define PROBE_FIRST (1 * RFD_MS)
#define PROBE_MAX (100 * RFD_MS)
#define BACKOFF_FIRST (50 * RFD_MS)
#define BACKOFF_MAX (30 * RFD_S)

static void
starting_add (rfd_instance_t *inst)
{
  rfd_function_t *fn = inst->fn;
  inst->next = fn->starting;
  fn->starting = inst;
  fn->n_starting++;
  ready_total++;
}

static void
starting_remove (rfd_instance_t *inst)
{
  list_remove (&inst->fn->starting, inst);
  inst->fn->n_starting--;
  ready_total--;
  rfd_timer_cancel (&inst->probe);
  rfd_timer_cancel (&inst->timeout);
}

/* The instance never came up, or went while it waited: said in its log
   (and by fn describe until one comes up), and the function backs off. */
static void
start_failure (rfd_function_t *fn, const char *fmt, ...)
{
  uint64_t delay = BACKOFF_FIRST << (fn->start_failures < 10 ? fn->start_failures : 10);
  va_list ap;
  char *text;

  va_start (ap, fmt);
  if (vasprintf (&text, fmt, ap) < 0)
    text = NULL;
  va_end (ap);
  if (text)
    {
      rfd_function_event (fn, "%s", text);
      free (fn->start_problem);
      fn->start_problem = text;
    }
  fn->start_failures++;
  fn->backoff_until = rfd_now () + (delay > BACKOFF_MAX ? BACKOFF_MAX : delay);
  /* Failing again and again, nothing ready: those waiting hear it now
     rather than at their timeout. */
  if (fn->start_failures >= 3 && fn->n_ready == 0)
    while (fn->queue_head)
      rfd_conn_fail (dequeue (fn), 503, "the function's instances do not start (runfctl fn logs says why)\n");
}

static void
on_start_timeout (rfd_timer_t *t)
{
  rfd_instance_t *inst = t->data;
  rfd_function_t *fn = inst->fn;
  double secs = (double) fn->start_timeout_ns / RFD_S;
  inst->start_failed = true;
  if (fn->mode == RFD_MODE_HTTP)
    start_failure (fn, "instance %s-%llu: killed: nothing accepted a connection on port %d within %.3gs "
                   "(its start timeout)", fn->name, (unsigned long long) inst->id, fn->http_port, secs);
  else
    start_failure (fn, "instance %s-%llu: killed: it did not connect to /control.sock within %.3gs "
                   "(its start timeout)", fn->name, (unsigned long long) inst->id, secs);
  rfd_instance_kill (inst, SIGKILL);
}

static void
probe (rfd_instance_t *inst)
{
  if (rfd_network_connect (inst) < 0)
    {
      rfd_function_event (inst->fn, "instance %s-%llu: killed: its network's holder is gone", inst->fn->name,
                          (unsigned long long) inst->id);
      inst->start_failed = true;
      rfd_instance_kill (inst, SIGKILL);
    }
}

static void
on_probe (rfd_timer_t *t)
{
  probe (t->data);
}

/* Its server does not accept yet: again a moment later. */
static void
probe_later (rfd_instance_t *inst)
{
  inst->probe_delay = inst->probe_delay ? inst->probe_delay * 2 : PROBE_FIRST;
  if (inst->probe_delay > PROBE_MAX)
    inst->probe_delay = PROBE_MAX;
  rfd_timer_arm (&inst->probe, inst->probe_delay);
}

/* Waiting to come up (again): on the clock of the start timeout. */
static void
await_up (rfd_instance_t *inst)
{
  starting_add (inst);
  inst->probe_delay = 0;
  rfd_timer_init (&inst->probe, on_probe, inst);
  rfd_timer_init (&inst->timeout, on_start_timeout, inst);
  rfd_timer_arm (&inst->timeout, inst->fn->start_timeout_ns);
  if (inst->fn->mode == RFD_MODE_HTTP)
    probe (inst);
}

static void
prestart (rfd_instance_t *inst)
{
  if (rf_instance_start (inst->sync_w.fd, -1, NULL, 0) < 0)
    {
      discard (inst);
      return;
    }
  inst->prestarted = true;
  inst->started = rfd_now ();
  inst->sync_w.fn = on_sync;
  inst->sync_w.data = inst;
  rfd_watch_add (&inst->sync_w, EPOLLIN);
  await_up (inst);
}

/* Up and waiting, the other end of its held connection closed (a handler
   on its way out, a server that drops idle connections): it waits to come
   up again, or its exit follows. */
static void
on_held (rfd_watch_t *w, uint32_t events)
{
  rfd_instance_t *inst = w->data;
  rfd_function_t *fn = inst->fn;

  if (inst->connecting)
    {
      int error = 0;
      socklen_t len = sizeof error;
      if (getsockopt (w->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
        error = errno;
      inst->connecting = false;
      if (error || (events & (EPOLLERR | EPOLLHUP)))
        {
          rfd_watch_close (w);
          probe_later (inst);
          return;
        }
      instance_up (inst);
      return;
    }
  list_remove (&fn->ready, inst);
  fn->n_ready--;
  ready_total--;
  rfd_watch_close (w);
  await_up (inst);
}

/* It waits for its request: into the pool. */
static void
instance_up (rfd_instance_t *inst)
{
  rfd_function_t *fn = inst->fn;
  uint64_t now = rfd_now ();

  starting_remove (inst);
  if (inst->served == 0)
    {
      double took = (double) (now - inst->started) / RFD_S;
      fn->start_avg = fn->start_avg ? fn->start_avg * 0.8 + took * 0.2 : took;
    }
  inst->up_at = now;
  fn->start_failures = 0;
  fn->backoff_until = 0;
  free (fn->start_problem);
  fn->start_problem = NULL;
  inst->held_w.fn = on_held;
  inst->held_w.data = inst;
  if (rfd_watch_mod (&inst->held_w, EPOLLRDHUP) < 0 && rfd_watch_add (&inst->held_w, EPOLLRDHUP) < 0)
    {
      rfd_instance_kill (inst, SIGKILL);
      return;
    }
  ready_push (inst);
}

void
rfd_instance_connected (rfd_function_t *fn, uint64_t inst_id, int fd, int error)
{
  rfd_instance_t *inst = fn->starting;
  while (inst && inst->id != inst_id)
    inst = inst->next;
  if (inst == NULL || inst->held_w.fd >= 0)
    {
      if (fd >= 0)
        close (fd); /* it went meanwhile */
      return;
    }
  if (fd < 0)
    {
      probe_later (inst);
      return;
    }
  inst->held_w.fd = fd;
  inst->held_w.fn = on_held;
  inst->held_w.data = inst;
  inst->connecting = true;
  if (rfd_watch_add (&inst->held_w, EPOLLOUT) < 0)
    {
      rfd_watch_close (&inst->held_w);
      probe_later (inst);
    }
  (void) error;
}

void
rfd_control_connected (rfd_function_t *fn, pid_t pid, int fd)
{
  for (rfd_instance_t *i = fn->starting; i; i = i->next)
    if (i->pid == pid && i->held_w.fd < 0)
      {
        i->held_w.fd = fd;
        instance_up (i);
        return;
      }
  for (rfd_instance_t *i = fn->running; i; i = i->next)
    if (i->pid == pid && i->prestarted && !i->retired)
      {
        /* It asks for its next request: this one is done. */
        request_done (i);
        if (!i->retired && i->held_w.fd < 0)
          {
            i->held_w.fd = fd;
            instance_up (i);
            return;
          }
        break;
      }
  close (fd);
}

/* A pre-started instance's request is over (its answer relayed, or it
   asked for the next): the next, or its end. */
static void
request_done (rfd_instance_t *inst)
{
  rfd_function_t *fn = inst->fn;

  rfd_timer_cancel (&inst->timeout);
  if (inst->accepted)
    rfd_histogram_add (&fn->request_hist, (double) (rfd_now () - inst->accepted) / RFD_S);
  inst->accepted = 0;
  if (inst->client_fd >= 0)
    close (inst->client_fd);
  inst->client_fd = -1;
  if (inst->relay)
    {
      /* It asked for the next before its answer was all relayed (through
         the gateway): the relay finishes on its own, and the client's
         connection is routed again after it. */
      rfd_relay_handover (inst->relay, relay_again, NULL, (void *) (uintptr_t) inst->relay_kind);
      inst->relay = NULL;
    }
  if ((fn->per_instance && inst->served >= fn->per_instance) || fn->removing || rfd_config.draining)
    {
      /* No request after this one: it never serves another (its exit is
         reaped as usual). */
      inst->retired = true;
      rfd_instance_kill (inst, SIGKILL);
      return;
    }
  list_remove (&fn->running, inst);
  fn->n_running--;
  running_total--;
  await_up (inst);
  drain_queue (fn);
}

void
rfd_instance_failed (rfd_function_t *fn, const char *why)
{
  rf_log (RF_LOG_ERROR, "function %s: cannot create an instance: %s", fn->name, why);
  /* A config that fails fails each time: one line a second at most. */
  if (fn->create_failure_logged_at == 0 || rfd_now () - fn->create_failure_logged_at >= RFD_S)
    {
      rfd_function_event (fn, "an instance could not be created: %s", why);
      fn->create_failure_logged_at = rfd_now ();
    }
  fn->create_failures++;
  /* The same config will fail again: those waiting get the answer now,
     and creation pauses until the pool timer tries again. */
  while (fn->queue_head && fn->n_creating == 0)
    rfd_conn_fail (dequeue (fn), 502, "the function's container could not be created\n");
  fn->target = 0;
  rfd_function_release (fn);
}

/* How a process ended, for the log. */
static const char *
exit_text (int status, char *buf, size_t size)
{
  if (status >= 0 && WIFSIGNALED (status))
    snprintf (buf, size, "killed by signal %d", WTERMSIG (status));
  else if (status >= 0 && WIFEXITED (status))
    snprintf (buf, size, "exit status %d", WEXITSTATUS (status));
  else
    snprintf (buf, size, "gone");
  return buf;
}

/* What the log says of an instance that ended badly. */
static void
log_end (rfd_instance_t *inst, int status, bool unanswered)
{
  rfd_function_t *fn = inst->fn;
  char how[64];
  if (inst->oom_killed)
    {
      fn->oom_kills++;
      rfd_function_event (fn, "instance %s-%llu: killed: out of memory (its limit is %lld MiB)", fn->name,
                          (unsigned long long) inst->id, (long long) (fn->memory >> 20));
      return;
    }
  if (inst->lost)
    {
      rfd_function_event (fn, "instance %s-%llu: killed: the spawner that made it died", fn->name,
                          (unsigned long long) inst->id);
      return;
    }
  if (!unanswered || inst->exec_failed || inst->timed_out)
    return;
  rfd_function_event (fn, "instance %s-%llu: ended without answering (%s)", fn->name, (unsigned long long) inst->id,
                      exit_text (status, how, sizeof how));
}

static const char *
end_reason (const rfd_instance_t *inst)
{
  return inst->timed_out ? "the function did not answer in time\n"
         : inst->exec_failed ? "the function could not be started\n"
         : inst->oom_killed ? "the function ran out of memory\n"
                            : "the function ended without answering\n";
}

void
rfd_instance_exited (rfd_instance_t *inst, int status)
{
  rfd_function_t *fn = inst->fn;
  bool was_ready = false, unanswered = false;

  bool was_starting = false;

  /* Started, and why its exec failed not read yet: read now, before the
     answer to the client and the log say why it ended.  Only what is
     there: an instance of a spawner that died may not be gone yet, and
     its socket would block. */
  if (inst->sync_w.fd >= 0 && inst->sync_w.fn == on_sync)
    {
      struct pollfd p = { .fd = inst->sync_w.fd, .events = POLLIN };
      if (poll (&p, 1, 0) == 1)
        read_sync (inst, &inst->sync_w, true);
    }
  for (rfd_instance_t *i = fn->ready; i; i = i->next)
    if (i == inst)
      was_ready = true;
  for (rfd_instance_t *i = fn->starting; i && !was_ready; i = i->next)
    if (i == inst)
      was_starting = true;
  if (was_ready || was_starting)
    {
      if (was_ready)
        {
          list_remove (&fn->ready, inst);
          fn->n_ready--;
          ready_total--;
        }
      else
        starting_remove (inst);
      /* A pre-started handler that ends before its request failed to
         start, whatever it says. */
      if (inst->prestarted && !inst->start_failed && !fn->removing)
        {
          char how[64], port[64] = "";
          if (fn->mode == RFD_MODE_HTTP && was_starting)
            snprintf (port, sizeof port, "; nothing had accepted a connection on port %d", fn->http_port);
          if (inst->exec_failed || inst->oom_killed || inst->lost)
            {
              log_end (inst, status, true);
              start_failure (fn, "instance %s-%llu: %s", fn->name, (unsigned long long) inst->id,
                             inst->exec_failed ? "its command could not be started"
                             : inst->oom_killed ? "out of memory before its request"
                                                : "its spawner died");
            }
          else
            start_failure (fn, "instance %s-%llu: ended before its request (%s)%s", fn->name,
                           (unsigned long long) inst->id, exit_text (status, how, sizeof how), port);
        }
    }
  else if (inst->exited)
    fn->n_dying--;
  else if (inst->started)
    {
      list_remove (&fn->running, inst);
      fn->n_running--;
      if (fn->mode != RFD_MODE_WARM)
        running_total--;
      if (inst->accepted)
        rfd_histogram_add (&fn->request_hist, (double) (rfd_now () - inst->accepted) / RFD_S);
      if (inst->relay)
        {
          /* What the handler wrote before it ended is read first. */
          int code = inst->timed_out ? 504 : 502;
          if (!rfd_relay_handler_gone (inst->relay, code, end_reason (inst)))
            {
              fn->requests[code == 504 ? RFD_REQ_504 : RFD_REQ_502]++;
              unanswered = true;
            }
          else if (inst->timed_out)
            fn->requests[RFD_REQ_504]++;
          inst->relay = NULL;
        }
      else if (inst->client_fd >= 0 && !answered_p (inst->client_fd))
        {
          int code = inst->timed_out ? 504 : 502;
          fn->requests[code == 504 ? RFD_REQ_504 : RFD_REQ_502]++;
          respond_and_close (inst->client_fd, code, end_reason (inst));
          inst->client_fd = -1;
          unanswered = true;
        }
      else if (inst->timed_out)
        fn->requests[RFD_REQ_504]++;
      log_end (inst, status, unanswered);
    }
  rfd_instance_free (inst);
  drain_queue (fn);
  /* A slot of --max-instances is free: whoever waits for one. */
  for (rfd_function_t *f = rfd_functions; f; f = f->next)
    if (f != fn && f->queue_head)
      drain_queue (f);
  if (fn->mode == RFD_MODE_WARM && fn->n_running == 0 && !fn->removing)
    rfd_watch_mod (&fn->listen_w, EPOLLIN);
  rfd_pool_adjust (fn);
  rfd_function_release (fn);
}

/* --- pools ----------------------------------------------------------------- */

/* Out of the pool: killed now, freed when the spawner reports it reaped.
   Nothing of it wakes runfd meanwhile (a pre-started one's held
   connection closing would put it back to starting). */
static void
discard (rfd_instance_t *inst)
{
  inst->next = NULL;
  rfd_watch_close (&inst->held_w);
  rfd_timer_cancel (&inst->probe);
  rfd_timer_cancel (&inst->timeout);
  inst->fn->n_dying++;
  inst->exited = true;
  rfd_instance_kill (inst, SIGKILL);
}

/* The CPU time a process has used, in clock ticks. */
static uint64_t
cpu_ticks (pid_t pid)
{
  char path[64];
  cleanup_free char *text = NULL;
  unsigned long long ut = 0, st = 0;
  char *p;
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  if (rf_read_file_at (AT_FDCWD, path, 4096, &text, NULL, NULL) < 0 || (p = strrchr (text, ')')) == NULL)
    return 0;
  /* utime and stime are fields 14 and 15; field 3 follows ") ". */
  if (sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
    return 0;
  return ut + st;
}

/* Warm instances: one more while connections wait in the listen queue (up
   to max); one fewer when one has used no CPU for --idle (down to min). */
static void
warm_scale (rfd_function_t *fn)
{
  uint64_t now = rfd_now ();
  struct pollfd p = { .fd = fn->listen_w.fd, .events = POLLIN };

  if (fn->n_running > 0 && fn->n_running + fn->n_creating < fn->max && poll (&p, 1, 0) > 0)
    rfd_spawner_create (fn);
  for (rfd_instance_t *i = fn->running; i; i = i->next)
    {
      uint64_t t = cpu_ticks (i->pid);
      if (t != i->cpu_ticks || i->busy_at == 0)
        {
          i->cpu_ticks = t;
          i->busy_at = now;
        }
      else if (i->term_at && now - i->term_at > 5 * RFD_S)
        /* As pid 1 of its namespace a handler without a SIGTERM handler
           does not even see the signal. */
        rfd_instance_kill (i, SIGKILL);
      else if (!i->term_at && now - i->busy_at > fn->idle_ns && fn->n_running > fn->min)
        {
          i->term_at = now;
          rfd_instance_kill (i, SIGTERM);
          break;
        }
    }
  rfd_pool_adjust (fn);
  rfd_timer_arm (&fn->pool_timer, 200 * RFD_MS);
}

static void
on_pool_timer (rfd_timer_t *t)
{
  rfd_function_t *fn = t->data;
  double dt = fn->last_request ? (double) (rfd_now () - fn->last_request) / RFD_S : 1e9;
  /* Without arrivals the rate decays; idle, the pool empties. */
  double rate = fn->rate * exp (-dt / RATE_TAU);
  int keep = fn->target;

  if (fn->mode == RFD_MODE_WARM)
    {
      warm_scale (fn);
      return;
    }
  if (dt * RFD_S > POOL_IDLE)
    keep = 0;
  else
    keep = pool_size (fn, rate);
  /* Scaled (or deployed with --min): never fewer, even idle. */
  if (keep < fn->min)
    keep = fn->min;
  fn->target = keep > POOL_MAX ? POOL_MAX : keep;
  while (fn->n_ready > fn->target)
    discard (ready_pop (fn));
  rfd_pool_adjust (fn);
}

/* Instances to keep ahead at rate requests/s: enough for the time one
   takes to be made (and, pre-started, to come up). */
static int
pool_size (const rfd_function_t *fn, double rate)
{
  int n = 1 + (int) ceil (rate * (0.02 + fn->start_avg));
  return n > POOL_MAX ? POOL_MAX : n;
}

void
rfd_pool_adjust (rfd_function_t *fn)
{
  int want;

  fn->pool_timer.fn = on_pool_timer;
  if (!rfd_timer_armed_p (&fn->pool_timer) && !fn->removing)
    rfd_timer_arm (&fn->pool_timer, RFD_S);
  if (fn->removing || fn->dir == NULL)
    return;
  if (rfd_config.draining)
    {
      /* Stopping: only what was accepted before is still served. */
      while (fn->n_ready + fn->n_starting + fn->n_creating < fn->n_queued && fn->n_creating < CREATING_MAX)
        rfd_spawner_create (fn);
      return;
    }
  if (fn->mode == RFD_MODE_WARM)
    {
      want = fn->min > 0 ? fn->min : 0;
      while (fn->n_running + fn->n_creating < want)
        rfd_spawner_create (fn);
      return;
    }
  if (fn->last_request == 0)
    fn->target = 0;
  else if (rfd_now () - fn->last_request < POOL_IDLE)
    fn->target = pool_size (fn, fn->rate);
  if (fn->target < fn->min)
    fn->target = fn->min > POOL_MAX ? POOL_MAX : fn->min;
  if (fn->backoff_until > rfd_now ())
    {
      /* Its instances fail to start: none until the backoff is over. */
      if (fn->pool_timer.when > fn->backoff_until || !rfd_timer_armed_p (&fn->pool_timer))
        rfd_timer_arm (&fn->pool_timer, fn->backoff_until - rfd_now ());
      return;
    }
  want = fn->target + fn->n_queued;
  while (fn->n_ready + fn->n_starting + fn->n_creating < want && fn->n_creating < CREATING_MAX
         && (ready_total + fn->n_creating < rfd_config.pool_budget || fn->n_queued))
    rfd_spawner_create (fn);
}

void
rfd_pool_drain (rfd_function_t *fn)
{
  while (fn->ready)
    discard (ready_pop (fn));
  while (fn->starting)
    {
      rfd_instance_t *inst = fn->starting;
      starting_remove (inst);
      discard (inst);
    }
  for (rfd_instance_t *i = fn->running; i; i = i->next)
    if (fn->mode == RFD_MODE_WARM)
      rfd_instance_kill (i, SIGTERM);
}

/* --- warm mode ------------------------------------------------------------- */

void
rfd_warm_watch (rfd_function_t *fn)
{
  /* Connections wait in the listen queue until an instance accepts them. */
  rfd_watch_mod (&fn->listen_w, 0);
  if (fn->n_running + fn->n_creating == 0)
    {
      fn->cold_starts++;
      rfd_spawner_create (fn);
    }
}

/* Through the gateway (or the admin socket), a warm function is reached at
   its own address: one more hop, for those two entry points only. */
static void
warm_relay (rfd_function_t *fn, rfd_conn_t *c)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) fn->port), .sin_addr = fn->addr };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int client;

  if (fd < 0 || connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      if (fd >= 0)
        close (fd);
      rfd_conn_fail (c, 502, "the function's address does not answer\n");
      return;
    }
  fn->requests[RFD_REQ_OK]++;
  fn->invocations++;
  client = c->w.fd;
  c->w.fd = -1;
  rfd_relay_new (client, fd, fn->timeout_ns + RELAY_GRACE, NULL, relay_again,
                 NULL, (void *) (uintptr_t) c->kind);
  rfd_conn_free (c);
}
