/* runfd-spawner: the one process that creates runfd's containers.  runfd
 * starts it once, with a socket to it as fd 3 (src/runfd/spawn_proto.h);
 * it creates an instance on request (the runtime library clones the init,
 * which waits for START on its sync socket), hands the sync socket and a
 * pidfd to runfd, reaps instances and keeps their cgroups for the next
 * ones (below), all off the daemon's request path.  Created instances are
 * its children and die with it (PR_SET_PDEATHSIG); it kills the waiting
 * ones when runfd goes.
 *
 * Each instance's init runs in this process's memory until its exec
 * (rf_create_opts_t.share_memory, linux/init.c): nothing is copied for it
 * and nothing torn down at its exec.  Where an instance's config needs
 * the fork path, its init is a fork of this process, which is why this
 * is a program of its own, not a fork of runfd: the kernel copies (and
 * the exec then tears down) every mapping of the parent.  runfd maps some
 * 250 areas (curl, TLS, libarchive); this maps about 20.  Sharing its
 * memory, this process stays single-threaded. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "runfd.h"
#include "spawn_proto.h"
#include "runtime/cgroup.h"
#include "runtime/cgroup_systemd.h"
#include "runtime/container.h"
#include "runtime/resources.h"
#include "runtime/selfexe.h"
#include "common/syscalls.h"

/* This program is linked statically (Makefile) and never asks systemd
   for a cgroup: the runtime's loader of libsystemd is replaced by this
   refusal, which keeps the dynamic loader out of the link. */
int
rf_libsystemd_load (void **handle, const char *const *names, void **fns, size_t n, rf_error_t *err)
{
  (void) handle, (void) names, (void) fns, (void) n;
  return rf_error_make (err, ENOSYS, "--systemd-cgroup: runfd-spawner is linked statically and cannot load libsystemd");
}

static bool rootless;
static const char *dev_template;
static const char *cgroup_parent = "runfd";
/* In the name of every cgroup made here: runfd removes them by it when
   this spawner dies (spawner.c). */
static const char *cgroup_tag = "s0";
/* runfd is gone: no instance's cgroup is kept any more. */
static bool stopping;

/* A function's instances take their cgroups from a short list that this
   spawner keeps: made ahead while it has nothing else to do, or left by an
   instance that ended, once reset (runtime/cgroup_reuse.c).  A mkdir and
   an rmdir in each hierarchy, and the kernel's work behind them, cost a
   fresh container with --memory --pids --cpus half its rate (issue 17).
   A cgroup is in the list or in one instance, never in two.  The list is
   short because each spawner keeps its own, and it goes when the function
   is forgotten, when it is not used for a while, and with the spawner. */
#define CGROUPS_KEPT 4
#define CGROUPS_AHEAD 2
#define CGROUPS_IDLE_MS (30 * 1000)

typedef struct sp_function
{
  struct sp_function *next;
  uint32_t id;
  rf_spec_t *spec;
  char *dir;
  char *real_dir, *rootfs; /* resolved once (rf_container_resolve), or NULL */
  char *name;
  rfd_mode_t mode;
  int log_fd;
  int null_fd;
  int netns_fd; /* as root, not host: its network namespace, entered for each clone */
  uint64_t serial;    /* of this definition: an instance of an earlier one gives no cgroup back */
  rf_resources_t res; /* the limits, for the resets */
  bool no_cgroups;    /* its instances need none, or none can be made (rootless) */
  uint64_t last_create; /* ms; 0: none made here since the list was last emptied */
  rf_cgroup_t kept[CGROUPS_KEPT];
  size_t n_kept;
  unsigned long long next_cgroup;
} sp_function_t;

typedef struct sp_instance
{
  struct sp_instance *next;
  uint64_t id;
  uint32_t fn;
  uint64_t fn_serial;
  rf_container_t *c;
} sp_instance_t;

/* None: every action here is the default (main), so the instances need
   not reset any. */
static sigset_t changed_signals;

static sp_function_t *sp_functions;
static sp_instance_t *sp_instances;
static uint64_t next_serial = 1;

