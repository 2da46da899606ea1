/* exec, runf's side: check the container, open its init's namespaces,
 * fork the process (see linux/exec_init.c for the child's side) and walk
 * it through the sync protocol until it has exec'd. */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "container.h"
#include "capnames.h"
#include "linux/exec_init.h"
#include "selfexe.h"
#include "linux/sync_parent.h"
#include "common/syscalls.h"
#include "linux/userns.h"
#include "state.h"

/* A uid or gid: (uint32_t) -1 means "unchanged" to the kernel, never an id. */
static int
parse_id (const char *s, uint32_t *out)
{
  unsigned long long v;
  if (rf_parse_uint64 (s, UINT32_MAX - 1, &v) < 0)
    return -1;
  *out = (uint32_t) v;
  return 0;
}

int
rf_exec_parse_user (const char *s, uint32_t *uid, uint32_t *gid, bool *has_gid,
                    rf_error_t *err)
{
  const char *colon = strchr (s, ':');
  cleanup_free char *uid_text = colon ? xstrndup (s, colon - s) : xstrdup (s);
  uint32_t u, g = 0;

  if (parse_id (uid_text, &u) < 0 || (colon && parse_id (colon + 1, &g) < 0))
    {
      cleanup_free char *shown = rf_json_quote (s);
      return rf_error_make (err, 0, "--user %s: expected UID or UID:GID, as numbers", shown);
    }
  *uid = u;
  if (colon)
    *gid = g;
  *has_gid = colon != NULL;
  return 0;
}

void
rf_env_set (char ***env, const char *kv)
{
  size_t key_len = strcspn (kv, "=");
  size_t n = strv_len (*env);

  for (size_t i = 0; i < n; i++)
    if (strncmp ((*env)[i], kv, key_len) == 0 && (*env)[i][key_len] == '=')
      {
        free ((*env)[i]);
        (*env)[i] = xstrdup (kv);
        return;
      }
  *env = xrealloc (*env, (n + 2) * sizeof (char *));
  (*env)[n] = xstrdup (kv);
  (*env)[n + 1] = NULL;
}

static int
add_capability (rf_process_t *p, const char *name, rf_error_t *err)
{
  int cap = rf_cap_from_name (name);
  uint64_t bit;

  if (cap < 0)
    {
      cleanup_free char *shown = rf_json_quote (name);
      return rf_error_make (err, 0, "--cap %s: unknown capability", shown);
    }
  if (cap > rf_cap_last ())
    return 0; /* known to runf, not to this kernel: nothing to grant */
  bit = 1ULL << cap;
  if (!p->caps.present)
    {
      /* A process without capabilities keeps the whole bounding set;
         one with a list gets exactly that list. */
      memset (&p->caps, 0, sizeof p->caps);
      p->caps.present = true;
    }
  p->caps.bounding |= bit;
  p->caps.effective |= bit;
  p->caps.permitted |= bit;
  /* The kernel raises an ambient capability only when it is inheritable
     too, and -c adds none of those. */
  if (p->caps.inheritable)
    p->caps.ambient |= bit;
  return 0;
}

