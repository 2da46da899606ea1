/* runfd-spawner: the one process that creates runfd's containers.  runfd
 * starts it once, with a socket to it as fd 3 (src/runfd/spawn_proto.h);
 * it creates an instance on request (the runtime library clones the init,
 * which waits for START on its sync socket), hands the sync socket and a
 * pidfd to runfd, reaps instances and removes their cgroups, all off the
 * daemon's request path.  Created instances are its children and die with
 * it (PR_SET_PDEATHSIG); it kills the waiting ones when runfd goes.
 *
 * A program of its own, not a fork of runfd: every container's init is a
 * fork of this process, and the kernel copies (and the exec then tears
 * down) every mapping of it.  runfd maps some 250 areas (curl, TLS,
 * libarchive); this maps about 20. */
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
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "runfd.h"
#include "spawn_proto.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/linux/devices.h"
#include "runtime/linux/selfexe.h"
#include "common/syscalls.h"

static bool rootless;
static const char *dev_template;
static const char *cgroup_parent = "runfd";

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
  int netns_fd; /* as root, not host: its network namespace, entered for each clone */
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
  if (f->netns_fd >= 0)
    close (f->netns_fd);
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
      rfd_spawn_send (sock, &reply, NULL, 0);
      return;
    }
  id = xasprintf ("%s-%llu", f->name, (unsigned long long) m->inst);
  cgroup = xasprintf ("/%s/%s", cgroup_parent, id);
  rf_create_opts_init (&opts);
  opts.id = id;
  opts.bundle = f->dir;
  opts.start_now = true;
  opts.no_state = true;
  opts.cgroup_minimal = true;
  opts.cgroup_path = cgroup;
  opts.rootless = rootless;
  opts.die_with_parent = true;
  opts.no_new_keyring = true;
  opts.rootfs_nosuid_nodev = true;
  opts.netns_fd = f->netns_fd;
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
      snprintf (reply.text, sizeof reply.text, "%s", text);
      rf_error_free (&err);
      rfd_spawn_send (sock, &reply, NULL, 0);
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
    rfd_spawn_send (sock, &reply, fds, c->pidfd >= 0 ? 2 : 1);
    /* runfd drives the instance through the sync socket from here. */
    close (c->sync_fd);
    c->sync_fd = -1;
  }
}

/* Whether the kernel's OOM killer killed a process of the instance's
   memory cgroup: its oom_kill count (memory.events on v2,
   memory.oom_control on v1), read before the cgroup goes. */
static bool
oom_killed_p (const rf_cgroup_t *cg)
{
  const rf_cgroup_dir_t *mem = rf_cgroup_find (cg, "memory");
  cleanup_free char *path = NULL;
  cleanup_free char *text = NULL;
  char *p;
  if (mem == NULL)
    return false;
  path = xasprintf ("%s/%s", mem->dir, mem->v2 ? "memory.events" : "memory.oom_control");
  if (rf_read_file_at (AT_FDCWD, path, 0, &text, NULL, NULL) < 0)
    return false;
  p = strstr (text, "oom_kill ");
  return p && strtoull (p + 9, NULL, 10) > 0;
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
            if (oom_killed_p (&i->c->cgroup))
              strcpy (m.text, "oom");
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
            rfd_spawn_send (sock, &m, NULL, 0);
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

/* As root: the instances' /dev, made once.  In a mount namespace of the
   spawner's own (a slave of the host's, so that the store's mounts still
   reach it), a tmpfs at DIR with the default devices and links; every
   instance's init is a fork of this process and binds it as its /dev
   instead of making a tmpfs, six device binds and five links for each.
   The mounts go with the spawner. */
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
     from a sealed copy of the binary (runtime/linux/selfexe.h). */
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
  return 0;
}