static uint64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static void
cgroup_remove (rf_cgroup_t *cg)
{
  rf_error_t err = NULL;
  /* Nothing runs in it: its instance was reaped (its pid namespace went
     with it), or it never had one. */
  if (cg->n && rf_cgroup_destroy (cg, &err) < 0)
    {
      cleanup_free char *text = rf_error_text (err);
      rf_log (RF_LOG_WARN, "spawner: %s", text);
      rf_error_free (&err);
    }
  rf_cgroup_clear (cg);
}

static void
cgroups_release (sp_function_t *f)
{
  while (f->n_kept)
    cgroup_remove (&f->kept[--f->n_kept]);
  f->last_create = 0;
}

/* A cgroup for an instance of f, with f's limits: runfd/<key>/NAME-TAG-N,
   in the hierarchies the limits need.  Empty (and f marked) where they
   need none or none can be made. */
static int
cgroup_make (sp_function_t *f, rf_cgroup_t *cg, rf_error_t *err)
{
  cleanup_free char *path = xasprintf ("/%s/%s-%s-%llu", cgroup_parent, f->name, cgroup_tag, f->next_cgroup++);
  if (rf_cgroup_create (cg, f->spec, f->name, rootless, true, path, err) < 0)
    return -1;
  if (cg->n == 0)
    f->no_cgroups = true;
  return 0;
}

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
  cgroups_release (f);
  rf_resources_clear (&f->res);
  rf_spec_free (f->spec);
  if (f->log_fd >= 0)
    close (f->log_fd);
  if (f->null_fd >= 0)
    close (f->null_fd);
  if (f->netns_fd >= 0)
    close (f->netns_fd);
  free (f->dir);
  free (f->real_dir);
  free (f->rootfs);
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
  f->serial = next_serial++;
  rf_resources_init (&f->res);
  f->mode = (rfd_mode_t) m->mode;
  f->dir = xstrdup (m->text);
  f->name = xstrndup (name, 256);
  f->log_fd = fds[0];
  fds[0] = -1;
  f->netns_fd = fds[1];
  fds[1] = -1;
  f->null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  config = xasprintf ("%s/config.json", f->dir);
  f->spec = rf_spec_load_file (config, &err);
  if (f->spec == NULL)
    {
      cleanup_free char *text = rf_error_text (err);
      rf_log (RF_LOG_ERROR, "spawner: function %u: %s", f->id, text);
      rf_error_free (&err);
    }
  else if (rf_resources_parse (json_object_get (json_object_get (f->spec->raw, "linux"), "resources"),
                               "linux.resources", &f->res, &err) < 0)
    {
      /* Each creation says it, as rf_cgroup_create fails on it too. */
      rf_error_free (&err);
      rf_resources_init (&f->res);
    }
  /* runfd made the bundle and owns the store: its paths stay what they
     resolve to now.  Unresolved, each creation says why. */
  if (f->spec && rf_container_resolve (f->spec, f->dir, &f->real_dir, &f->rootfs, &err) < 0)
    rf_error_free (&err);
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
  rf_cgroup_t cgroup = { 0 };
  spawn_msg_t reply = { .type = MSG_FAILED, .fn = m->fn, .inst = m->inst };

  if (f == NULL || f->spec == NULL)
    {
      snprintf (reply.text, sizeof reply.text, "the function's config could not be loaded");
      rfd_spawn_send (sock, &reply, NULL, 0);
      return;
    }
  id = xasprintf ("%s-%llu", f->name, (unsigned long long) m->inst);
  f->last_create = now_ms ();
  if (f->n_kept)
    cgroup = f->kept[--f->n_kept];
  else if (!f->no_cgroups && cgroup_make (f, &cgroup, &err) < 0)
    {
      cleanup_free char *text = rf_error_text (err);
      snprintf (reply.text, sizeof reply.text, "%s", text);
      rf_error_free (&err);
      rfd_spawn_send (sock, &reply, NULL, 0);
      return;
    }
  rf_create_opts_init (&opts);
  opts.id = id;
  opts.bundle = f->real_dir ? f->real_dir : f->dir;
  opts.rootfs = f->rootfs;
  opts.start_now = true;
  opts.no_state = true;
  /* Taken over by the container, and removed with it if it fails. */
  opts.cgroup = &cgroup;
  opts.rootless = rootless;
  opts.die_with_parent = true;
  opts.no_new_keyring = true;
  opts.rootfs_nosuid_nodev = true;
  opts.netns_fd = f->netns_fd;
  opts.changed_signals = &changed_signals;
  /* This process keeps nothing an init could disturb before its exec:
     it waits for it until READY, and after READY the init touches only
     its own stack. */
  opts.share_memory = true;
  /* inetd and stdio: the socket is the handler's fd 3, stdin and stdout;
     warm: the listening socket is fd 3; control-socket and http: nothing
     comes with START, the handler is started ahead of its request. */
  opts.start_fd = f->mode == RFD_MODE_INETD || f->mode == RFD_MODE_STDIO || f->mode == RFD_MODE_WARM;
  opts.start_fd_stdio = f->mode == RFD_MODE_INETD || f->mode == RFD_MODE_STDIO;
  opts.stdio[0] = f->null_fd;
  opts.stdio[1] = f->log_fd;
  opts.stdio[2] = f->log_fd;
  if (rf_container_create (&opts, f->spec, &c, &err) < 0)
    {
      cleanup_free char *text = rf_error_text (err);
      /* Not taken over where the creation failed before the cgroup's turn. */
      cgroup_remove (&cgroup);
      snprintf (reply.text, sizeof reply.text, "%s", text);
      rf_error_free (&err);
      rfd_spawn_send (sock, &reply, NULL, 0);
      return;
    }
  {
    sp_instance_t *i = xzalloc (sizeof *i);
    int fds[2] = { c->sync_fd, c->pidfd };
    i->id = m->inst;
    i->fn = f->id;
    i->fn_serial = f->serial;
    i->c = c;
    i->next = sp_instances;
    sp_instances = i;
    reply.type = MSG_CREATED;
    reply.pid = c->pid;
    rfd_spawn_send (sock, &reply, fds, c->pidfd >= 0 ? 2 : 1);
    /* runfd drives the instance through the sync socket from here. */
    close (c->sync_fd);
    c->sync_fd = -1;
  }
}

