#include "container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capnames.h"
#include "cgroup_systemd.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "linux/init.h"
#include "linux/mounts.h"
#include "linux/process.h"
#include "rdt.h"
#include "selfexe.h"
#include "linux/sync_parent.h"
#include "common/syscalls.h"
#include "linux/userns.h"

static void run_poststart (const char *root, const rf_state_t *st);
static void run_poststop (const char *root, const rf_state_t *st);

static int
resolve_rootfs (const rf_spec_t *spec, const char *bundle, char **out, rf_error_t *err)
{
  cleanup_free char *path = spec->root_path[0] == '/'
                                ? xstrdup (spec->root_path)
                                : xasprintf ("%s/%s", bundle, spec->root_path);
  char *real = realpath (path, NULL);
  struct stat st;

  if (real == NULL)
    return rf_error_sys (err, "root.path `%s`", path);
  if (stat (real, &st) < 0 || !S_ISDIR (st.st_mode))
    {
      free (real);
      return rf_error_make (err, ENOTDIR, "root.path `%s`: not a directory", path);
    }
  *out = real;
  return 0;
}

int
rf_container_resolve (const rf_spec_t *spec, const char *bundle, char **real_bundle, char **real_rootfs,
                      rf_error_t *err)
{
  cleanup_free char *real = realpath (bundle ? bundle : ".", NULL);
  if (real == NULL)
    return rf_error_sys (err, "bundle `%s`", bundle ? bundle : ".");
  if (resolve_rootfs (spec, real, real_rootfs, err) < 0)
    return -1;
  *real_bundle = steal_pointer (&real);
  return 0;
}

/* opts.netns_fd: this process's own network namespace, to come back to. */
static int own_netns = -1;

static int
enter_netns (int fd, rf_error_t *err)
{
  if (own_netns < 0)
    {
      own_netns = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
      if (own_netns < 0)
        return rf_error_sys (err, "open /proc/self/ns/net");
    }
  if (setns (fd, CLONE_NEWNET) < 0)
    return rf_error_sys (err, "enter the container's network namespace");
  return 0;
}

static void
leave_netns (void)
{
  /* Back where it came from: a failure here would leave every later
     container of this process in the wrong network. */
  if (setns (own_netns, CLONE_NEWNET) < 0)
    abort ();
}

static int
check_spec (const rf_create_opts_t *opts, const rf_spec_t *spec, rf_error_t *err)
{
  if (!spec->has_process)
    return rf_error_make (err, 0, "process: missing");
  if (rf_spec_namespace (spec, CLONE_NEWNS) == NULL)
    return rf_error_make (err, 0, "linux.namespaces: runf needs a mount namespace");
  if (spec->process.terminal && opts->console_socket == NULL && !opts->start_now)
    return rf_error_make (err, 0,
                          "process.terminal: a detached container needs --console-socket");
  if (opts->preserve_fds < 0 || opts->listen_fds < 0 || opts->listen_fds > opts->preserve_fds)
    return rf_error_make (err, 0, "--preserve-fds: must not be negative");
  if ((opts->no_state || opts->start_fd) && !opts->start_now)
    return rf_error_make (err, 0, "containers without state or with a start fd are started by their creator");
  if (opts->netns_fd >= 0 && rf_spec_namespace (spec, CLONE_NEWNET) != NULL)
    return rf_error_make (err, 0, "linux.namespaces: a network namespace, and another one given to join");
  return 0;
}

/* Wait up to timeout_ms for the process behind pidfd (or pid) to exit. */
static int
wait_exit (int pidfd, pid_t pid, unsigned long long start_time, int timeout_ms)
{
  if (pidfd >= 0)
    {
      struct pollfd p = { .fd = pidfd, .events = POLLIN };
      int r;
      do
        r = poll (&p, 1, timeout_ms);
      while (r < 0 && errno == EINTR);
      return r > 0 ? 0 : -1;
    }
  for (int waited = 0; waited < timeout_ms; waited += 5)
    {
      bool zombie;
      unsigned long long t = rf_proc_start_time (pid, &zombie);
      if (t == 0 || t != start_time || zombie)
        return 0;
      usleep (5000);
    }
  return -1;
}

