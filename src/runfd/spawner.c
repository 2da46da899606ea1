/* runfd's side of the spawner (spawner_main.c): started once, told what to
 * create; what it created comes back as instances ready for a request.
 * The protocol is in spawn_proto.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpass.h"
#include "common/log.h"
#include "runfd.h"
#include "runtime/cgroup.h"
#include "spawn_proto.h"

/* Two spawners per CPU unless --spawners says otherwise: a spawner is busy
   from the clone of an init until that init is ready, much of it waiting
   in the kernel, so creations run side by side only in several spawners.
   On 2 CPUs, 2 spawners made fresh containers 35% faster than one and 4
   another few percent; on 16, 32 spawners made 49% more than 4 did
   (issue 17).  The bound spares a machine of hundreds of CPUs hundreds
   of idle processes and sockets that no load of one runfd would use. */
#define SPAWNERS_PER_CPU 2
#define SPAWNERS_DEFAULT_MIN 2
#define SPAWNERS_DEFAULT_MAX 64
/* A spawner that dies this soon after its start, this many times in a
   row, will not do better: runfd stops, with an error. */
#define QUICK_DEATH (2 * RFD_S)
#define QUICK_DEATHS_MAX 5
typedef struct
{
  rfd_watch_t w;
  pid_t pid;
  int load; /* creations asked of it and not answered yet */
  uint64_t started;
  int quick_deaths;
  rfd_timer_t restart;
  unsigned serial; /* of this start: "s<serial>" is in every cgroup it makes */
} spawner_t;
static spawner_t *spawners;
static int n_spawners;
static uint64_t next_instance = 1;
static uint64_t spawner_restarts;
static unsigned spawner_serial;