/* An ended instance's cgroup: back to its function's list, reset, or
   removed.  One that counted an OOM kill is removed: no file resets the
   count, and a kill left in it would be the next instance's, reported as
   the next client's "out of memory". */
static void
cgroup_recycle (const sp_instance_t *i, rf_cgroup_t *cg, bool oom_killed)
{
  sp_function_t *f = sp_find (i->fn);
  rf_error_t err = NULL;

  if (cg->n == 0)
    return;
  if (stopping || oom_killed || f == NULL || f->serial != i->fn_serial || f->last_create == 0
      || f->n_kept == CGROUPS_KEPT)
    {
      cgroup_remove (cg);
      return;
    }
  if (rf_cgroup_reset (cg, &f->res, &err) < 0)
    {
      cleanup_free char *text = rf_error_text (err);
      rf_debug ("spawner: %s: removed, not kept", text);
      rf_error_free (&err);
      cgroup_remove (cg);
      return;
    }
  f->kept[f->n_kept++] = *cg;
  memset (cg, 0, sizeof *cg);
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
            /* Read before the cgroup is used again: nothing in it may
               count what an instance before did (see cgroup_recycle). */
            bool oom_killed = i->c->cgroup.n && rf_cgroup_oom_kills (&i->c->cgroup) > 0;
            *p = i->next;
            if (oom_killed)
              strcpy (m.text, "oom");
            rfd_spawn_send (sock, &m, NULL, 0);
            /* The instance was reaped: nothing left runs in its cgroup
               (its pid namespace went with it). */
            cgroup_recycle (i, &i->c->cgroup, oom_killed);
            i->c->pid = 0;
            rf_container_free (i->c);
            free (i);
            break;
          }
    }
}

/* While no message waits: a cgroup made ahead for a function in use whose
   list runs short, or the list of one unused for a while removed.  Returns
   how long the loop may wait for a message before it calls again (-1:
   until one comes). */