/* The parent's half of the setup protocol, until init says READY. */
static int
drive_setup (rf_container_t *c, const rf_create_opts_t *opts, const rf_spec_t *spec,
             const char *bundle, pid_t stage_pid, bool join_cgroup, bool via_systemd, rf_error_t *err)
{
  rf_sync_parent_t peer = {
    .fd = c->sync_fd,
    .child = "the container's init",
    .verb = "create",
    .speaker = "init",
    .id = c->id,
    .console_socket = opts->console_socket,
    .pty_master = &c->pty_master,
    .seccomp = &spec->seccomp,
    /* Status "creating": init exists, the process does not yet. */
    .status = "creating",
    .pid = &c->pid,
    .bundle = bundle,
    .annotations = spec->annotations,
    .accept = RF_SYNC_BIT (RF_SYNC_SETUP) | RF_SYNC_BIT (RF_SYNC_CHILD_PID)
              | RF_SYNC_BIT (RF_SYNC_HOOKS) | RF_SYNC_BIT (RF_SYNC_READY),
  };
  for (;;)
    {
      rf_sync_msg_t msg;
      int r = rf_sync_parent_next (&peer, &msg, err);

      if (r < 0)
        return -1;
      if (r == 0)
        {
          cleanup_free char *why = rf_child_exit_text (stage_pid, false);
          if (c->pid != stage_pid && c->pid > 0)
            {
              free (why);
              why = rf_child_exit_text (c->pid, false);
            }
          return rf_error_make (err, EPIPE, "the container's init exited during setup%s", why);
        }
      switch (msg.type)
        {
        case RF_SYNC_READY:
          return 0;
        case RF_SYNC_SETUP:
          /* systemd moves init into the unit it makes for it. */
          if (via_systemd
              && rf_cgroup_systemd_create (&c->cgroup, spec, opts->id, opts->rootless, stage_pid, err) < 0)
            return -1;
          if (!via_systemd && join_cgroup && rf_cgroup_enter_v2 (&c->cgroup, stage_pid, err) < 0)
            return rf_error_wrap (err, "move init into its cgroup");
          if (c->new_userns && rf_userns_write_maps (stage_pid, spec, err) < 0)
            return -1;
          if (c->new_userns && !opts->rootless
              && rf_mount_sources_send (stage_pid, spec, bundle, c->sync_fd, err) < 0)
            return -1;
          /* Init stops being dumpable after this (linux/process.h): an
             unprivileged runf can read its namespaces only now.  For the
             state file, which runfd's instances have none of. */
          if (!opts->no_state)
            c->mnt_ns = rf_proc_mnt_ns (stage_pid);
          if (rf_sync_send (c->sync_fd, RF_SYNC_SETUP_DONE, 0, -1) < 0)
            return rf_error_sys (err, "write to the container's init");
          break;
        case RF_SYNC_CHILD_PID:
          rf_child_reap (stage_pid);
          c->pid = msg.pid;
          if (c->pidfd >= 0)
            close (c->pidfd);
          c->pidfd = rf_pidfd_open (c->pid);
          break;
        case RF_SYNC_HOOKS:
          {
            cleanup_free char *state = rf_hooks_state_json (c->id, "creating", c->pid, bundle,
                                                            spec->annotations);
            if (rf_hooks_run (&spec->hooks, RF_HOOK_PRESTART, state, NULL, err) < 0
                || rf_hooks_run (&spec->hooks, RF_HOOK_CREATE_RUNTIME, state, NULL, err) < 0)
              return -1;
            if (rf_sync_send (c->sync_fd, RF_SYNC_HOOKS_DONE, c->pid, -1) < 0)
              return rf_error_sys (err, "write to the container's init");
          }
          break;
        }
    }
}

/* The stacks of inits that share this process's memory: one is an init's
   from its clone until it is reaped, and then kept for the next one, its
   pages already there.  A guard page below each. */
#define INIT_STACK_SIZE (256 * 1024)
#define INIT_STACKS_KEPT 16

static void *init_stacks[INIT_STACKS_KEPT];
static size_t n_init_stacks;