int
rf_exec_apply_overrides (rf_process_t *p, const rf_exec_overrides_t *o, rf_error_t *err)
{
  size_t n;

  if (o->args == NULL || o->args[0] == NULL || o->args[0][0] == '\0')
    return rf_error_make (err, 0, "exec: missing the command to run");
  strv_free (p->args);
  n = strv_len (o->args);
  p->args = xzalloc ((n + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    p->args[i] = xstrdup (o->args[i]);

  if (o->cwd && *o->cwd)
    {
      if (o->cwd[0] != '/')
        return rf_error_make (err, 0, "--cwd `%s`: must be an absolute path", o->cwd);
      free (p->cwd);
      p->cwd = xstrdup (o->cwd);
    }
  for (size_t i = 0; o->caps && o->caps[i]; i++)
    if (add_capability (p, o->caps[i], err) < 0)
      return -1;
  for (size_t i = 0; o->env && o->env[i]; i++)
    {
      if (strchr (o->env[i], '=') == NULL || o->env[i][0] == '=')
        {
          cleanup_free char *shown = rf_json_quote (o->env[i]);
          return rf_error_make (err, 0, "--env %s: expected KEY=VALUE", shown);
        }
      rf_env_set (&p->env, o->env[i]);
    }
  p->terminal = o->tty;
  if (o->no_new_privs >= 0)
    p->no_new_privileges = o->no_new_privs;
  if (o->user && *o->user)
    {
      bool has_gid;
      if (rf_exec_parse_user (o->user, &p->uid, &p->gid, &has_gid, err) < 0)
        return -1;
    }
  n = strv_len (o->additional_gids);
  if (n)
    {
      p->additional_gids = xrealloc (p->additional_gids,
                                     (p->n_additional_gids + n) * sizeof (uint32_t));
      for (size_t i = 0; i < n; i++)
        if (parse_id (o->additional_gids[i], &p->additional_gids[p->n_additional_gids++]) < 0)
          {
            cleanup_free char *shown = rf_json_quote (o->additional_gids[i]);
            return rf_error_make (err, 0, "--additional-gids %s: expected a gid", shown);
          }
    }
  return 0;
}

rf_spec_t *
rf_exec_container_spec (const char *root, const char *id, rf_error_t *err)
{
  rf_state_t st;
  rf_spec_t *spec;

  /* The state first, so that a missing container is reported as such. */
  if (rf_state_read (root, id, &st, err) < 0)
    return NULL;
  rf_state_clear (&st);
  spec = rf_container_load_spec (root, id, err);
  if (spec == NULL)
    rf_error_wrap (err, "the config of container `%s`", id);
  return spec;
}

int
rf_exec_process_from_spec (rf_spec_t *spec, const char *id, const rf_exec_overrides_t *o,
                           rf_process_t *out, rf_error_t *err)
{
  memset (out, 0, sizeof *out);
  if (!spec->has_process)
    return rf_error_make (err, 0, "the config of container `%s` has no process", id);
  *out = spec->process;
  memset (&spec->process, 0, sizeof spec->process);
  if (rf_exec_apply_overrides (out, o, err) < 0)
    {
      rf_process_free (out);
      return -1;
    }
  return 0;
}

int
rf_exec_process_from_file (const char *path, rf_process_t *out, rf_error_t *err)
{
  cleanup_json json_t *doc = rf_json_load_file (path, err);

  memset (out, 0, sizeof *out);
  if (doc == NULL)
    return rf_error_wrap (err, "--process");
  if (rf_process_parse (doc, out, err) < 0)
    return rf_error_wrap (err, "--process `%s`", path);
  return 0;
}

/* The namespaces of the container's init that this process is not in
   already (setns into one's own user namespace is an error), opened above
   the fds passed on to the process. */
static int
open_namespaces (const rf_state_t *st, int *fds, int min_fd, rf_error_t *err)
{
  for (size_t i = 0; i < RF_NAMESPACE_TYPES; i++)
    {
      const char *name = rf_namespace_proc_name (rf_namespace_join_order[i]);
      char path[64];
      struct stat theirs, ours;
      int fd;

      snprintf (path, sizeof path, "/proc/%d/ns/%s", (int) st->pid, name);
      fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          if (errno == ENOENT && strcmp (name, "time") == 0)
            continue; /* a kernel without time namespaces */
          return rf_error_sys (err, "open `%s`", path);
        }
      snprintf (path, sizeof path, "/proc/self/ns/%s", name);
      if (fstat (fd, &theirs) == 0 && stat (path, &ours) == 0
          && theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev)
        {
          close (fd);
          continue;
        }
      fds[i] = rf_fd_above (fd, min_fd, err);
      if (fds[i] < 0)
        return -1;
    }
  return 0;
}

/* runf's half of the protocol: the first child reports the pid of the
   process (and exits), runf lets the process go on, the process sends its
   pty if it has one, and its end of the socket closes when it execs. */
static int
drive (const rf_exec_opts_t *opts, const rf_state_t *st, pid_t *stage, int sync_fd,
       rf_exec_proc_t *out, rf_error_t *err)
{
  rf_sync_parent_t peer = {
    .fd = sync_fd,
    .child = "the process",
    .verb = "exec into",
    .speaker = "the process",
    .id = opts->id,
    .console_socket = opts->console_socket,
    .pty_master = &out->pty_master,
    .seccomp = &opts->spec->seccomp,
    .status = "running", /* the container's, as for its init */
    .pid = &st->pid,
    .bundle = st->bundle,
    .annotations = st->annotations,
    .accept = RF_SYNC_BIT (RF_SYNC_CHILD_PID),
  };
  for (;;)
    {
      rf_sync_msg_t msg;
      int r = rf_sync_parent_next (&peer, &msg, err);

      if (r < 0)
        return -1;
      if (r == 0)
        {
          if (out->pid > 0)
            return 0;
          cleanup_free char *why = rf_child_exit_text (*stage, true);
          *stage = 0;
          return rf_error_make (err, EPIPE, "the process exited while joining the container%s", why);
        }
      /* CHILD_PID: the process waits for START, to go into the
         container's cgroup before it runs anything of its own. */
      rf_child_reap (*stage);
      *stage = 0;
      out->pid = msg.pid;
      out->pidfd = rf_pidfd_open (out->pid);
      if (rf_cgroup_enter (&st->cgroup, out->pid, err) < 0)
        return rf_error_wrap (err, "move the process into the container's cgroup");
      if (rf_sync_send (sync_fd, RF_SYNC_START, 0, -1) < 0)
        return rf_error_sys (err, "write to the process");
    }
}

static void
kill_process (rf_exec_proc_t *p)
{
  if (p->pid <= 0)
    return;
  if (p->pidfd >= 0)
    rf_pidfd_send_signal (p->pidfd, SIGKILL);
  else
    kill (p->pid, SIGKILL);
  rf_child_reap (p->pid);
  p->pid = 0;
}

int
rf_exec (const rf_exec_opts_t *opts, rf_exec_proc_t *out, rf_error_t *err)
{
  rf_exec_init_t ctx;
  rf_state_t st;
  int fds[2] = { -1, -1 };
  int min_fd = 3 + opts->preserve_fds;
  pid_t stage = 0;
  int ret = -1;

  out->pid = 0;
  out->pidfd = out->pty_master = -1;
  memset (&ctx, 0, sizeof ctx);
  ctx.trampoline_fd = -1;
  for (size_t i = 0; i < RF_NAMESPACE_TYPES; i++)
    ctx.ns_fds[i] = -1;
  if (opts->preserve_fds < 0)
    return rf_error_make (err, 0, "--preserve-fds: must not be negative");
  if (rf_state_read (opts->state_root, opts->id, &st, err) < 0)
    return -1;
  switch (rf_state_status (opts->state_root, &st))
    {
    case RF_STATUS_STOPPED:
      rf_error_make (err, 0, "cannot exec in a stopped container");
      goto out;
    case RF_STATUS_PAUSED:
      /* The process would freeze on joining the cgroup, and exec wait for
         it until the container is resumed: only when asked, as runc. */
      if (opts->ignore_paused)
        break;
      rf_error_make (err, 0, "cannot exec in a paused container (use --ignore-paused to override)");
      goto out;
    default:
      break;
    }
  if (open_namespaces (&st, ctx.ns_fds, min_fd, err) < 0)
    goto out;
  /* The namespaces were found by pid: they are init's if init was still
     alive after they were opened (its pid cannot be reused while it is). */
  if (!rf_state_alive_p (&st))
    {
      rf_error_make (err, 0, "cannot exec in a stopped container");
      goto out;
    }
  if (rf_sync_socketpair (fds, min_fd, err) < 0)
    goto out;

  if (!rf_self_exe_sealed_p ())
    {
      /* The process execs through the trampoline (selfexe.h). */
      ctx.trampoline_fd = rf_trampoline_open (err);
      if (ctx.trampoline_fd < 0
          || (ctx.trampoline_fd = rf_fd_above (ctx.trampoline_fd, min_fd, err)) < 0)
        goto out;
    }
  ctx.id = opts->id;
  ctx.process = opts->process;
  ctx.spec = opts->spec;
  ctx.sync_fd = fds[1];
  ctx.preserve_fds = opts->preserve_fds;
  /* rf_namespace_join_order starts with the user namespace. */
  ctx.userns = ctx.ns_fds[0] >= 0 || rf_userns_nested_p ();
  stage = fork ();
  if (stage < 0)
    {
      rf_error_sys (err, "fork");
      goto out;
    }
  if (stage == 0)
    {
      close (fds[0]);
      rf_exec_init_main (&ctx);
    }
  close (fds[1]);
  fds[1] = -1;
  if (ctx.trampoline_fd >= 0)
    {
      close (ctx.trampoline_fd);
      ctx.trampoline_fd = -1;
    }
  for (size_t i = 0; i < RF_NAMESPACE_TYPES; i++)
    if (ctx.ns_fds[i] >= 0)
      {
        close (ctx.ns_fds[i]);
        ctx.ns_fds[i] = -1;
      }

  if (drive (opts, &st, &stage, fds[0], out, err) < 0)
    goto out;
  if (opts->pid_file && rf_write_pid_file (opts->pid_file, out->pid, err) < 0)
    goto out;
  ret = 0;

out:
  if (ret < 0)
    {
      if (stage > 0)
        {
          kill (stage, SIGKILL);
          rf_child_reap (stage);
        }
      kill_process (out);
      rf_exec_proc_clear (out);
    }
  for (size_t i = 0; i < 2; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  for (size_t i = 0; i < RF_NAMESPACE_TYPES; i++)
    if (ctx.ns_fds[i] >= 0)
      close (ctx.ns_fds[i]);
  if (ctx.trampoline_fd >= 0)
    close (ctx.trampoline_fd);
  rf_state_clear (&st);
  return ret;
}

void
rf_exec_proc_clear (rf_exec_proc_t *p)
{
  if (p->pidfd >= 0)
    close (p->pidfd);
  if (p->pty_master >= 0)
    close (p->pty_master);
  p->pid = 0;
  p->pidfd = p->pty_master = -1;
}