static int
cgroups_tend (void)
{
  uint64_t now = now_ms ();
  int wait = -1;
  for (sp_function_t *f = sp_functions; f; f = f->next)
    {
      if (f->last_create == 0 || f->no_cgroups || f->spec == NULL)
        continue;
      if (now - f->last_create >= CGROUPS_IDLE_MS)
        {
          cgroups_release (f);
          continue;
        }
      if (f->n_kept < CGROUPS_AHEAD)
        {
          rf_error_t err = NULL;
          rf_cgroup_t cg;
          if (cgroup_make (f, &cg, &err) < 0)
            {
              /* The next creation says why; none ahead till then. */
              rf_error_free (&err);
              cgroups_release (f);
              return 0;
            }
          if (cg.n)
            f->kept[f->n_kept++] = cg;
          return 0;
        }
      {
        uint64_t left = f->last_create + CGROUPS_IDLE_MS - now;
        if (wait < 0 || left < (uint64_t) wait)
          wait = (int) left;
      }
    }
  return wait;
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

/* As root: the instances' /dev, made once.  In a mount namespace of the
   spawner's own (a slave of the host's, so that the store's mounts still
   reach it), a tmpfs at DIR with the default devices and links; every
   instance's init is a fork of this process and binds it as its /dev
   instead of making a tmpfs, six device binds and five links for each.
   The nodes are made with mknod, so that the bind is one mount, not seven.
   The mount goes with the spawner. */
static int
make_dev_template (const char *dir)
{
  rf_error_t err = NULL;
  if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0
      || mount ("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k") < 0)
    rf_error_sys (&err, "device template `%s`", dir);
  else
    rf_devices_template (dir, &err);
  if (err)
    {
      cleanup_free char *text = rf_error_text (err);
      rf_log (RF_LOG_ERROR, "%s", text);
      rf_error_free (&err);
      return -1;
    }
  return 0;
}

int
main (int argc, char **argv)
{
  const int sock = 3;
  sigset_t mask;
  int sfd;

  rf_log_init ("runfd-spawner");
  /* Every instance is a fork of this process: from here on they all run
     from a sealed copy of the binary (runtime/selfexe.h). */
  {
    rf_error_t err = NULL;
    if (rf_self_exe_protect (argv, &err) < 0)
      {
        cleanup_free char *text = rf_error_text (err);
        fprintf (stderr, "runfd-spawner: %s\n", text);
        rf_error_free (&err);
        return 2;
      }
  }
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--rootless") == 0)
      rootless = true;
    else if (strcmp (argv[i], "--cgroup-parent") == 0 && i + 1 < argc)
      cgroup_parent = argv[++i];
    else if (strcmp (argv[i], "--cgroup-tag") == 0 && i + 1 < argc)
      cgroup_tag = argv[++i];
    else if (strcmp (argv[i], "--dev-template") == 0 && i + 1 < argc)
      dev_template = argv[++i];
    else if (strcmp (argv[i], "--debug") == 0)
      rf_log_set_debug (true);
    else if (strcmp (argv[i], "--log") == 0 && i + 1 < argc)
      {
        char *why = NULL;
        if (rf_log_open (argv[++i], "text", &why) < 0)
          {
            fprintf (stderr, "runfd-spawner: --log: %s\n", why);
            return 2;
          }
      }
    else
      {
        fprintf (stderr, "runfd-spawner: runfd starts it, with its socket as fd 3; `%s` is unknown\n", argv[i]);
        return 2;
      }
  if (fcntl (sock, F_GETFD) < 0)
    {
      fprintf (stderr, "runfd-spawner: runfd starts it, with its socket as fd 3\n");
      return 2;
    }
  rf_cgroup_cache_hierarchies ();
  if (dev_template && make_dev_template (dev_template) < 0)
    return 1;
  /* runfd ignores some signals, and an ignored one stays ignored across
     exec: back to the defaults, once here rather than in each instance.
     The ones this program acts on are blocked and read from a signalfd;
     no handler is ever set. */
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      rf_signal_default (sig);
  sigemptyset (&changed_signals);
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
      int ready = poll (p, 2, 0);
      if (ready == 0)
        ready = poll (p, 2, cgroups_tend ());
      if (ready < 0 && errno != EINTR)
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
          int r = rfd_spawn_recv (sock, &m, fds);
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
  stopping = true;
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
  while (sp_functions)
    sp_forget (sp_functions->id);
  return 0;
}