static void *
init_stack_take (void)
{
  size_t page = (size_t) sysconf (_SC_PAGESIZE);
  char *base;

  if (n_init_stacks)
    return init_stacks[--n_init_stacks];
  base = mmap (NULL, INIT_STACK_SIZE + page, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (base == MAP_FAILED)
    return NULL;
  if (mprotect (base, page, PROT_NONE) < 0)
    {
      munmap (base, INIT_STACK_SIZE + page);
      return NULL;
    }
  return base + page;
}

static void
init_stack_give (void *stack)
{
  size_t page = (size_t) sysconf (_SC_PAGESIZE);
  if (n_init_stacks < INIT_STACKS_KEPT)
    init_stacks[n_init_stacks++] = stack;
  else
    munmap ((char *) stack - page, INIT_STACK_SIZE + page);
}

/* The child of rf_clone_vm: init, on a copy of its context, since the
   one passed lives in its creator's frame. */
static int
shared_init_main (void *arg)
{
  rf_init_t ctx = *(const rf_init_t *) arg;
  rf_init_main (&ctx);
}

/* clone3 as args says, init sharing this process's memory where
   ctx->shared_memory (c gets its stack), a fork-like child otherwise. */
static pid_t
clone_init (struct rf_clone_args *args, rf_init_t *ctx, rf_container_t *c)
{
  pid_t child;
  if (!ctx->shared_memory)
    return rf_clone3 (args);
  if (c->init_stack == NULL && (c->init_stack = init_stack_take ()) == NULL)
    return -1;
  args->stack = (uint64_t) (uintptr_t) c->init_stack;
  args->stack_size = INIT_STACK_SIZE;
  child = rf_clone_vm (args, shared_init_main, ctx);
  args->stack = args->stack_size = 0;
  return child;
}

int
rf_container_create (const rf_create_opts_t *opts, const rf_spec_t *spec,
                     rf_container_t **out, rf_error_t *err)
{
  cleanup_free char *bundle = NULL;
  cleanup_free char *rootfs = NULL;
  cleanup_free char *fifo = NULL;
  cleanup_close int fifo_fd = -1;
  cleanup_close int cgroup_fd = -1;
  int task_fds[32];
  size_t n_task_fds = 0;
  int fds[2] = { -1, -1 };
  int min_fd = 3 + opts->preserve_fds;
  int new_flags = 0;
  bool any_path = false;
  bool via_systemd = opts->systemd_cgroup && opts->cgroup == NULL && rf_systemd_booted_p ();
  rf_container_t *c;
  rf_init_t ctx;
  struct rf_clone_args args;
  pid_t child;

  if (rf_id_check (opts->id, err) < 0 || check_spec (opts, spec, err) < 0)
    return -1;
  if (opts->rootfs)
    {
      bundle = xstrdup (opts->bundle);
      rootfs = xstrdup (opts->rootfs);
    }
  else if (rf_container_resolve (spec, opts->bundle, &bundle, &rootfs, err) < 0)
    return -1;

  c = xzalloc (sizeof *c);
  c->id = xstrdup (opts->id);
  c->root = xstrdup (opts->state_root ? opts->state_root : "");
  c->pidfd = c->sync_fd = c->pty_master = -1;
  if (opts->no_state)
    ;
  else if (rf_mkdir_p (opts->state_root, 0700, err) < 0)
    {
      rf_container_free (c);
      return rf_error_wrap (err, "state directory");
    }
  else if (c->state_dir = rf_state_dir (opts->state_root, opts->id), mkdir (c->state_dir, 0700) < 0)
    {
      int saved = errno;
      free (c->state_dir);
      c->state_dir = NULL; /* not ours: never remove it */
      rf_container_free (c);
      if (saved == EEXIST)
        return rf_error_make (err, EEXIST, "container `%s` already exists", opts->id);
      errno = saved;
      return rf_error_sys (err, "create the state directory of `%s`", opts->id);
    }

  if (!opts->start_now)
    {
      fifo = xasprintf ("%s/exec.fifo", c->state_dir);
      if (mkfifo (fifo, 0600) < 0)
        {
          rf_error_sys (err, "mkfifo `%s`", fifo);
          goto fail;
        }
      /* Opened read-write so the open does not block; init keeps it and
         blocks in read() until `start` writes a byte. */
      fifo_fd = open (fifo, O_RDWR | O_CLOEXEC);
      if (fifo_fd < 0 || (fifo_fd = rf_fd_above (fifo_fd, min_fd, err)) < 0)
        {
          rf_error_sys (err, "open `%s`", fifo);
          goto fail;
        }
    }
  if (rf_sync_socketpair (fds, min_fd, err) < 0)
    goto fail;

  for (size_t i = 0; i < spec->n_namespaces; i++)
    {
      if (spec->namespaces[i].path)
        any_path = true;
      else
        new_flags |= spec->namespaces[i].flag;
    }
  memset (&ctx, 0, sizeof ctx);
  /* runfd's spawners run from a sealed copy of themselves already; runf
     makes its processes exec through the trampoline (selfexe.h),
     which init makes. */
  ctx.trampoline_fd = -1;
  ctx.make_trampoline = !rf_self_exe_sealed_p ();
  ctx.spec = spec;
  ctx.id = opts->id;
  ctx.rootfs = rootfs;
  ctx.bundle = bundle;
  ctx.sync_fd = fds[1];
  ctx.fifo_fd = fifo_fd;
  ctx.preserve_fds = opts->preserve_fds;
  ctx.listen_fds = opts->listen_fds;
  ctx.stdio = opts->stdio;
  ctx.start_fd = opts->start_fd;
  ctx.start_fd_stdio = opts->start_fd_stdio;
  ctx.die_with_parent = opts->die_with_parent;
  ctx.changed_signals = opts->changed_signals;
  ctx.first_parent_fd = -1;
  ctx.rootfs_flags = opts->rootfs_nosuid_nodev ? MS_NOSUID | MS_NODEV : 0;
  ctx.dumpable_when_ready = !rf_self_exe_exposed_p (spec);
  ctx.parent = getpid ();
  ctx.no_pivot = opts->no_pivot;
  ctx.no_new_keyring = opts->no_new_keyring;
  ctx.userns = rf_spec_namespace (spec, CLONE_NEWUSER) != NULL || rf_userns_nested_p ();
  /* The fast path: clone3 makes every namespace at once.  Joining one by
     path, or time offsets (which must be written before anyone enters the
     new time namespace), need the step-by-step path. */
  ctx.clone_namespaces = !any_path && !spec->has_time_offsets;
  ctx.new_netns = new_flags & CLONE_NEWNET;
  if (!ctx.clone_namespaces)
    {
      const rf_namespace_t *pidns = rf_spec_namespace (spec, CLONE_NEWPID);
      ctx.unshare_flags = new_flags;
      ctx.second_fork = (new_flags & (CLONE_NEWPID | CLONE_NEWTIME)) || (pidns && pidns->path);
      /* init will be a grandchild; as subreaper this process can still
         wait for it. */
      if (ctx.second_fork && prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        {
          rf_error_sys (err, "become a subreaper");
          goto fail;
        }
    }

  /* The cgroup exists, with its limits, before the init does: nothing the
     container runs is ever outside it. */
  if (opts->cgroup)
    {
      c->cgroup = *opts->cgroup;
      memset (opts->cgroup, 0, sizeof *opts->cgroup);
    }
  else if (via_systemd)
    {
      /* A scope unit needs a process: systemd makes it when init asks for
         its cgroup, before init does anything of the container's (SETUP).
         Its name and the limits are checked before init exists. */
      if (rf_cgroup_systemd_check (spec, opts->id, opts->rootless, err) < 0)
        goto fail;
    }
  else
    {
      /* --systemd-cgroup without systemd: the annotations' unit properties
         have no unit to go to, but a broken one is still an error. */
      if (opts->systemd_cgroup && opts->cgroup == NULL)
        {
          rf_unit_prop_t *props;
          size_t n_props;
          if (rf_systemd_annotation_props (spec->annotations, &props, &n_props, err) < 0)
            goto fail;
          if (n_props)
            rf_debug ("create `%s`: %zu systemd properties of annotations not applied: no systemd", opts->id,
                      n_props);
          rf_unit_props_free (props, n_props);
        }
      if (rf_cgroup_create (&c->cgroup, spec, opts->id, opts->rootless, false, NULL, err) < 0)
        goto fail;
    }
  {
    const rf_namespace_t *userns = rf_spec_namespace (spec, CLONE_NEWUSER);
    c->new_userns = userns && userns->path == NULL;
  }
  /* Into the cgroup without the cost of a migration: clone3 places the
     child in the v2 directory, and the child moves itself in v1 by writing
     0 to `tasks` files runf opened (the kernel checks the opener).  Moving
     the current, single thread skips the global lock whose RCU grace
     period would cost several milliseconds per container. */
  cgroup_fd = rf_cgroup_open_into (&c->cgroup);
  if (rf_cgroup_open_tasks (&c->cgroup, min_fd, task_fds, ARRAY_SIZE (task_fds), &n_task_fds, err) < 0)
    goto fail;
  ctx.cgroup_task_fds = task_fds;
  ctx.n_cgroup_task_fds = n_task_fds;
  if ((new_flags & CLONE_NEWCGROUP) && (n_task_fds > 0 || cgroup_fd < 0) && (c->cgroup.n > 0 || via_systemd))
    {
      /* A cgroup namespace is rooted at the cgroups of whoever makes it:
         made by init after the move, it shows the container its own. */
      ctx.late_cgroupns = true;
      new_flags &= ~CLONE_NEWCGROUP;
      ctx.unshare_flags &= ~CLONE_NEWCGROUP;
    }

  /* Read once in this process, not in every init it makes (which drops
     the bounding set up to it). */
  (void) rf_cap_last ();
  if (opts->share_memory)
    {
      /* Nobody looks into runfd's instances while they wait: dumpable,
         the memory of the spawner they share would be theirs to look at. */
      ctx.dumpable_when_ready = false;
      ctx.shared_memory = rf_init_shared_memory_p (&ctx);
      /* The memory's dumpable flag is one for all who share it, and an
         unprivileged spawner writes the id maps of a dumpable init only:
         init clears it again after SETUP.  Meanwhile the inits that wait
         are dumpable to their own host id, which is the caller's. */
      if (ctx.shared_memory && c->new_userns && opts->rootless)
        rf_process_set_dumpable (true);
    }
  if (opts->netns_fd >= 0 && enter_netns (opts->netns_fd, err) < 0)
    goto fail;
  memset (&args, 0, sizeof args);
  args.pidfd = (uint64_t) (uintptr_t) &c->pidfd;
  args.exit_signal = SIGCHLD;
  args.flags = CLONE_PIDFD | (ctx.clone_namespaces ? (uint64_t) new_flags : 0);
  child = -1;
  if (cgroup_fd >= 0)
    {
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = (uint64_t) cgroup_fd;
      child = clone_init (&args, &ctx, c);
      args.flags &= ~CLONE_INTO_CGROUP;
      args.cgroup = 0;
    }
  if (child < 0)
    {
      /* runf writes the v2 cgroup.procs itself, before init goes on. */
      ctx.join_cgroup = cgroup_fd >= 0 || via_systemd;
      child = clone_init (&args, &ctx, c);
      if (child < 0 && errno == ENOSYS && !(args.flags & CLONE_NEWTIME))
        {
          /* No clone3: Linux before 5.3, or a filter around runf that
             refuses it (docker's default profile does).  A fork-like
             child of the old call, which shares nothing. */
          ctx.shared_memory = false;
          child = rf_clone_legacy (args.flags, &c->pidfd);
        }
    }
  if (child != 0 && opts->netns_fd >= 0)
    {
      int saved = errno;
      leave_netns ();
      errno = saved;
    }
  if (child < 0)
    {
      rf_error_sys (err, "clone the container's init");
      goto fail;
    }
  if (child == 0)
    {
      close (fds[0]);
      rf_init_main (&ctx);
    }
  /* Sharing this process's memory, init runs beside it until it asks
     for something: nothing here may allocate before drive_setup waits. */
  if (!ctx.shared_memory)
    rf_debug ("create `%s`: init is pid %d (bundle %s, rootfs %s)", opts->id, (int) child, bundle, rootfs);
  close (fds[1]);
  fds[1] = -1;
  c->sync_fd = fds[0];
  fds[0] = -1;
  c->child = true;
  c->pid = child;
  if (fifo_fd >= 0)
    {
      close (fifo_fd);
      fifo_fd = -1;
    }

  for (size_t i = 0; i < n_task_fds; i++)
    close (task_fds[i]);
  n_task_fds = 0;
  if (drive_setup (c, opts, spec, bundle, child, ctx.join_cgroup, via_systemd, err) < 0
      || rf_rdt_apply (spec, opts->id, c->pid, &c->rdt_dir, err) < 0)
    {
      rf_error_wrap (err, "create container `%s`", opts->id);
      goto fail;
    }

  if (!opts->no_state)
  {
    rf_state_t st = {
      .id = (char *) opts->id,
      .pid = c->pid,
      .start_time = rf_proc_start_time (c->pid, NULL),
      .mnt_ns = c->mnt_ns ? c->mnt_ns : rf_proc_mnt_ns (c->pid),
      .bundle = bundle,
      .rootfs = rootfs,
      .created = rf_time_now_rfc3339 (),
      .owner = geteuid (),
      .annotations = spec->annotations,
      .rootless = opts->rootless,
      .own_pidns = rf_spec_namespace (spec, CLONE_NEWPID) != NULL,
      .cgroup = c->cgroup,
      .rdt_dir = c->rdt_dir,
    };
    /* exec, ps and update read the container's config from here: the
       bundle may change or go away while the container lives. */
    cleanup_free char *config = xasprintf ("%s/config.json", c->state_dir);
    int r = json_dump_file (spec->raw, config, JSON_COMPACT) == 0
                ? rf_state_write (c->state_dir, &st, err)
                : rf_error_sys (err, "write `%s`", config);
    free (st.created);
    if (r < 0)
      goto fail;
  }
  if (opts->pid_file && rf_write_pid_file (opts->pid_file, c->pid, err) < 0)
    goto fail;
  if (!opts->start_now)
    {
      /* Done with setup: init blocks on the fifo, runf is free to exit. */
      close (c->sync_fd);
      c->sync_fd = -1;
    }
  *out = c;
  return 0;

fail:
  for (size_t i = 0; i < n_task_fds; i++)
    close (task_fds[i]);
  if (fds[0] >= 0)
    close (fds[0]);
  if (fds[1] >= 0)
    close (fds[1]);
  rf_container_abort (c);
  return -1;
}

int
rf_container_start_now (rf_container_t *c, rf_error_t *err)
{
  rf_sync_msg_t msg;
  int r;

  if (rf_sync_send (c->sync_fd, RF_SYNC_START, 0, -1) < 0)
    return rf_error_sys (err, "start container `%s`", c->id);
  /* The sync socket is close-on-exec: EOF means the exec happened. */
  r = rf_sync_recv (c->sync_fd, &msg, NULL);
  close (c->sync_fd);
  c->sync_fd = -1;
  if (r < 0)
    return rf_error_sys (err, "start container `%s`", c->id);
  if (r > 0 && msg.type == RF_SYNC_ERROR)
    return rf_error_make (err, msg.code, "start container `%s`: %s", c->id, msg.text);
  if (c->state_dir)
  {
    rf_state_t st;
    if (rf_state_read (c->root, c->id, &st, NULL) == 0)
      {
        run_poststart (c->root, &st);
        rf_state_clear (&st);
      }
  }
  return 0;
}

int
rf_instance_start (int sync_fd, int fd, const char *env, size_t env_len)
{
  if (env_len > sizeof ((rf_sync_msg_t *) 0)->text)
    {
      errno = E2BIG;
      return -1;
    }
  return rf_sync_send_data (sync_fd, RF_SYNC_START, 0, fd, env, env_len);
}

int
rf_instance_started (int sync_fd, char *why, size_t size)
{
  rf_sync_msg_t msg;
  /* One message per call: the caller reads when the socket is readable. */
  int r = rf_sync_recv (sync_fd, &msg, NULL);
  if (r <= 0)
    return r;
  if (msg.type == RF_SYNC_ERROR)
    {
      snprintf (why, size, "%s", msg.text);
      return 1;
    }
  errno = EAGAIN; /* nothing that decides it */
  return -1;
}

void
rf_create_opts_init (rf_create_opts_t *opts)
{
  memset (opts, 0, sizeof *opts);
  opts->stdio[0] = opts->stdio[1] = opts->stdio[2] = -1;
  opts->netns_fd = -1;
}

void
rf_container_abort (rf_container_t *c)
{
  if (c == NULL)
    return;
  if (c->pid > 0)
    {
      if (c->pidfd >= 0)
        rf_pidfd_send_signal (c->pidfd, SIGKILL);
      else
        kill (c->pid, SIGKILL);
      if (c->child)
        {
          rf_child_reap (c->pid);
          c->pid = 0;
        }
    }
  if (c->cgroup.n || c->cgroup.unit)
    {
      rf_error_t ignored = NULL;
      rf_cgroup_destroy (&c->cgroup, &ignored);
      rf_error_free (&ignored);
    }
  rf_rdt_remove (c->rdt_dir);
  if (c->state_dir)
    {
      rf_error_t ignored = NULL;
      rf_rm_rf (c->state_dir, &ignored);
      rf_error_free (&ignored);
    }
  rf_container_free (c);
}

void
rf_container_free (rf_container_t *c)
{
  if (c == NULL)
    return;
  if (c->pidfd >= 0)
    close (c->pidfd);
  if (c->sync_fd >= 0)
    close (c->sync_fd);
  if (c->pty_master >= 0)
    close (c->pty_master);
  /* A stack is used again only once its init is reaped; one whose init
     still runs stays where it is. */
  if (c->init_stack && c->pid == 0)
    init_stack_give (c->init_stack);
  rf_cgroup_clear (&c->cgroup);
  free (c->rdt_dir);
  free (c->id);
  free (c->root);
  free (c->state_dir);
  free (c);
}

/* A pidfd for the container's init that is known to be the same process
   runf started: the start time is checked after the pidfd pins it. */
static int
open_init (const rf_state_t *st)
{
  int pidfd;
  if (!rf_state_alive_p (st))
    return -1;
  pidfd = rf_pidfd_open (st->pid);
  if (pidfd < 0)
    return errno == ENOSYS ? -2 : -1;
  if (!rf_state_alive_p (st))
    {
      close (pidfd);
      return -1;
    }
  return pidfd;
}

static int
send_signal (const rf_state_t *st, int pidfd, int sig)
{
  if (pidfd >= 0)
    return rf_pidfd_send_signal (pidfd, sig);
  return kill (st->pid, sig);
}

static int
compare_pids (const void *a, const void *b)
{
  pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
  return (x > y) - (x < y);
}

/* The container's processes, init included, sorted: its cgroup's; without
   one, those in init's pid namespace when the container has one of its own
   (then that is all of them), else those in its mount namespace (every
   container has its own, and exec joins it; empty once init is gone). */
static size_t
find_pids (const rf_state_t *st, pid_t **out)
{
  const char *ns_name = st->own_pidns ? "pid" : "mnt";
  char path[64];
  struct stat init_ns, ns;
  DIR *proc;
  struct dirent *de;
  size_t n = 0, cap = 0;

  *out = NULL;
  if (st->cgroup.n)
    {
      /* The cgroup holds them all, also those that outlived init. */
      if (rf_cgroup_pids (&st->cgroup, out, &n, NULL) < 0)
        return 0;
      if (n > 1)
        qsort (*out, n, sizeof (pid_t), compare_pids);
      return n;
    }
  if (!rf_state_alive_p (st))
    return 0;
  snprintf (path, sizeof path, "/proc/%d/ns/%s", (int) st->pid, ns_name);
  if (stat (path, &init_ns) < 0)
    return 0;
  proc = opendir ("/proc");
  if (proc == NULL)
    return 0;
  while ((de = readdir (proc)) != NULL)
    {
      int pid = atoi (de->d_name);
      if (pid <= 0)
        continue;
      snprintf (path, sizeof path, "/proc/%d/ns/%s", pid, ns_name);
      if (stat (path, &ns) < 0 || ns.st_ino != init_ns.st_ino || ns.st_dev != init_ns.st_dev)
        continue;
      if (n == cap)
        {
          cap = cap ? cap * 2 : 16;
          *out = xrealloc (*out, cap * sizeof (pid_t));
        }
      (*out)[n++] = pid;
    }
  closedir (proc);
  if (n > 1)
    qsort (*out, n, sizeof (pid_t), compare_pids);
  return n;
}

int
rf_container_pids (const char *root, const char *id, pid_t **pids, size_t *n, rf_error_t *err)
{
  rf_state_t st;
  if (rf_state_read (root, id, &st, err) < 0)
    return -1;
  *n = find_pids (&st, pids);
  rf_state_clear (&st);
  return 0;
}

/* Every process of the container but init, which the caller signals
   through its pidfd. */
static void
signal_others (const rf_state_t *st, int sig)
{
  cleanup_free pid_t *pids = NULL;
  size_t n = find_pids (st, &pids);
  for (size_t i = 0; i < n; i++)
    if (pids[i] != st->pid)
      kill (pids[i], sig);
}

/* After init has died: kill what is left in the cgroup (processes that
   left the pid namespace's reach, or had none) and remove it. */
static int
destroy_cgroup (const rf_state_t *st, rf_error_t *err)
{
  if (st->cgroup.n == 0)
    return 0;
  rf_cgroup_kill (&st->cgroup);
  for (int i = 0; i < 100; i++)
    {
      pid_t *pids = NULL;
      size_t n = 0;
      if (rf_cgroup_pids (&st->cgroup, &pids, &n, NULL) < 0 || n == 0)
        {
          free (pids);
          break;
        }
      for (size_t k = 0; k < n; k++)
        kill (pids[k], SIGKILL);
      free (pids);
      usleep (1000);
    }
  return rf_cgroup_destroy (&st->cgroup, err);
}

int
rf_container_kill (const char *root, const char *id, int sig, bool all, rf_error_t *err)
{
  rf_state_t st;
  int pidfd, r;

  if (rf_state_read (root, id, &st, err) < 0)
    return -1;
  pidfd = open_init (&st);
  if (pidfd == -1 && all)
    {
      /* As runc: --all also reaches what outlived init in the cgroup.
         containerd's shim asks for it once init of a container without a
         pid namespace of its own has exited, to end its other processes. */
      signal_others (&st, sig);
      rf_state_clear (&st);
      return 0;
    }
  if (pidfd == -1)
    {
      rf_state_clear (&st);
      return rf_error_make (err, ESRCH, "container `%s` is not running", id);
    }
  if (all)
    signal_others (&st, sig);
  r = send_signal (&st, pidfd, sig);
  if (r < 0)
    rf_error_sys (err, "kill container `%s`", id);
  /* A frozen task dies only once thawed: as runc, SIGKILL to a paused
     container thaws it (podman kill waits for the exit otherwise). */
  if (r == 0 && sig == SIGKILL && st.cgroup.n && rf_cgroup_frozen_p (&st.cgroup))
    rf_cgroup_freeze (&st.cgroup, false, NULL);
  if (pidfd >= 0)
    close (pidfd);
  rf_state_clear (&st);
  return r < 0 ? -1 : 0;
}

/* After the start byte: wait until init has exec'd the process, or read
   why it could not.  init keeps exec.fifo open (close-on-exec) until the
   container's program runs, and writes "E<message>" into it when it
   cannot get there: so EOF on the fifo is the exec.  The byte must be
   init's to read, not ours: we open our read end only once it is gone, or
   once init is (then the fifo holds its message, or our byte untaken). */
static int
wait_exec (const rf_state_t *st, const char *fifo, int *wfd, rf_error_t *err)
{
  cleanup_close int pidfd = rf_pidfd_open (st->pid);
  cleanup_close int back = -1;

  for (;;)
    {
      struct pollfd p = { .fd = pidfd, .events = POLLIN };
      int queued = 0;
      if (ioctl (*wfd, FIONREAD, &queued) < 0 || queued == 0)
        break;
      if (pidfd >= 0 ? poll (&p, 1, 1) > 0 : (usleep (1000), !rf_state_alive_p (st)))
        break; /* gone: what the fifo holds says whether it took the byte */
    }
  back = open (fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (back < 0)
    return rf_error_sys (err, "open `%s`", fifo);
  close (*wfd);
  *wfd = -1;
  /* The message is read up to EOF: its writer may write it in pieces. */
  char buf[2048];
  size_t len = 0;
  for (;;)
    {
      struct pollfd p = { .fd = back, .events = POLLIN };
      ssize_t n = read (back, buf + len, sizeof buf - 1 - len);
      if (n > 0)
        len += n;
      if (n == 0 || len == sizeof buf - 1)
        break;
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        return rf_error_sys (err, "read `%s`", fifo);
      if (n < 0)
        poll (&p, 1, -1);
    }
  if (len > 0 && buf[0] == '0')
    return rf_error_make (err, ESRCH, "its init died before it could start");
  if (len == 0 || buf[0] != 'E')
    return 0; /* exec'd (or gone without a word: as runc, not ours to say) */
  buf[len] = '\0';
  return rf_error_make (err, 0, "%s", buf + 1);
}

static char *
hooks_state (const rf_state_t *st, const char *status)
{
  return rf_hooks_state_json (st->id, status, st->pid, st->bundle, st->annotations);
}

/* The hooks of the config in the state directory: only that section is
   read, the rest (seccomp above all) is not compiled again. */
static int
load_hooks (const char *root, const char *id, rf_hooks_t *hooks)
{
  cleanup_free char *path = xasprintf ("%s/%s/config.json", root, id);
  cleanup_json json_t *doc = rf_json_load_file (path, NULL);
  memset (hooks, 0, sizeof *hooks);
  if (doc == NULL)
    return -1;
  return rf_hooks_parse (json_object_get (doc, "hooks"), hooks, NULL);
}

/* poststart and poststop, from the config the container was created with;
   a failure is only a warning. */
static void
run_late_hooks (const char *root, const rf_state_t *st, rf_hook_kind_t kind, const char *status)
{
  rf_hooks_t hooks;
  if (load_hooks (root, st->id, &hooks) == 0 && hooks.n[kind])
    {
      cleanup_free char *state = hooks_state (st, status);
      rf_hooks_run_warn (&hooks, kind, state);
    }
  rf_hooks_clear (&hooks);
}

static void
run_poststart (const char *root, const rf_state_t *st)
{
  run_late_hooks (root, st, RF_HOOK_POSTSTART, "running");
}

static void
run_poststop (const char *root, const rf_state_t *st)
{
  run_late_hooks (root, st, RF_HOOK_POSTSTOP, "stopped");
}

int
rf_container_start (const char *root, const char *id, rf_error_t *err)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *fifo = NULL;
  cleanup_close int lock = -1;
  cleanup_close int fd = -1;
  rf_state_t st;
  rf_status_t status;
  int r;

  if (rf_state_read (root, id, &st, err) < 0)
    return -1;
  dir = rf_state_dir (root, id);
  lock = rf_state_lock (dir, err);
  if (lock < 0)
    {
      rf_state_clear (&st);
      return -1;
    }
  status = rf_state_status (root, &st);
  rf_state_clear (&st);
  if (status == RF_STATUS_STOPPED)
    return rf_error_make (err, 0, "cannot start container `%s`: it has stopped", id);
  if (status != RF_STATUS_CREATED)
    return rf_error_make (err, 0, "cannot start container `%s`: it is already %s", id,
                          rf_status_name (status));
  fifo = xasprintf ("%s/exec.fifo", dir);
  fd = open (fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return errno == ENXIO
               ? rf_error_make (err, ESRCH, "cannot start container `%s`: its init is gone", id)
               : rf_error_sys (err, "open `%s`", fifo);
  if (rf_state_read (root, id, &st, err) < 0)
    return -1;
  if (write (fd, "0", 1) != 1)
    {
      rf_state_clear (&st);
      return rf_error_sys (err, "start container `%s`", id);
    }
  rf_debug ("start `%s`: wrote the start byte to exec.fifo", id);
  r = wait_exec (&st, fifo, &fd, err);
  rf_debug ("start `%s`: %s", id, r == 0 ? "init has exec'd the process" : "init could not exec the process");
  unlink (fifo);
  if (r == 0)
    run_poststart (root, &st);
  rf_state_clear (&st);
  if (r < 0)
    return rf_error_wrap (err, "start container `%s`", id);
  return 0;
}

rf_spec_t *
rf_container_load_spec (const char *root, const char *id, rf_error_t *err)
{
  cleanup_free char *path = NULL;
  if (rf_id_check (id, err) < 0)
    return NULL;
  path = xasprintf ("%s/%s/config.json", root, id);
  return rf_spec_load_file (path, err);
}

int
rf_container_remove_state (const char *root, const char *id, rf_error_t *err)
{
  cleanup_free char *dir = NULL;
  rf_state_t st;
  if (rf_id_check (id, err) < 0)
    return -1;
  dir = rf_state_dir (root, id);
  if (rf_state_read (root, id, &st, NULL) == 0)
    {
      int r = destroy_cgroup (&st, err);
      rf_rdt_remove (st.rdt_dir);
      if (r == 0)
        run_poststop (root, &st);
      rf_state_clear (&st);
      if (r < 0)
        return -1;
    }
  return rf_rm_rf (dir, err);
}

int
rf_container_delete (const char *root, const char *id, bool force, rf_error_t *err)
{
  cleanup_free char *dir = NULL;
  cleanup_close int lock = -1;
  rf_state_t st;
  rf_status_t status;
  struct stat sb;
  int pidfd;

  if (rf_id_check (id, err) < 0)
    return -1;
  dir = rf_state_dir (root, id);
  if (stat (dir, &sb) < 0)
    return rf_error_make (err, ENOENT, "container `%s` does not exist", id);
  lock = rf_state_lock (dir, err);
  if (lock < 0)
    return -1;
  if (rf_state_read (root, id, &st, NULL) < 0)
    {
      /* A state directory without state.json is what a create that was
         killed midway leaves; its init died with the create's socket. */
      return rf_rm_rf (dir, err);
    }
  status = rf_state_status (root, &st);
  if ((status == RF_STATUS_RUNNING || status == RF_STATUS_PAUSED) && !force)
    {
      rf_state_clear (&st);
      return rf_error_make (err, EBUSY, "cannot delete container `%s` that is not stopped: %s (use --force)",
                            id, rf_status_name (status));
    }
  if (status != RF_STATUS_STOPPED)
    {
      pidfd = open_init (&st);
      if (pidfd != -1)
        {
          signal_others (&st, SIGKILL);
          send_signal (&st, pidfd, SIGKILL);
          /* A frozen task dies only once thawed. */
          if (status == RF_STATUS_PAUSED)
            rf_cgroup_freeze (&st.cgroup, false, NULL);
          if (wait_exit (pidfd, st.pid, st.start_time, 10000) < 0)
            {
              if (pidfd >= 0)
                close (pidfd);
              rf_state_clear (&st);
              return rf_error_make (err, ETIMEDOUT, "delete container `%s`: its init did not die", id);
            }
          if (pidfd >= 0)
            close (pidfd);
        }
    }
  if (destroy_cgroup (&st, err) < 0)
    {
      rf_state_clear (&st);
      return rf_error_wrap (err, "delete container `%s`", id);
    }
  rf_rdt_remove (st.rdt_dir);
  run_poststop (root, &st);
  rf_state_clear (&st);
  return rf_rm_rf (dir, err);
}

static const struct
{
  const char *name;
  int sig;
} signal_names[] = {
  { "HUP", SIGHUP },       { "INT", SIGINT },       { "QUIT", SIGQUIT },
  { "ILL", SIGILL },       { "TRAP", SIGTRAP },     { "ABRT", SIGABRT },
  { "IOT", SIGIOT },       { "BUS", SIGBUS },       { "FPE", SIGFPE },
  { "KILL", SIGKILL },     { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },
  { "USR2", SIGUSR2 },     { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },
  { "TERM", SIGTERM },     { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },
  { "CLD", SIGCHLD },      { "CONT", SIGCONT },     { "STOP", SIGSTOP },
  { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },
  { "URG", SIGURG },       { "XCPU", SIGXCPU },     { "XFSZ", SIGXFSZ },
  { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },     { "WINCH", SIGWINCH },
  { "IO", SIGIO },         { "POLL", SIGPOLL },     { "PWR", SIGPWR },
  { "SYS", SIGSYS },
};

int
rf_signal_parse (const char *s)
{
  unsigned long long n;
  if (s == NULL || *s == '\0')
    return -1;
  if (rf_parse_uint64 (s, SIGRTMAX, &n) == 0)
    return n >= 1 ? (int) n : -1;
  if (strncasecmp (s, "SIG", 3) == 0)
    s += 3;
  for (size_t i = 0; i < ARRAY_SIZE (signal_names); i++)
    if (strcasecmp (s, signal_names[i].name) == 0)
      return signal_names[i].sig;
  if (strncasecmp (s, "RTMIN", 5) == 0)
    {
      if (s[5] == '\0')
        return SIGRTMIN;
      if (s[5] == '+' && rf_parse_uint64 (s + 6, SIGRTMAX - SIGRTMIN, &n) == 0)
        return SIGRTMIN + (int) n;
    }
  if (strncasecmp (s, "RTMAX", 5) == 0)
    {
      if (s[5] == '\0')
        return SIGRTMAX;
      if (s[5] == '-' && rf_parse_uint64 (s + 6, SIGRTMAX - SIGRTMIN, &n) == 0)
        return SIGRTMAX - (int) n;
    }
  return -1;
}
