/* The container's init, from clone to exec, in the order the kernel needs:
 *
 *   join namespaces by path, unshare the new ones (unless clone3 made them)
 *   ask runf for the id maps, become root of the user namespace
 *   fork once more when a pid or time namespace only applies to children
 *   hostname, the rootfs and its mounts, /dev, pivot_root
 *   terminal, sysctl, masked and read-only paths, read-only root
 *   oom score, rlimits, cwd, groups/uid/gid, capabilities, no_new_privs
 *   (steps.h: the steps a process joining the container takes too)
 *   READY to runf; wait for start (exec.fifo, or the sync socket); exec
 *
 * Every failure travels back to runf over the sync socket as one message,
 * so the user sees one line naming what failed. */
#include "init.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fds.h"
#include "common/fsutil.h"
#include "common/netif.h"
#include "devices.h"
#include "mounts.h"
#include "process.h"
#include "sync.h"
#include "common/syscalls.h"
#include "procattr.h"
#include "runtime/selfexe.h"
#include "steps.h"

static int
join_namespaces (const rf_spec_t *spec, rf_error_t *err)
{
  int fds[RF_NAMESPACE_TYPES];
  int ret = 0;

  /* Open every path before entering any: after setns(mnt) or setns(user)
     the other paths may not be reachable any more. */
  for (size_t i = 0; i < RF_NAMESPACE_TYPES; i++)
    {
      const rf_namespace_t *ns = rf_spec_namespace (spec, rf_namespace_join_order[i]);
      fds[i] = -1;
      if (ns == NULL || ns->path == NULL)
        continue;
      fds[i] = open (ns->path, O_RDONLY | O_CLOEXEC);
      if (fds[i] < 0)
        {
          ret = rf_error_sys (err, "linux.namespaces: open %s namespace `%s`", ns->type, ns->path);
          break;
        }
    }
  for (size_t i = 0; i < RF_NAMESPACE_TYPES && ret == 0; i++)
    {
      if (fds[i] < 0)
        continue;
      if (setns (fds[i], rf_namespace_join_order[i]) < 0)
        {
          const rf_namespace_t *ns = rf_spec_namespace (spec, rf_namespace_join_order[i]);
          ret = rf_error_sys (err, "linux.namespaces: join %s namespace `%s`", ns->type, ns->path);
        }
    }
  for (size_t i = 0; i < RF_NAMESPACE_TYPES; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  return ret;
}

static int
write_time_offsets (const rf_spec_t *spec, rf_error_t *err)
{
  char buf[128];
  int n, r;
  if (!spec->has_time_offsets)
    return 0;
  n = snprintf (buf, sizeof buf, "monotonic %lld %u\nboottime %lld %u\n",
                (long long) spec->monotonic_secs, spec->monotonic_nsecs,
                (long long) spec->boottime_secs, spec->boottime_nsecs);
  rf_process_set_dumpable (true);
  r = rf_write_file_at (AT_FDCWD, "/proc/self/timens_offsets", buf, n, err);
  rf_process_set_dumpable (false);
  if (r < 0)
    return rf_error_wrap (err, "linux.timeOffsets");
  return 0;
}

/* runf's part of the setup: the id maps of a new user namespace and the
   move into the container's cgroup, both before any of the container's
   own work. */
static int
parent_setup (rf_init_t *ctx, bool new_userns, rf_error_t *err)
{
  rf_sync_msg_t msg;
  /* Allocated before asking: an init sharing runf's memory allocates
     nothing while runf runs (its MOUNT_SOURCE messages follow each other
     without waiting for this process). */
  if (new_userns && ctx->spec->n_mounts && ctx->mount_fds == NULL)
    {
      ctx->mount_fds = xmalloc (ctx->spec->n_mounts * sizeof (int));
      for (size_t k = 0; k < ctx->spec->n_mounts; k++)
        ctx->mount_fds[k] = -1;
    }
  if (rf_sync_send (ctx->sync_fd, RF_SYNC_SETUP, getpid (), -1) < 0)
    return rf_error_sys (err, "ask runf for the id maps and the cgroup");
  for (;;)
    {
      int fd = -1;
      int r = rf_sync_recv (ctx->sync_fd, &msg, &fd);
      if (r < 0)
        return rf_error_sys (err, "read from runf");
      if (r == 0)
        return rf_error_make (err, EPIPE, "runf went away during setup");
      if (msg.type == RF_SYNC_MOUNT_SOURCE)
        {
          /* A bind mount's source that root of the new user namespace
             could not reach by its path (linux/mounts.h). */
          size_t i = (size_t) msg.pid;
          if (ctx->mount_fds && msg.pid >= 0 && i < ctx->spec->n_mounts && ctx->mount_fds[i] < 0)
            ctx->mount_fds[i] = fd;
          else if (fd >= 0)
            close (fd);
          continue;
        }
      if (fd >= 0)
        close (fd);
      if (msg.type == RF_SYNC_SETUP_DONE)
        break;
      if (msg.type == RF_SYNC_ERROR)
        return rf_error_make (err, msg.code, "%s", msg.text);
      return rf_error_make (err, EPROTO, "runf sent message %d during setup", msg.type);
    }
  if (!new_userns)
    return 0;
  /* Root of the new namespace is who may set up the rest; when 0 is not
     mapped, stay who we are: the capabilities of the namespace's creator
     are enough until the final identity is set. */
  if (setresgid (0, 0, 0) < 0 && errno != EINVAL)
    return rf_error_sys (err, "setgid 0 in the user namespace");
  if (setresuid (0, 0, 0) < 0 && errno != EINVAL)
    return rf_error_sys (err, "setuid 0 in the user namespace");
  return 0;
}

/* Before anything else: into the container's v1 cgroups. */
static int
enter_cgroups (rf_init_t *ctx, rf_error_t *err)
{
  for (size_t i = 0; i < ctx->n_cgroup_task_fds; i++)
    {
      if (write (ctx->cgroup_task_fds[i], "0", 1) < 0)
        return rf_error_sys (err, "join the container's cgroup");
      close (ctx->cgroup_task_fds[i]);
    }
  return 0;
}

static int
enter_namespaces (rf_init_t *ctx, rf_error_t *err)
{
  const rf_spec_t *spec = ctx->spec;
  bool new_userns = false;
  const rf_namespace_t *user = rf_spec_namespace (spec, CLONE_NEWUSER);
  const rf_namespace_t *mnt = rf_spec_namespace (spec, CLONE_NEWNS);

  if (ctx->clone_namespaces)
    new_userns = user && user->path == NULL;
  else
    {
      if (join_namespaces (spec, err) < 0)
        return -1;
      if (ctx->unshare_flags && unshare (ctx->unshare_flags) < 0)
        return rf_error_sys (err, "linux.namespaces: unshare");
      new_userns = ctx->unshare_flags & CLONE_NEWUSER;
    }
  /* Made in one step, the mount namespace belongs to the new user
     namespace, which is less privileged than the one of the mounts it
     copies: the kernel copies every shared mount as a slave of it, which
     is what rslave asks for. */
  ctx->mounts_slaved = new_userns && mnt && mnt->path == NULL;
  if ((new_userns || ctx->join_cgroup) && parent_setup (ctx, new_userns, err) < 0)
    return -1;
  rf_process_set_dumpable (false);
  /* A cgroup namespace is rooted where it is made: only after the move. */
  if (ctx->late_cgroupns && unshare (CLONE_NEWCGROUP) < 0)
    return rf_error_sys (err, "linux.namespaces: unshare the cgroup namespace");
  if ((ctx->unshare_flags & CLONE_NEWTIME) && write_time_offsets (spec, err) < 0)
    return -1;

  if (ctx->second_fork)
    {
      /* init's first parent is this process, which exits at once: a
         parent-death signal set before it is gone would come from its
         exit.  init waits for that exit on this pidfd (readable once the
         process is reaped-ready, after its children have a new parent). */
      int self = ctx->die_with_parent ? rf_pidfd_open (getpid ()) : -1;
      pid_t child = rf_clone_legacy (0, NULL);
      if (child < 0)
        return rf_error_sys (err, "fork the container's init");
      if (child == 0)
        ctx->first_parent_fd = self;
      if (child > 0)
        {
          /* The pid as runf sees it: this process is still in runf's pid
             namespace. */
          rf_sync_send (ctx->sync_fd, RF_SYNC_CHILD_PID, child, -1);
          _exit (0);
        }
    }
  return 0;
}

static int
set_names (const rf_spec_t *spec, rf_error_t *err)
{
  if (spec->hostname && *spec->hostname
      && sethostname (spec->hostname, strlen (spec->hostname)) < 0)
    return rf_error_sys (err, "hostname `%s`", spec->hostname);
  if (spec->domainname && *spec->domainname
      && setdomainname (spec->domainname, strlen (spec->domainname)) < 0)
    return rf_error_sys (err, "domainname `%s`", spec->domainname);
  return 0;
}

static bool
any_hooks (const rf_hooks_t *h, int from, int to)
{
  for (int k = from; k <= to; k++)
    if (h->n[k])
      return true;
  return false;
}

/* The root file system is mounted, not yet pivoted to: runf runs prestart
   and createRuntime on the host, then init runs createContainer here, in
   the container's namespaces. */
static int
run_create_hooks (rf_init_t *ctx, rf_error_t *err)
{
  const rf_spec_t *spec = ctx->spec;
  cleanup_free char *state = NULL;
  rf_sync_msg_t msg;

  if (!any_hooks (&spec->hooks, RF_HOOK_PRESTART, RF_HOOK_START_CONTAINER))
    return 0;
  if (rf_sync_send (ctx->sync_fd, RF_SYNC_HOOKS, 0, -1) < 0)
    return rf_error_sys (err, "ask runf to run the hooks");
  if (rf_sync_expect (ctx->sync_fd, RF_SYNC_HOOKS_DONE, &msg, NULL, err) < 0)
    return -1;
  ctx->host_pid = msg.pid;
  if (spec->hooks.n[RF_HOOK_CREATE_CONTAINER] == 0)
    return 0;
  state = rf_hooks_state_json (ctx->id, "created", ctx->host_pid, ctx->bundle, spec->annotations);
  return rf_hooks_run (&spec->hooks, RF_HOOK_CREATE_CONTAINER, state, spec->process.env, err);
}

/* Whether the filter (no_new_privs, no notify) may go in before READY:
   only when nothing but receiving START, placing its fd and execve comes
   after it, so that no hook, personality, label or affinity runs under
   it. */
static bool
early_filter_allowed_p (const rf_spec_t *spec)
{
  const rf_process_t *p = &spec->process;
  return p->no_new_privileges && !spec->seccomp.notify && spec->seccomp.n_insns
         && !spec->hooks.n[RF_HOOK_START_CONTAINER] && !spec->has_personality && !p->apparmor_profile
         && !p->selinux_label && !p->cpu_affinity_final;
}

/* runfd's instances take the filter before they say READY where it may
   go in then, so that it is not loaded on the request path: those whose
   START brings their socket, and every one in its spawner's memory. */
static bool
early_filter_p (const rf_init_t *ctx)
{
  return (ctx->start_fd || ctx->shared_memory) && early_filter_allowed_p (ctx->spec);
}

static int
build_rootfs (rf_init_t *ctx, rf_error_t *err)
{
  const rf_spec_t *spec = ctx->spec;
  cleanup_close int root_fd = -1;

  if (rf_mounts_prepare_rootfs (spec, ctx->rootfs, ctx->rootfs_flags, ctx->mounts_slaved, err) < 0)
    return -1;
  root_fd = open (ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return rf_error_sys (err, "open the rootfs `%s`", ctx->rootfs);
  if (rf_mounts_apply (spec, ctx->bundle, root_fd, ctx->userns, ctx->mount_fds, err) < 0)
    return -1;
  for (size_t i = 0; ctx->mount_fds && i < spec->n_mounts; i++)
    if (ctx->mount_fds[i] >= 0)
      close (ctx->mount_fds[i]);
  free (ctx->mount_fds);
  ctx->mount_fds = NULL;
  if (rf_devices_setup (spec, root_fd, ctx->userns, err) < 0)
    return -1;
  if (run_create_hooks (ctx, err) < 0)
    return -1;
  ctx->lsm_fd = rf_lsm_open_exec_attr (&spec->process, AT_FDCWD, err);
  if (ctx->lsm_fd < 0 && err && *err)
    return -1;
  if (rf_mounts_pivot (ctx->rootfs, ctx->no_pivot, rf_mounts_all_slaves_p (spec), err) < 0)
    return -1;
  if (spec->rootfs_propagation && mount (NULL, "/", NULL, spec->rootfs_propagation, NULL) < 0)
    return rf_error_sys (err, "linux.rootfsPropagation: set it on the new root");
  return 0;
}

static int
setup_terminal (rf_init_t *ctx, const rf_steps_t *steps, rf_error_t *err)
{
  /* As with runc, the container's process leads a session of its own
     (rf_terminal_setup makes one too): no job control signal of the
     caller's terminal reaches it, and CRIU can checkpoint the container
     without taking the caller's session for a shell job. */
  if (!ctx->spec->process.terminal)
    return setsid () < 0 ? rf_error_sys (err, "setsid") : 0;
  return rf_steps_terminal (steps, true, err);
}

/* START's payload: "K=V\0K=V\0...", each replacing or joining the
   environment.  The next entry at *off, NUL-terminated in place (NULL at
   the end), and the length of its key with the `=`. */
static const char *
start_env_next (rf_sync_msg_t *msg, size_t *off, size_t *key)
{
  size_t len = msg->code > 0 && (size_t) msg->code <= sizeof msg->text ? (size_t) msg->code : 0;
  while (*off < len)
    {
      char *kv = msg->text + *off;
      size_t room = len - *off, l = strnlen (kv, room);
      const char *eq = memchr (kv, '=', l);
      *off += l + 1;
      if (l == room && len == sizeof msg->text)
        continue; /* the last, without its NUL and without room for one */
      kv[l] = '\0';
      if (eq == NULL || eq == kv)
        continue;
      *key = (size_t) (eq - kv) + 1;
      return kv;
    }
  return NULL;
}

/* Where the key of kv is in envp's n entries, or n. */
static size_t
env_index (char *const *envp, size_t n, const char *kv, size_t key)
{
  size_t i = 0;
  while (i < n && strncmp (envp[i], kv, key) != 0)
    i++;
  return i;
}

static char **
add_start_env (char **envp, rf_sync_msg_t *msg)
{
  size_t n = strv_len (envp), off = 0, key;
  const char *kv;
  while ((kv = start_env_next (msg, &off, &key)))
    {
      size_t i = env_index (envp, n, kv, key);
      if (i < n)
        {
          free (envp[i]);
          envp[i] = xstrdup (kv);
          continue;
        }
      envp = xrealloc (envp, (n + 2) * sizeof (char *));
      envp[n++] = xstrdup (kv);
      envp[n] = NULL;
    }
  return envp;
}

static int
wait_for_start (rf_init_t *ctx, int *start_fd, char ***envp, rf_error_t *err)
{
  *start_fd = -1;
  if (ctx->fifo_fd >= 0)
    {
      char c;
      ssize_t n;
      do
        n = read (ctx->fifo_fd, &c, 1);
      while (n < 0 && errno == EINTR);
      if (n != 1)
        return rf_error_sys (err, "wait for start on exec.fifo");
      /* Kept open until the exec closes it: a failure from here on is
         written back into it for `runf start` to report. */
      ctx->started = true;
      return 0;
    }
  {
    rf_sync_msg_t msg;
    if (rf_sync_expect (ctx->sync_fd, RF_SYNC_START, &msg, ctx->start_fd ? start_fd : NULL, err) < 0)
      return -1;
    *envp = add_start_env (*envp, &msg);
    return 0;
  }
}

/* The fd START brought: fd 3 for socket activation, and the process's
   stdin and stdout in inetd style. */
static int
place_start_fd (rf_init_t *ctx, int fd, rf_error_t *err)
{
  if (!ctx->start_fd)
    return 0;
  if (fd < 0)
    return rf_error_make (err, EPROTO, "start: no fd came with START");
  /* It came close-on-exec; dup2 onto itself would keep the flag. */
  if ((fd == 3 ? fcntl (fd, F_SETFD, 0) : dup2 (fd, 3)) < 0
      || (ctx->start_fd_stdio && (dup2 (fd, STDIN_FILENO) < 0 || dup2 (fd, STDOUT_FILENO) < 0)))
    return rf_error_sys (err, "place the handed-over fd");
  if (fd != 3)
    close (fd);
  return 0;
}

static int
set_stdio (rf_init_t *ctx, rf_error_t *err)
{
  for (int i = 0; ctx->stdio && i < 3; i++)
    if (ctx->stdio[i] >= 0 && dup2 (ctx->stdio[i], i) < 0)
      return rf_error_sys (err, "stdio fd %d", i);
  return 0;
}

/* The first thing init does with its own hands: close every fd it got
   from its creator but the ones it needs (stdio, --preserve-fds, the sync
   socket, exec.fifo, the trampoline).  runf, and runfd's spawners above all, hold fds to
   host directories, cgroups and other containers; one left open is one
   path out of the root for a cwd, mount or exec path that names
   /proc/self/fd/N. */
static void
close_inherited_fds (const rf_init_t *ctx)
{
  int n = 3 + ctx->preserve_fds;
  int keep[n + 3];
  for (int i = 0; i < n; i++)
    keep[i] = i;
  keep[n] = ctx->sync_fd;
  keep[n + 1] = ctx->fifo_fd;
  keep[n + 2] = ctx->trampoline_fd;
  rf_fds_close_except (keep, (size_t) n + 3);
}

/* runf-trampoline (runtime/selfexe.h) for the final exec, made by init itself:
   a created container may wait a long time for start, and meanwhile
   nothing of runf's but exec.fifo is open in it.  It is made at the
   first of: the start, or a filter going in that could refuse
   memfd_create. */
static int
open_trampoline (rf_init_t *ctx, rf_error_t *err)
{
  int fd;
  if (!ctx->make_trampoline || ctx->trampoline_fd >= 0)
    return 0;
  fd = rf_trampoline_open (err);
  if (fd < 0)
    return -1;
  /* Above the fds the process keeps, which are all open by now. */
  ctx->trampoline_fd = rf_fd_above (fd, 3 + ctx->preserve_fds, err);
  return ctx->trampoline_fd < 0 ? -1 : 0;
}

/* Whether runf writes id maps for this init (in SETUP): then init stays
   dumpable until that is done, since an unprivileged runf may only open
   /proc/PID/uid_map of a dumpable child. */
static bool
maps_written_for_p (const rf_init_t *ctx)
{
  const rf_namespace_t *user = rf_spec_namespace (ctx->spec, CLONE_NEWUSER);
  if (ctx->clone_namespaces)
    return user && user->path == NULL;
  return ctx->unshare_flags & CLONE_NEWUSER;
}

/* --- an init in runf's memory (rf_clone_vm) -------------------------------
   From READY on, runfd's spawner runs on beside such an init in the same
   memory, with the same errno and the same malloc caches.  What the init
   still does, wait for START, place its fd and exec, uses only its own
   stack, system calls that set no errno, and no malloc: everything it
   needs is copied onto that stack before READY, and what it allocated
   before is freed, since its heap is the spawner's. */

/* The most START can add to the environment: entries of 3 bytes or more. */
#define START_ENV_MAX (sizeof ((rf_sync_msg_t *) 0)->text / 3 + 1)
/* process.args and process.env of an init in runf's memory, at most:
   they are copied onto its stack (of 256 KiB, container.c), with what
   init adds to the environment (HOME, LISTEN_FDS). */
#define FINAL_STAGE_MAX (64 * 1024)

typedef struct
{
  int sync_fd;
  bool start_fd, start_fd_stdio;
  char *exe;
  char **argv;
  char **envp; /* n_env entries of env_cap, NULL-terminated */
  size_t n_env, env_cap;
  rf_sync_msg_t msg; /* START, then an error to report */
} final_stage_t;

static size_t
strv_bytes (char *const *v, size_t *n)
{
  size_t bytes = 0, i = 0;
  for (; v && v[i]; i++)
    bytes += strlen (v[i]) + 1;
  *n = i;
  return bytes;
}

/* The bytes final_stage_copy needs for exe, argv and envp. */
static size_t
final_stage_size (const char *exe, char *const *argv, char *const *envp)
{
  size_t n_args, n_env;
  size_t bytes = strlen (exe) + 1 + strv_bytes (argv, &n_args) + strv_bytes (envp, &n_env);
  return bytes + (n_args + 1 + n_env + 1 + START_ENV_MAX) * sizeof (char *);
}

static char *
copy_strv (char **to, char *const *v, char *text)
{
  size_t i = 0;
  for (; v && v[i]; i++)
    {
      size_t l = strlen (v[i]) + 1;
      to[i] = memcpy (text, v[i], l);
      text += l;
    }
  to[i] = NULL;
  return text;
}

/* buf: final_stage_size's bytes, aligned for pointers. */
static void
final_stage_copy (final_stage_t *f, void *buf, const rf_init_t *ctx, const char *exe, char *const *argv,
                  char *const *envp)
{
  size_t n_args;
  char *text;

  strv_bytes (argv, &n_args);
  strv_bytes (envp, &f->n_env);
  f->sync_fd = ctx->sync_fd;
  f->start_fd = ctx->start_fd;
  f->start_fd_stdio = ctx->start_fd_stdio;
  f->env_cap = f->n_env + 1 + START_ENV_MAX;
  f->argv = buf;
  f->envp = f->argv + n_args + 1;
  text = (char *) (f->envp + f->env_cap);
  text = copy_strv (f->argv, argv, text);
  text = copy_strv (f->envp, envp, text);
  f->exe = strcpy (text, exe);
}

#ifdef RF_HAVE_CLONE_VM
/* START, as rf_sync_recv reads it; 1, 0 at EOF, or -errno. */
static long
final_recv_start (final_stage_t *f, int *fd)
{
  struct iovec iov = { &f->msg, sizeof f->msg };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf };
  long n;

  *fd = -1;
  memset (&f->msg, 0, offsetof (rf_sync_msg_t, text) + 1);
  do
    n = rf_raw_syscall (SYS_recvmsg, f->sync_fd, (long) &mh, MSG_CMSG_CLOEXEC, 0);
  while (n == -EINTR);
  if (n < 0 && !f->start_fd && n != -EBADF && n != -EAGAIN && n != -ECONNRESET)
    {
      mh.msg_controllen = 0;
      do
        n = rf_raw_syscall (SYS_read, f->sync_fd, (long) &f->msg, sizeof f->msg, 0);
      while (n == -EINTR);
    }
  if (n <= 0)
    return n;
  f->msg.text[sizeof f->msg.text - 1] = '\0';
  for (struct cmsghdr *cm = CMSG_FIRSTHDR (&mh); cm; cm = CMSG_NXTHDR (&mh, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
      {
        int got;
        memcpy (&got, CMSG_DATA (cm), sizeof (int));
        if (*fd < 0)
          *fd = got;
        else
          rf_raw_syscall (SYS_close, got, 0, 0, 0);
      }
  return 1;
}

static long
final_dup_to (int fd, int to)
{
  /* It came close-on-exec; onto itself, only the flag goes.  dup2, as
     glibc's dup2 calls it on the fork path: a profile allows the same. */
  if (fd == to)
    return rf_raw_syscall (SYS_fcntl, fd, F_SETFD, 0, 0);
  return rf_raw_syscall (SYS_dup2, fd, to, 0, 0);
}

/* What failed (or the exec of exe), to runf as init's one error message
   (rf_sync_send_error), and the end. */
static noreturn void
final_stage_fail (final_stage_t *f, int code, const char *what, const char *exe, int errnum)
{
  rf_sync_msg_t *m = &f->msg;
  const char *desc = errnum ? strerrordesc_np (errnum) : NULL;
  int n;

  memset (m, 0, offsetof (rf_sync_msg_t, text));
  m->type = RF_SYNC_ERROR;
  m->code = code;
  n = exe ? snprintf (m->text, sizeof m->text, "exec %s", exe) : snprintf (m->text, sizeof m->text, "%s", what);
  if (desc && n >= 0 && (size_t) n + 2 < sizeof m->text)
    {
      snprintf (m->text + n, sizeof m->text - (size_t) n, ": %s", desc);
      /* In lower case, as rf_error_sys words it. */
      m->text[n + 2] = (char) tolower ((unsigned char) m->text[n + 2]);
    }
  rf_raw_syscall (SYS_write, f->sync_fd, (long) m, (long) (offsetof (rf_sync_msg_t, text) + strlen (m->text) + 1), 0);
  rf_raw_syscall (SYS_exit_group, 127, 0, 0, 0);
  __builtin_unreachable ();
}

static noreturn void
final_stage_run (final_stage_t *f)
{
  int fd;
  long r = final_recv_start (f, &fd);
  size_t off = 0, key;
  const char *kv;

  if (r == 0)
    final_stage_fail (f, EPIPE, "runf went away before the start", NULL, 0);
  if (r < 0)
    final_stage_fail (f, (int) -r, "wait for start", NULL, (int) -r);
  if (f->msg.type != RF_SYNC_START)
    final_stage_fail (f, EPROTO, "wait for start: runf sent another message", NULL, 0);
  while ((kv = start_env_next (&f->msg, &off, &key)))
    {
      size_t i = env_index (f->envp, f->n_env, kv, key);
      if (i == f->n_env)
        f->envp[++f->n_env] = NULL; /* env_cap has room for every entry START can bring */
      f->envp[i] = (char *) kv;
    }
  if (f->start_fd)
    {
      if (fd < 0)
        final_stage_fail (f, EPROTO, "start: no fd came with START", NULL, 0);
      if ((r = final_dup_to (fd, 3)) < 0
          || (f->start_fd_stdio && ((r = final_dup_to (fd, STDIN_FILENO)) < 0
                                    || (r = final_dup_to (fd, STDOUT_FILENO)) < 0)))
        final_stage_fail (f, (int) -r, "place the handed-over fd", NULL, (int) -r);
      if (fd != 3)
        rf_raw_syscall (SYS_close, fd, 0, 0, 0);
    }
  r = rf_raw_syscall (SYS_execve, (long) f->exe, (long) f->argv, (long) f->envp, 0);
  /* As rf_process_exec_error words it. */
  final_stage_fail (f, 0, NULL, f->exe, (int) -r);
}
#else
static noreturn void
final_stage_run (final_stage_t *f)
{
  (void) f;
  abort (); /* rf_init_shared_memory_p says no */
}
#endif

bool
rf_init_shared_memory_p (const rf_init_t *ctx)
{
#ifdef RF_HAVE_CLONE_VM
  const rf_spec_t *spec = ctx->spec;
  const rf_process_t *p = &spec->process;
  const rf_namespace_t *pidns = rf_spec_namespace (spec, CLONE_NEWPID);
  size_t n;
  /* No filter, or one that goes in before READY without a notify fd to
     hand over. */
  bool filter_before = spec->seccomp.n_insns == 0
                       || (!spec->seccomp.notify
                           && (!p->no_new_privileges || early_filter_allowed_p (spec)));

  return ctx->clone_namespaces && !ctx->second_fork && pidns && !pidns->path && ctx->fifo_fd < 0
         && !ctx->make_trampoline && !ctx->dumpable_when_ready && filter_before && !p->terminal
         && !any_hooks (&spec->hooks, RF_HOOK_PRESTART, RF_HOOK_START_CONTAINER) && !spec->has_personality
         && !p->apparmor_profile && !p->selinux_label && !p->cpu_affinity_final
         /* Written for one process, the kernel sets it for every one
            that shares its memory. */
         && !p->has_oom_score_adj
         && strv_bytes (p->args, &n) + strv_bytes (p->env, &n) <= FINAL_STAGE_MAX;
#else
  (void) ctx;
  return false;
#endif
}

/* The container's seccomp filter, the trampoline made first (a filter may
   refuse memfd_create). */
static int
take_filter (rf_init_t *ctx, const rf_steps_t *steps, rf_error_t *err)
{
  if (open_trampoline (ctx, err) < 0 || rf_steps_filter (steps, &ctx->spec->seccomp, err) < 0)
    return -1;
  ctx->filtered = true;
  return 0;
}

static void
steps_release (rf_steps_t *s)
{
  strv_free (s->envp);
}

static int
init_run (rf_init_t *ctx, rf_error_t *err)
{
  const rf_spec_t *spec = ctx->spec;
  const rf_process_t *p = &spec->process;
  cleanup_free char *exe = NULL;
  final_stage_t final;
  /* Freed where init fails, which matters only in runf's memory. */
  __attribute__ ((cleanup (steps_release))) rf_steps_t steps = {
    .process = p,
    .sync_fd = ctx->sync_fd,
    .userns = ctx->userns,
    .preserve_fds = ctx->preserve_fds,
    .listen_fds = ctx->start_fd ? 1 : ctx->listen_fds,
    .scheduler = true,
  };
  int start_fd;
  sigset_t none;

  /* runf blocks the signals it forwards, and its caller (runfd) may ignore
     some: the container gets every signal with its default action. */
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP && (ctx->changed_signals == NULL || sigismember (ctx->changed_signals, sig) == 1))
      rf_signal_default (sig);
  /* Modes in config.json are exact; the process's umask comes last. */
  umask (0);
  ctx->lsm_fd = -1;
  if (!maps_written_for_p (ctx))
    rf_process_set_dumpable (false);
  if (set_stdio (ctx, err) < 0 || enter_cgroups (ctx, err) < 0)
    return -1;
  close_inherited_fds (ctx);
  if (rf_sched_affinity ("process.execCPUAffinity.initial", p->cpu_affinity_initial, err) < 0
      || enter_namespaces (ctx, err) < 0)
    return -1;
  if (!ctx->no_new_keyring && rf_process_join_session_keyring (ctx->id, err) < 0)
    return -1;
  /* A new network namespace has lo down; runc and crun bring it up, and
     programs expect 127.0.0.1 to work. */
  if ((ctx->new_netns && rf_netif_up ("lo", err) < 0) || set_names (spec, err) < 0)
    return -1;
  if (build_rootfs (ctx, err) < 0)
    return -1;
  if (setup_terminal (ctx, &steps, err) < 0)
    return -1;
  if (rf_mounts_sysctl (spec, err) < 0)
    return -1;
  if (rf_mounts_finish (spec, err) < 0)
    return -1;
  if (access (p->cwd, F_OK) < 0 && errno == ENOENT)
    {
      /* runc makes a missing cwd; only possible while the root is writable. */
      cleanup_error rf_error_t ignored = NULL;
      rf_mkdir_p (p->cwd, 0755, &ignored);
    }
  if (rf_mounts_readonly_root (spec, ctx->rootfs_flags, err) < 0)
    return -1;
  if (rf_steps_prepare (&steps, err) < 0)
    return -1;
  /* Without no_new_privs only a privileged process may install a filter:
     it goes in while init still has its capabilities, as with runc. */
  if (!p->no_new_privileges && spec->seccomp.n_insns && take_filter (ctx, &steps, err) < 0)
    return -1;
  exe = rf_steps_identity (&steps, err);
  if (exe == NULL)
    return -1;
  /* With a notify action the filter goes in before READY: its fd must
     reach the listener while runf is still there to send it. */
  if (p->no_new_privileges && spec->seccomp.notify && take_filter (ctx, &steps, err) < 0)
    return -1;
  /* Set after the change of credentials, which clears it.  The parent may
     have died just before (seen only without a pid namespace: inside one
     the parent reads as 0). */
  if (ctx->die_with_parent)
    {
      pid_t pp;
      if (ctx->first_parent_fd >= 0)
        {
          struct pollfd w = { .fd = ctx->first_parent_fd, .events = POLLIN };
          while (poll (&w, 1, -1) < 0 && errno == EINTR)
            ;
          close (ctx->first_parent_fd);
          ctx->first_parent_fd = -1;
        }
      if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        return rf_error_sys (err, "PR_SET_PDEATHSIG");
      pp = getppid ();
      if (pp != 0 && pp != ctx->parent)
        return rf_error_make (err, ESRCH, "the container's creator is gone");
    }
  /* What runs under an early filter before execve is receiving START and
     placing its fd. */
  if (early_filter_p (ctx) && take_filter (ctx, &steps, err) < 0)
    return -1;

  if (ctx->shared_memory)
    {
      size_t size = final_stage_size (exe, p->args, steps.envp);
      /* The final stage loads no filter: one the config asks for is in
         by now (rf_init_shared_memory_p), or the container does not
         start. */
      if (spec->seccomp.n_insns && !ctx->filtered)
        return rf_error_make (err, EINVAL, "linux.seccomp: not loaded before READY, as an init in runf's memory needs");
      if (size > 2 * FINAL_STAGE_MAX)
        return rf_error_make (err, E2BIG, "process.args and process.env: %zu bytes with what init adds, more than %d",
                              size, 2 * FINAL_STAGE_MAX);
      final_stage_copy (&final, alloca (size), ctx, exe, p->args, steps.envp);
      free (exe);
      exe = NULL;
      strv_free (steps.envp);
      steps.envp = NULL;
    }

  /* Set up: the root is the container's, and init holds no fd of runf's
     but its sync socket and exec.fifo.  While it waits for start, it may
     be looked at (an unprivileged `runf exec` into a created container
     opens its namespaces), unless its binary is one the container could
     write (runtime/selfexe.h). */
  if (ctx->dumpable_when_ready)
    rf_process_set_dumpable (true);
  if (rf_sync_send (ctx->sync_fd, RF_SYNC_READY, getpid (), -1) < 0)
    return rf_error_sys (err, "tell runf the container is ready");
  if (ctx->shared_memory)
    final_stage_run (&final);
  /* Started through exec.fifo, init has nothing more to say to runf, and
     the container may be looked at a long time while it waits: no socket
     of runf's in it meanwhile, as with runc. */
  if (ctx->fifo_fd >= 0)
    {
      close (ctx->sync_fd);
      ctx->sync_fd = steps.sync_fd = -1;
    }
  if (wait_for_start (ctx, &start_fd, &steps.envp, err) < 0 || place_start_fd (ctx, start_fd, err) < 0)
    return -1;
  if (open_trampoline (ctx, err) < 0)
    return -1;

  if (spec->hooks.n[RF_HOOK_START_CONTAINER])
    {
      cleanup_free char *state = rf_hooks_state_json (ctx->id, "created", ctx->host_pid, ctx->bundle,
                                                      spec->annotations);
      /* As with runc: a hook without an env of its own gets the
         process's. */
      if (rf_hooks_run (&spec->hooks, RF_HOOK_START_CONTAINER, state, steps.envp, err) < 0)
        return -1;
    }
  /* Through the trampoline, the label is set by it, just before its own
     exec: set here, it would apply to the trampoline. */
  if (rf_sched_personality (spec, err) < 0
      || (ctx->trampoline_fd < 0 && rf_lsm_set_exec_label (ctx->lsm_fd, p, err) < 0)
      || rf_sched_affinity ("process.execCPUAffinity.final", p->cpu_affinity_final, err) < 0)
    return -1;
  /* The filter last: nothing of runf's own runs under it but execve. */
  if (!early_filter_p (ctx) && p->no_new_privileges && !spec->seccomp.notify
      && rf_steps_filter (&steps, &spec->seccomp, err) < 0)
    return -1;

  {
    cleanup_free char *lsm_value = ctx->trampoline_fd >= 0 ? rf_lsm_exec_value (p) : NULL;
    rf_final_exec_t x = {
      .exe = exe,
      .argv = p->args,
      .envp = steps.envp,
      .trampoline_fd = ctx->trampoline_fd,
      .report_fd = ctx->started ? ctx->fifo_fd : ctx->sync_fd,
      .report_kind = ctx->started ? 'f' : 's',
      .lsm_fd = lsm_value ? ctx->lsm_fd : -1,
      .lsm_name = lsm_value ? rf_lsm_exec_attr_name (ctx->lsm_fd, p) : NULL,
      .lsm_value = lsm_value,
      .caps = p->caps.present ? &p->caps : NULL,
    };
    return rf_process_execve (&x, err);
  }
}

noreturn void
rf_init_main (rf_init_t *ctx)
{
  rf_error_t err = NULL;

  init_run (ctx, &err);
  free (ctx->mount_fds);
  /* Only failures get here.  After `runf create` has returned, nobody
     reads the sync socket: `runf start` reads the fifo, and the
     container's stderr is where engines look. */
  if (ctx->started)
    {
      cleanup_free char *text = rf_error_text (err);
      cleanup_free char *line = xasprintf ("E%s", text);
      if (write (ctx->fifo_fd, line, strlen (line)) < 0)
        dprintf (STDERR_FILENO, "runf: %s\n", text);
    }
  else if (ctx->shared_memory)
    {
      /* runf runs again once the message is sent: nothing of this
         process's is left in its heap by then. */
      char text[sizeof ((rf_sync_msg_t *) 0)->text];
      int code = err ? err->code : 0;
      snprintf (text, sizeof text, "%s", err ? err->msg : "unknown error");
      rf_error_free (&err);
      if (rf_sync_send_error_text (ctx->sync_fd, code, text) < 0)
        dprintf (STDERR_FILENO, "runf: %s\n", text);
    }
  else if (rf_sync_send_error (ctx->sync_fd, err) < 0)
    {
      cleanup_free char *text = rf_error_text (err);
      dprintf (STDERR_FILENO, "runf: %s\n", text);
    }
  _exit (127);
}
