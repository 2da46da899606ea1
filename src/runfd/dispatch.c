/* From a routed connection to a running handler: take a created instance
 * from the function's pool and hand it the socket with START, or queue the
 * connection (bounded) until one is ready or a slot frees; then follow the
 * instance to its end: 502 when it dies without answering, 504 when it
 * runs out of time.  Pools follow the request rate. */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <signal.h>
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
#include "common/fsutil.h"
#include "common/http.h"
#include "common/log.h"
#include "relay.h"
#include "runfd.h"
#include "runtime/linux/sync.h"
#include "runtime/linux/syscalls.h"

#define POOL_MAX 64           /* ready instances per function */
#define POOL_BUDGET 256       /* ready instances in all */
#define CREATING_MAX 8        /* creations in flight per function */
#define RATE_TAU 2.0          /* seconds of memory in the request rate */
#define POOL_IDLE (30 * RFD_S) /* no request that long: no pool */

static int ready_total;
static int running_total; /* serving a request, every function but warm ones */

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
  rfd_watch_close (&inst->sync_w);
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
   reason it could not be. */
static void
on_sync (rfd_watch_t *w, uint32_t events)
{
  rfd_instance_t *inst = w->data;
  rf_sync_msg_t msg;
  int r = rf_sync_recv (w->fd, &msg, NULL);
  if (r > 0 && msg.type == RF_SYNC_ERROR)
    {
      inst->exec_failed = true;
      rf_log (RF_LOG_WARN, "function %s: instance %llu: %s", inst->fn->name, (unsigned long long) inst->id,
              msg.text);
      rfd_function_event (inst->fn, "instance %s-%llu: its command could not be started: %s", inst->fn->name,
                          (unsigned long long) inst->id, msg.text);
    }
  else if (r == 0 && inst->started && inst->fn->mode != RFD_MODE_WARM)
    rfd_histogram_add (&inst->fn->cold_hist, (double) (rfd_now () - inst->started) / RFD_S);
  if (r > 0 && msg.type != RF_SYNC_ERROR)
    return;
  rfd_watch_close (w);
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
    rfd_conn_again (client, (rfd_conn_kind_t) (uintptr_t) data);
}

static void
instance_relay_end (rfd_relay_t *r, int client, void *data)
{
  rfd_instance_t *inst = data;
  rfd_conn_kind_t kind = inst->relay_kind;
  inst->relay = NULL;
  if (client >= 0)
    rfd_conn_again (client, kind);
}

/* The handler closed without a byte: its exit says why (502, 504). */
static void
instance_relay_unanswered (rfd_relay_t *r, void *data)
{
}

/* Let a created instance go: with the client's socket (inetd, stdio), the
   listening socket (warm), or nothing (control-socket: the handler asks). */
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
      if (rf_sync_send_data (inst->sync_w.fd, RF_SYNC_START, 0, fn->mode == RFD_MODE_CONTROL ? -1 : pair[1], env,
                             len) < 0)
        {
          close (pair[0]);
          close (pair[1]);
          return -1;
        }
      inst->relay_kind = c->kind;
      inst->relay = rfd_relay_new (c->w.fd, pair[0], fn->timeout_ns + RELAY_GRACE, instance_relay_end,
                                   instance_relay_unanswered, inst);
      c->w.fd = pair[1]; /* what runfd keeps, and control.sock hands over */
    }
  else
    {
      if (c)
        fcntl (c->w.fd, F_SETFL, fcntl (c->w.fd, F_GETFL) & ~O_NONBLOCK);
      if (rf_sync_send_data (inst->sync_w.fd, RF_SYNC_START, 0, fn->mode == RFD_MODE_CONTROL ? -1 : fd, env, len)
          < 0)
        return -1;
    }
  inst->started = rfd_now ();
  inst->via_gateway = c && c->via_gateway;
  inst->sync_w.fn = on_sync;
  inst->sync_w.data = inst;
  rfd_watch_add (&inst->sync_w, EPOLLIN);
  inst->next = fn->running;
  fn->running = inst;
  fn->n_running++;
  if (fn->mode != RFD_MODE_WARM)
    running_total++;
  if (c)
    {
      /* runfd keeps its copy of the client's socket until the instance
         ends: to answer 502 or 504 if the handler could not. */
      inst->client_fd = c->w.fd;
      inst->accepted = c->accepted;
      c->w.fd = -1;
      fn->requests[RFD_REQ_OK]++;
      fn->invocations++;
      rfd_histogram_add (&fn->latency_hist, (double) (inst->started - c->accepted) / RFD_S);
      rfd_timer_init (&inst->timeout, on_timeout, inst);
      rfd_timer_arm (&inst->timeout, fn->timeout_ns);
      rfd_conn_free (c);
    }
  return 0;
}