/* Instances asked for and not yet created (per function). */
typedef struct pending
{
  struct pending *next;
  rfd_instance_t *inst;
  spawner_t *spawner;
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

static void spawner_died (spawner_t *sp);

static void
on_spawner (rfd_watch_t *w, uint32_t events)
{
  for (;;)
    {
      spawn_msg_t m;
      int fds[4];
      int r = rfd_spawn_recv (w->fd, &m, fds);
      if (r < 0 && errno == EAGAIN)
        return;
      if (r <= 0)
        {
          spawner_died (w->data);
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
          if (found)
            found->spawner->load--;
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
          found->inst->spawner = (int) (found->spawner - spawners);
          found->inst->sync_w.fd = fds[0];
          found->inst->pidfd = fds[1];
          found->inst->created = rfd_now ();
          rfd_histogram_add (&found->inst->fn->create_hist,
                             (double) (found->inst->created - found->inst->requested) / RFD_S);
          found->inst->fn->n_creating--;
          live_add (found->inst);
          rfd_instance_ready (found->inst);
          free (found);
        }
      else if (m.type == MSG_EXITED)
        {
          rfd_instance_t *inst = live_take (m.inst);
          if (inst)
            {
              inst->oom_killed = strcmp (m.text, "oom") == 0;
              rfd_instance_exited (inst, m.status);
            }
        }
      else
        for (int i = 0; i < 4; i++)
          if (fds[i] >= 0)
            close (fds[i]);
    }
}

/* As root, the spawners and so every instance (their forks) live below
   runfd's cgroup parent, whose device rules (runc's default allow list)
   bind them all: set once here, they cost an instance nothing. */
static rf_cgroup_t spawners_cgroup;

static int
fence_devices (rf_error_t *err)
{
  rf_cgroup_t parent;
  cleanup_free char *below = xasprintf ("/%s/spawners", rfd_config.cgroup_parent);
  cleanup_free char *path = xasprintf ("/%s", rfd_config.cgroup_parent);
  int r;

  if (rfd_config.rootless || spawners_cgroup.n)
    return 0;
  r = rf_cgroup_device_fence (&parent, path, err);
  rf_cgroup_clear (&parent);
  if (r < 0 || rf_cgroup_device_fence (&spawners_cgroup, below, err) < 0)
    return rf_error_wrap (err, "device rules for the instances");
  return 0;
}

static int
spawner_start (spawner_t *sp, rf_error_t *err)
{
  int sv[2];
  const char *argv[14];
  int argc = 0;
  char tag[16];

  sp->serial = ++spawner_serial;
  snprintf (tag, sizeof tag, "s%u", sp->serial);
  argv[argc++] = "runfd-spawner";
  argv[argc++] = "--cgroup-parent";
  argv[argc++] = rfd_config.cgroup_parent;
  argv[argc++] = "--cgroup-tag";
  argv[argc++] = tag;
  if (rfd_config.dev_template)
    {
      argv[argc++] = "--dev-template";
      argv[argc++] = rfd_config.dev_template;
    }
  if (rfd_config.rootless)
    argv[argc++] = "--rootless";
  if (rf_log_debug_p ())
    argv[argc++] = "--debug";
  if (rfd_config.log_file)
    {
      argv[argc++] = "--log";
      argv[argc++] = rfd_config.log_file;
    }
  argv[argc] = NULL;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return rf_error_sys (err, "spawner: socketpair");
  sp->pid = fork ();
  if (sp->pid < 0)
    {
      close (sv[0]);
      close (sv[1]);
      return rf_error_sys (err, "spawner: fork");
    }
  if (sp->pid == 0)
    {
      /* Nothing of runfd's but the socket to it: a listener kept open
         there would outlive the function it belongs to. */
      if (dup2 (sv[1], 3) < 0)
        _exit (127);
      syscall (SYS_close_range, 4, ~0U, 0);
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      execv (rfd_config.spawner_path, (char **) argv);
      fprintf (stderr, "runfd: exec `%s`: %s\n", rfd_config.spawner_path, strerror (errno));
      _exit (127);
    }
  close (sv[1]);
  /* Before runfd asks it for anything, so before any instance exists. */
  if (spawners_cgroup.n && rf_cgroup_enter (&spawners_cgroup, sp->pid, err) < 0)
    {
      close (sv[0]);
      return rf_error_wrap (err, "spawner: move it below the device rules");
    }
  sp->started = rfd_now ();
  sp->w.fd = sv[0];
  sp->w.fn = on_spawner;
  sp->w.data = sp;
  fcntl (sv[0], F_SETFL, O_NONBLOCK);
  if (rfd_watch_add (&sp->w, EPOLLIN) < 0)
    return rf_error_sys (err, "spawner: epoll");
  return 0;
}

static void define_all (spawner_t *sp);

static void
on_restart (rfd_timer_t *t)
{
  spawner_t *sp = t->data;
  rf_error_t err = NULL;
  if (spawner_start (sp, &err) < 0)
    {
      cleanup_free char *text = rf_error_text (err);
      rf_error_free (&err);
      rf_log (RF_LOG_ERROR, "%s; stopping", text);
      rfd_config.exit_status = 1;
      rfd_loop_stop ();
      return;
    }
  spawner_restarts++;
  define_all (sp);
  /* Pools and queues that waited for it. */
  for (rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    rfd_pool_adjust (fn);
}

/* The cgroups of a dead spawner: its instances' (they die with it) and
   those it kept for the next ones, all named NAME-s<serial>-N
   (spawner_main.c).  Removed here, once their processes are gone. */
typedef struct orphan
{
  struct orphan *next;
  unsigned serial;
  int tries;
} orphan_t;
static orphan_t *orphans;
static rfd_timer_t orphan_timer;

static bool
made_by_p (const char *name, unsigned serial)
{
  char tag[16];
  const char *n = strrchr (name, '-');
  size_t tl;
  if (n == NULL || n[1] == '\0' || strspn (n + 1, "0123456789") != strlen (n + 1))
    return false;
  tl = (size_t) snprintf (tag, sizeof tag, "-s%u", serial);
  return (size_t) (n - name) > tl && memcmp (n - tl, tag, tl) == 0;
}

/* Remove the dead spawner's cgroups; true while one is still busy (its
   processes are still going). */
static bool
remove_orphans (unsigned serial)
{
  size_t nh;
  rf_hierarchy_t *h = rf_cgroup_hierarchies (&nh);
  bool busy = false;
  for (size_t i = 0; i < nh; i++)
    {
      cleanup_free char *parent = xasprintf ("%s/%s", h[i].mountpoint, rfd_config.cgroup_parent);
      DIR *d = opendir (parent);
      struct dirent *de;
      while (d && (de = readdir (d)) != NULL)
        if (de->d_type == DT_DIR && made_by_p (de->d_name, serial)
            && unlinkat (dirfd (d), de->d_name, AT_REMOVEDIR) < 0 && errno == EBUSY)
          busy = true;
      if (d)
        closedir (d);
    }
  rf_cgroup_hierarchies_free (h, nh);
  return busy;
}

static void
on_orphans (rfd_timer_t *t)
{
  for (orphan_t **p = &orphans; *p;)
    {
      orphan_t *o = *p;
      if (remove_orphans (o->serial) && ++o->tries < 300)
        {
          p = &o->next;
          continue;
        }
      *p = o->next;
      free (o);
    }
  if (orphans)
    rfd_timer_arm (t, 100 * RFD_MS);
}

static void
orphans_add (const spawner_t *sp)
{
  orphan_t *o = xzalloc (sizeof *o);
  o->serial = sp->serial;
  o->next = orphans;
  orphans = o;
  rfd_timer_arm (&orphan_timer, 100 * RFD_MS);
}

/* A spawner died (killed, or crashed): the instances it made died with it
   (or are killed now), and their requests get 502, counted.  Another
   spawner takes its place; runfd serves on. */
static void
spawner_died (spawner_t *sp)
{
  int status = 0, idx = (int) (sp - spawners);
  uint64_t now = rfd_now ();
  uint64_t delay;
  pid_t r;

  rfd_watch_close (&sp->w);
  r = waitpid (sp->pid, &status, WNOHANG);
  if (r == 0)
    {
      /* It closed its socket but lives on: it is of no use any more. */
      kill (sp->pid, SIGKILL);
      while (waitpid (sp->pid, &status, 0) < 0 && errno == EINTR)
        ;
    }
  if (WIFSIGNALED (status))
    rf_log (RF_LOG_ERROR, "spawner %d (pid %d) was killed by signal %d; starting another", idx, (int) sp->pid,
            WTERMSIG (status));
  else
    rf_log (RF_LOG_ERROR, "spawner %d (pid %d) exited with status %d; starting another", idx, (int) sp->pid,
            WEXITSTATUS (status));
  sp->pid = 0;
  sp->load = 0;
  for (pending_t **p = &pending; *p;)
    {
      pending_t *found = *p;
      if (found->spawner != sp)
        {
          p = &found->next;
          continue;
        }
      *p = found->next;
      found->inst->fn->n_creating--;
      rfd_function_release (found->inst->fn);
      free (found->inst);
      free (found);
    }
  for (size_t i = 0; i < live_len;)
    {
      rfd_instance_t *inst = live[i];
      if (inst->spawner != idx)
        {
          i++;
          continue;
        }
      live[i] = live[--live_len];
      rfd_instance_kill (inst, SIGKILL);
      inst->lost = true;
      rfd_instance_exited (inst, -1);
    }
  orphans_add (sp);
  if (now - sp->started < QUICK_DEATH)
    sp->quick_deaths++;
  else
    sp->quick_deaths = 0;
  if (sp->quick_deaths >= QUICK_DEATHS_MAX)
    {
      rf_log (RF_LOG_ERROR, "spawner %d died %d times in a row right after its start; stopping", idx,
              sp->quick_deaths);
      rfd_config.exit_status = 1;
      rfd_loop_stop ();
      return;
    }
  delay = sp->quick_deaths ? (100 * RFD_MS) << sp->quick_deaths : 0;
  rfd_timer_arm (&sp->restart, delay);
  for (rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    rfd_pool_adjust (fn);
}

uint64_t
rfd_spawner_restarts (void)
{
  return spawner_restarts;
}

int
rfd_spawners_default (void)
{
  cpu_set_t set;
  long cpus = sched_getaffinity (0, sizeof set, &set) == 0 ? CPU_COUNT (&set) : sysconf (_SC_NPROCESSORS_ONLN);
  long n = SPAWNERS_PER_CPU * cpus;
  return n < SPAWNERS_DEFAULT_MIN ? SPAWNERS_DEFAULT_MIN : n > SPAWNERS_DEFAULT_MAX ? SPAWNERS_DEFAULT_MAX : (int) n;
}

int
rfd_spawner_start (rf_error_t *err)
{
  int n = rfd_config.spawners > 0 ? rfd_config.spawners : rfd_spawners_default ();

  if (access (rfd_config.spawner_path, X_OK) < 0)
    return rf_error_sys (err, "spawner `%s`", rfd_config.spawner_path);
  if (fence_devices (err) < 0)
    return -1;
  spawners = xzalloc (n * sizeof *spawners);
  for (int i = 0; i < n; i++)
    {
      spawners[i].w.fd = -1;
      rfd_timer_init (&spawners[i].restart, on_restart, &spawners[i]);
    }
  rfd_timer_init (&orphan_timer, on_orphans, NULL);
  n_spawners = n;
  rf_debug ("%d spawners", n_spawners);
  for (int i = 0; i < n_spawners; i++)
    if (spawner_start (&spawners[i], err) < 0)
      return -1;
  return 0;
}

void
rfd_spawner_stop (void)
{
  int status;
  for (int i = 0; i < n_spawners; i++)
    {
      spawner_t *sp = &spawners[i];
      rfd_timer_cancel (&sp->restart);
      if (sp->w.fd < 0)
        continue;
      rfd_watch_close (&sp->w);
      while (waitpid (sp->pid, &status, 0) < 0 && errno == EINTR)
        ;
    }
}

static int
define_one (spawner_t *sp, rfd_function_t *fn, rf_error_t *err)
{
  spawn_msg_t m = { .type = MSG_DEFINE, .fn = fn->id, .mode = (int32_t) fn->mode };
  size_t dl = strlen (fn->dir), nl = strlen (fn->name);
  int log_fd = rfd_log_write_fd (fn->log);
  if (sp->w.fd < 0)
    return 0;
  if (dl + nl + 2 > sizeof m.text)
    return rf_error_make (err, ENAMETOOLONG, "function `%s`: its directory path is too long", fn->name);
  memcpy (m.text, fn->dir, dl + 1);
  memcpy (m.text + dl + 1, fn->name, nl + 1);
  {
    /* The text is two strings: send both.  The log, and as root the
       function's network namespace (http: the instances make their
       own). */
    int netns_fd = fn->mode == RFD_MODE_HTTP ? -1 : fn->netns_fd;
    int fds[2] = { log_fd, netns_fd };
    if (rf_send_fds (sp->w.fd, &m, offsetof (spawn_msg_t, text) + dl + nl + 2, fds, netns_fd >= 0 ? 2 : 1) < 0)
      return rf_error_sys (err, "tell the spawner about `%s`", fn->name);
  }
  return 0;
}

int
rfd_spawner_define (rfd_function_t *fn, rf_error_t *err)
{
  for (int i = 0; i < n_spawners; i++)
    if (define_one (&spawners[i], fn, err) < 0)
      return -1;
  return 0;
}

/* A new spawner learns every function that may still need instances. */
static void
define_all (spawner_t *sp)
{
  for (rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    {
      rf_error_t err = NULL;
      if (fn->dir == NULL || fn->log == NULL)
        continue;
      if (define_one (sp, fn, &err) < 0)
        {
          cleanup_free char *text = rf_error_text (err);
          rf_warn ("%s", text);
          rf_error_free (&err);
        }
    }
}

void
rfd_spawner_forget (rfd_function_t *fn)
{
  spawn_msg_t m = { .type = MSG_FORGET, .fn = fn->id };
  for (int i = 0; i < n_spawners; i++)
    if (spawners[i].w.fd >= 0)
      rfd_spawn_send (spawners[i].w.fd, &m, NULL, 0);
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
  inst->sync_w.fd = inst->pidfd = inst->client_fd = inst->held_w.fd = -1;
  rfd_timer_init (&inst->timeout, NULL, inst);
  rfd_timer_init (&inst->probe, NULL, inst);
  m.inst = inst->id;
  /* The least busy spawner that is up. */
  p->spawner = NULL;
  for (int i = 0; i < n_spawners; i++)
    if (spawners[i].w.fd >= 0 && (p->spawner == NULL || spawners[i].load < p->spawner->load))
      p->spawner = &spawners[i];
  if (p->spawner == NULL)
    {
      /* All are being restarted: the pools are adjusted again then. */
      free (inst);
      free (p);
      return;
    }
  p->inst = inst;
  p->next = pending;
  pending = p;
  fn->n_creating++;
  p->spawner->load++;
  if (rfd_spawn_send (p->spawner->w.fd, &m, NULL, 0) < 0)
    {
      p->spawner->load--;
      pending = p->next;
      fn->n_creating--;
      free (inst);
      free (p);
      rfd_instance_failed (fn, "the spawner is gone");
    }
}
