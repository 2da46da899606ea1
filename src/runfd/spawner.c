/* The spawner: a single-threaded child of runfd that alone creates
 * containers (the runtime library clones and waits on the init's setup),
 * reaps them and removes their cgroups, off the daemon's request path.
 *
 * Protocol, one SOCK_SEQPACKET message each way per event:
 *   daemon  → spawner  DEFINE fn (its directory; the log fd, the shim fd)
 *                      FORGET fn
 *                      CREATE fn inst
 *   spawner → daemon   CREATED inst pid (the sync socket and a pidfd)
 *                      FAILED inst why
 *                      EXITED inst status
 * Created instances are the spawner's children; they die with it
 * (PR_SET_PDEATHSIG), and it kills the waiting ones when runfd goes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "runfd.h"
#include "runtime/container.h"
#include "runtime/linux/syscalls.h"

enum { MSG_DEFINE = 1, MSG_FORGET, MSG_CREATE, MSG_CREATED, MSG_FAILED, MSG_EXITED };

typedef struct
{
  uint32_t type;
  uint32_t fn;
  uint64_t inst;
  int32_t pid;
  int32_t status;
  char text[1024];
} spawn_msg_t;

static int
send_msg (int sock, spawn_msg_t *m, const int *fds, int nfds)
{
  struct iovec iov = { m, offsetof (spawn_msg_t, text) + strnlen (m->text, sizeof m->text - 1) + 1 };
  union
  {
    char buf[CMSG_SPACE (4 * sizeof (int))];
    struct cmsghdr align;
  } control;
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
  if (nfds > 0)
    {
      struct cmsghdr *cm;
      memset (&control, 0, sizeof control);
      mh.msg_control = control.buf;
      mh.msg_controllen = CMSG_SPACE (nfds * sizeof (int));
      cm = CMSG_FIRSTHDR (&mh);
      cm->cmsg_level = SOL_SOCKET;
      cm->cmsg_type = SCM_RIGHTS;
      cm->cmsg_len = CMSG_LEN (nfds * sizeof (int));
      memcpy (CMSG_DATA (cm), fds, nfds * sizeof (int));
    }
  while (sendmsg (sock, &mh, MSG_NOSIGNAL) < 0)
    if (errno != EINTR)
      return -1;
  return 0;
}

/* 1 with a message, 0 at EOF, -1 on error; fds gets up to 4 fds, -1 padded. */
static int
recv_msg (int sock, spawn_msg_t *m, int fds[4])
{
  struct iovec iov = { m, sizeof *m };
  union
  {
    char buf[CMSG_SPACE (4 * sizeof (int))];
    struct cmsghdr align;
  } control;
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf };
  ssize_t n;

  for (int i = 0; i < 4; i++)
    fds[i] = -1;
  do
    n = recvmsg (sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return n < 0 ? -1 : 0;
  m->text[sizeof m->text - 1] = '\0';
  for (struct cmsghdr *cm = CMSG_FIRSTHDR (&mh); cm; cm = CMSG_NXTHDR (&mh, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
      {
        size_t k = (cm->cmsg_len - CMSG_LEN (0)) / sizeof (int);
        memcpy (fds, CMSG_DATA (cm), (k > 4 ? 4 : k) * sizeof (int));
      }
  return 1;
}

/* --- the spawner process ---------------------------------------------------- */

typedef struct sp_function
{
  struct sp_function *next;
  uint32_t id;
  rf_spec_t *spec;
  char *dir;
  char *name;
  rfd_mode_t mode;
  int log_fd;
  int null_fd;
} sp_function_t;

typedef struct sp_instance
{
  struct sp_instance *next;
  uint64_t id;
  rf_container_t *c;
} sp_instance_t;

static sp_function_t *sp_functions;
static sp_instance_t *sp_instances;

static sp_function_t *
sp_find (uint32_t id)
{
  for (sp_function_t *f = sp_functions; f; f = f->next)
    if (f->id == id)
      return f;
  return NULL;
}

static void
sp_function_free (sp_function_t *f)
{
  rf_spec_free (f->spec);
  if (f->log_fd >= 0)
    close (f->log_fd);
  if (f->null_fd >= 0)
    close (f->null_fd);
  free (f->dir);
  free (f->name);
  free (f);
}

static void
sp_forget (uint32_t id)
{
  for (sp_function_t **p = &sp_functions; *p; p = &(*p)->next)
    if ((*p)->id == id)
      {
        sp_function_t *f = *p;
        *p = f->next;
        sp_function_free (f);
        return;
      }
}

static void
sp_define (int sock, spawn_msg_t *m, int fds[4])
{
  sp_function_t *f = xzalloc (sizeof *f);
  cleanup_free char *config = NULL;
  rf_error_t err = NULL;
  char *name = m->text + strlen (m->text) + 1;

  (void) sock;
  sp_forget (m->fn);
  f->id = m->fn;
  f->mode = (rfd_mode_t) m->status;
  f->dir = xstrdup (m->text);
  f->name = xstrndup (name, 256);
  f->log_fd = fds[0];
  fds[0] = -1;
  f->null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  config = xasprintf ("%s/config.json", f->dir);
  f->spec = rf_spec_load_file (config, &err);
  if (f->spec == NULL)
    {
      cleanup_free char *text = rf_error_text (err);
      rf_log (RF_LOG_ERROR, "spawner: function %u: %s", f->id, text);
      rf_error_free (&err);
    }
  f->next = sp_functions;
  sp_functions = f;
}

static void
sp_create (int sock, spawn_msg_t *m)
{
  sp_function_t *f = sp_find (m->fn);
  rf_create_opts_t opts;
  rf_container_t *c = NULL;
  rf_error_t err = NULL;
  cleanup_free char *id = NULL;
  cleanup_free char *cgroup = NULL;
  spawn_msg_t reply = { .type = MSG_FAILED, .fn = m->fn, .inst = m->inst };

  if (f == NULL || f->spec == NULL)
    {
      snprintf (reply.text, sizeof reply.text, "the function's config could not be loaded");
      send_msg (sock, &reply, NULL, 0);
      return;
    }
  id = xasprintf ("%s-%llu", f->name, (unsigned long long) m->inst);
  cgroup = xasprintf ("/runfd/%s", id);
  rf_create_opts_init (&opts);
  opts.id = id;
  opts.bundle = f->dir;
  opts.start_now = true;
  opts.no_state = true;
  opts.cgroup_minimal = true;
  opts.cgroup_path = cgroup;
  opts.rootless = rfd_config.rootless;
  opts.die_with_parent = true;
  opts.no_new_keyring = true;
  /* inetd and stdio: the socket is the handler's fd 3, stdin and stdout;
     warm: the listening socket is fd 3; control-socket: nothing comes
     with START, the handler asks for its socket. */
  opts.start_fd = f->mode != RFD_MODE_CONTROL;
  opts.start_fd_stdio = f->mode == RFD_MODE_INETD || f->mode == RFD_MODE_STDIO;
  opts.stdio[0] = f->null_fd;
  opts.stdio[1] = f->log_fd;
  opts.stdio[2] = f->log_fd;
  if (rf_container_create (&opts, f->spec, &c, &err) < 0)
    {
      cleanup_free char *text = rf_error_text (err);
      snprintf (reply.text, sizeof reply.text, "%s", text);
      rf_error_free (&err);
      send_msg (sock, &reply, NULL, 0);
      return;
    }
  {
    sp_instance_t *i = xzalloc (sizeof *i);
    int fds[2] = { c->sync_fd, c->pidfd };
    i->id = m->inst;
    i->c = c;
    i->next = sp_instances;
    sp_instances = i;
    reply.type = MSG_CREATED;
    reply.pid = c->pid;
    send_msg (sock, &reply, fds, c->pidfd >= 0 ? 2 : 1);
    /* runfd drives the instance through the sync socket from here. */
    close (c->sync_fd);
    c->sync_fd = -1;
  }
}

static void
sp_reap (int sock)
{
  for (;;)
    {
      int status;
      pid_t pid = waitpid (-1, &status, WNOHANG);
      if (pid <= 0)
        return;
      for (sp_instance_t **p = &sp_instances; *p; p = &(*p)->next)
        if ((*p)->c->pid == pid)
          {
            sp_instance_t *i = *p;
            spawn_msg_t m = { .type = MSG_EXITED, .inst = i->id, .pid = pid, .status = status };
            rf_error_t err = NULL;
            *p = i->next;
            /* The instance was reaped: nothing left runs in its cgroup
               (its pid namespace went with it). */
            if (i->c->cgroup.n && rf_cgroup_destroy (&i->c->cgroup, &err) < 0)
              {
                cleanup_free char *text = rf_error_text (err);
                rf_log (RF_LOG_WARN, "spawner: %s", text);
                rf_error_free (&err);
              }
            i->c->pid = 0;
            rf_container_free (i->c);
            free (i);
            send_msg (sock, &m, NULL, 0);
            break;
          }
    }
}

static void
sp_kill_all (void)
{
  for (sp_instance_t *i = sp_instances; i; i = i->next)
    if (i->c->pidfd >= 0)
      rf_pidfd_send_signal (i->c->pidfd, SIGKILL);
    else
      kill (i->c->pid, SIGKILL);
}

static void __attribute__ ((noreturn))
spawner_main (int sock)
{
  sigset_t mask;
  int sfd;

  prctl (PR_SET_NAME, "runfd-spawner", 0, 0, 0);
  /* Nothing of runfd's but the socket to it: a listener kept open here
     would outlive the function it belongs to. */
  for (int fd = 3; fd < 1024; fd++)
    if (fd != sock)
      close (fd);
  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGPIPE);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  sigdelset (&mask, SIGPIPE);
  sfd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

  for (;;)
    {
      struct pollfd p[2] = { { .fd = sock, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
      if (poll (p, 2, -1) < 0 && errno != EINTR)
        break;
      if (p[1].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          while (read (sfd, &si, sizeof si) == sizeof si)
            ;
          sp_reap (sock);
        }
      if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
        {
          spawn_msg_t m;
          int fds[4];
          int r = recv_msg (sock, &m, fds);
          if (r == 0 || (r < 0 && errno != EAGAIN))
            break;
          if (r < 0)
            continue;
          switch (m.type)
            {
            case MSG_DEFINE: sp_define (sock, &m, fds); break;
            case MSG_FORGET: sp_forget (m.fn); break;
            case MSG_CREATE: sp_create (sock, &m); break;
            default: break;
            }
          /* What a message carried and nobody took. */
          for (int i = 0; i < 4; i++)
            if (fds[i] >= 0)
              close (fds[i]);
        }
    }
  /* runfd is gone: what it did not start will never be, what it started
     has lost its daemon. */
  sp_kill_all ();
  while (sp_instances)
    {
      sigset_t all;
      int sig;
      sigemptyset (&all);
      sigaddset (&all, SIGCHLD);
      sp_reap (-1);
      if (sp_instances)
        sigwait (&all, &sig);
    }
  _exit (0);
}

/* --- the daemon's side ---------------------------------------------------- */

static rfd_watch_t spawner_w = { .fd = -1 };
static pid_t spawner_pid;
static uint64_t next_instance = 1;

/* Instances asked for and not yet created (per function). */
typedef struct pending
{
  struct pending *next;
  rfd_instance_t *inst;
} pending_t;
static pending_t *pending;
/* Every live instance, for EXITED. */
static rfd_instance_t **live;
static size_t live_len, live_cap;

static void
live_add (rfd_instance_t *inst)
{
  if (live_len == live_cap)
    {
      live_cap = live_cap ? live_cap * 2 : 64;
      live = xrealloc (live, live_cap * sizeof *live);
    }
  live[live_len++] = inst;
}

static rfd_instance_t *
live_take (uint64_t id)
{
  for (size_t i = 0; i < live_len; i++)
    if (live[i]->id == id)
      {
        rfd_instance_t *inst = live[i];
        live[i] = live[--live_len];
        return inst;
      }
  return NULL;
}

static void
on_spawner (rfd_watch_t *w, uint32_t events)
{
  for (;;)
    {
      spawn_msg_t m;
      int fds[4];
      int r = recv_msg (w->fd, &m, fds);
      if (r < 0 && errno == EAGAIN)
        return;
      if (r <= 0)
        {
          rf_log (RF_LOG_ERROR, "the spawner exited; stopping");
          rfd_watch_close (w);
          rfd_loop_stop ();
          return;
        }
      if (m.type == MSG_CREATED || m.type == MSG_FAILED)
        {
          pending_t **p, *found = NULL;
          for (p = &pending; *p; p = &(*p)->next)
            if ((*p)->inst->id == m.inst)
              {
                found = *p;
                *p = found->next;
                break;
              }
          if (found == NULL)
            {
              for (int i = 0; i < 4; i++)
                if (fds[i] >= 0)
                  close (fds[i]);
              continue;
            }
          if (m.type == MSG_FAILED)
            {
              rfd_function_t *fn = found->inst->fn;
              fn->n_creating--;
              free (found->inst);
              free (found);
              rfd_instance_failed (fn, m.text);
              continue;
            }
          found->inst->pid = m.pid;
          found->inst->sync_w.fd = fds[0];
          found->inst->pidfd = fds[1];
          found->inst->created = rfd_now ();
          found->inst->fn->n_creating--;
          live_add (found->inst);
          rfd_instance_ready (found->inst);
          free (found);
        }
      else if (m.type == MSG_EXITED)
        {
          rfd_instance_t *inst = live_take (m.inst);
          if (inst)
            rfd_instance_exited (inst, m.status);
        }
      else
        for (int i = 0; i < 4; i++)
          if (fds[i] >= 0)
            close (fds[i]);
    }
}

int
rfd_spawner_start (rf_error_t *err)
{
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return rf_error_sys (err, "spawner: socketpair");
  spawner_pid = fork ();
  if (spawner_pid < 0)
    return rf_error_sys (err, "spawner: fork");
  if (spawner_pid == 0)
    {
      close (sv[0]);
      spawner_main (sv[1]);
    }
  close (sv[1]);
  spawner_w.fd = sv[0];
  spawner_w.fn = on_spawner;
  fcntl (sv[0], F_SETFL, O_NONBLOCK);
  if (rfd_watch_add (&spawner_w, EPOLLIN) < 0)
    return rf_error_sys (err, "spawner: epoll");
  return 0;
}

void
rfd_spawner_stop (void)
{
  int status;
  if (spawner_w.fd < 0)
    return;
  rfd_watch_close (&spawner_w);
  while (waitpid (spawner_pid, &status, 0) < 0 && errno == EINTR)
    ;
}

int
rfd_spawner_define (rfd_function_t *fn, rf_error_t *err)
{
  spawn_msg_t m = { .type = MSG_DEFINE, .fn = fn->id, .status = (int32_t) fn->mode };
  size_t dl = strlen (fn->dir), nl = strlen (fn->name);
  if (dl + nl + 2 > sizeof m.text)
    return rf_error_make (err, ENAMETOOLONG, "function `%s`: its directory path is too long", fn->name);
  memcpy (m.text, fn->dir, dl + 1);
  memcpy (m.text + dl + 1, fn->name, nl + 1);
  {
    /* The text is two strings: send both. */
    struct iovec iov = { &m, offsetof (spawn_msg_t, text) + dl + nl + 2 };
    union
    {
      char buf[CMSG_SPACE (sizeof (int))];
      struct cmsghdr align;
    } control;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf };
    struct cmsghdr *cm = CMSG_FIRSTHDR (&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN (sizeof (int));
    memcpy (CMSG_DATA (cm), &fn->log_fd, sizeof (int));
    if (sendmsg (spawner_w.fd, &mh, MSG_NOSIGNAL) < 0)
      return rf_error_sys (err, "tell the spawner about `%s`", fn->name);
  }
  return 0;
}

void
rfd_spawner_forget (rfd_function_t *fn)
{
  spawn_msg_t m = { .type = MSG_FORGET, .fn = fn->id };
  send_msg (spawner_w.fd, &m, NULL, 0);
}

void
rfd_spawner_create (rfd_function_t *fn)
{
  rfd_instance_t *inst = xzalloc (sizeof *inst);
  pending_t *p = xzalloc (sizeof *p);
  spawn_msg_t m = { .type = MSG_CREATE, .fn = fn->id };

  inst->fn = fn;
  inst->id = next_instance++;
  inst->requested = rfd_now ();
  inst->sync_w.fd = inst->pidfd = inst->client_fd = -1;
  rfd_timer_init (&inst->timeout, NULL, inst);
  m.inst = inst->id;
  p->inst = inst;
  p->next = pending;
  pending = p;
  fn->n_creating++;
  if (send_msg (spawner_w.fd, &m, NULL, 0) < 0)
    {
      pending = p->next;
      fn->n_creating--;
      free (inst);
      free (p);
      rfd_instance_failed (fn, "the spawner is gone");
    }
}