/* A connection and a ready instance meet. */
static void
serve (rfd_function_t *fn, rfd_instance_t *inst, rfd_conn_t *c)
{
  if (instance_start (inst, c, c->w.fd) < 0)
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
      rfd_instance_t *inst = fn->ready;
      fn->ready = inst->next;
      fn->n_ready--;
      ready_total--;
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
      rfd_instance_t *inst = fn->ready;
      fn->ready = inst->next;
      fn->n_ready--;
      ready_total--;
      serve (fn, inst, c);
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
  inst->next = fn->ready;
  fn->ready = inst;
  fn->n_ready++;
  ready_total++;
  drain_queue (fn);
  rfd_pool_adjust (fn);
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
  if (status >= 0 && WIFSIGNALED (status))
    snprintf (how, sizeof how, "killed by signal %d", WTERMSIG (status));
  else if (status >= 0 && WIFEXITED (status))
    snprintf (how, sizeof how, "exit status %d", WEXITSTATUS (status));
  else
    snprintf (how, sizeof how, "gone");
  rfd_function_event (fn, "instance %s-%llu: ended without answering (%s)", fn->name, (unsigned long long) inst->id,
                      how);
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

  for (rfd_instance_t *i = fn->ready; i; i = i->next)
    if (i == inst)
      was_ready = true;
  if (was_ready)
    {
      list_remove (&fn->ready, inst);
      fn->n_ready--;
      ready_total--;
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

/* Out of the pool: killed now, freed when the spawner reports it reaped. */
static void
discard (rfd_instance_t *inst)
{
  inst->next = NULL;
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
    keep = 1 + (int) ceil (rate * 0.02);
  /* Scaled (or deployed with --min): never fewer, even idle. */
  if (keep < fn->min)
    keep = fn->min;
  fn->target = keep > POOL_MAX ? POOL_MAX : keep;
  while (fn->n_ready > fn->target)
    {
      rfd_instance_t *inst = fn->ready;
      fn->ready = inst->next;
      fn->n_ready--;
      ready_total--;
      discard (inst);
    }
  rfd_pool_adjust (fn);
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
      while (fn->n_ready + fn->n_creating < fn->n_queued && fn->n_creating < CREATING_MAX)
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
    {
      int t = 1 + (int) ceil (fn->rate * 0.02);
      fn->target = t > POOL_MAX ? POOL_MAX : t;
    }
  if (fn->target < fn->min)
    fn->target = fn->min > POOL_MAX ? POOL_MAX : fn->min;
  want = fn->target + fn->n_queued;
  while (fn->n_ready + fn->n_creating < want && fn->n_creating < CREATING_MAX
         && (ready_total + fn->n_creating < POOL_BUDGET || fn->n_queued))
    rfd_spawner_create (fn);
}

void
rfd_pool_drain (rfd_function_t *fn)
{
  while (fn->ready)
    {
      rfd_instance_t *inst = fn->ready;
      fn->ready = inst->next;
      fn->n_ready--;
      ready_total--;
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
  rfd_relay_new (client, fd, fn->timeout_ns + RELAY_GRACE, relay_again,
                 NULL, (void *) (uintptr_t) c->kind);
  rfd_conn_free (c);
}
