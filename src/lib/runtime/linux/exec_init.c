/* A process joining a container, in the order the kernel needs:
 *
 *   join the namespaces of the container's init: user first, mount last
 *   fork once, with runf as the parent: the pid and time namespaces only
 *   apply to children (the first child reports the pid and exits)
 *   wait for runf's go-ahead, then: session keyring, and the steps init
 *   takes too (steps.h): terminal, oom score, rlimits, cwd,
 *   groups/uid/gid, capabilities, no_new_privs, umask; exec
 *
 * Every failure travels back to runf over the sync socket as one message.
 * Success is the socket's close-on-exec end closing. */
#include "exec_init.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fds.h"
#include "procattr.h"
#include "process.h"
#include "steps.h"
#include "sync.h"
#include "common/syscalls.h"

static int
join_namespaces (rf_exec_init_t *ctx, rf_error_t *err)
{
  for (size_t i = 0; i < RF_NAMESPACE_TYPES; i++)
    {
      int flag = rf_namespace_join_order[i];
      if (ctx->ns_fds[i] < 0)
        continue;
      if (setns (ctx->ns_fds[i], flag) < 0)
        return rf_error_sys (err, "join the container's %s namespace", rf_namespace_proc_name (flag));
      close (ctx->ns_fds[i]);
      ctx->ns_fds[i] = -1;
    }
  return 0;
}

static void
close_inherited_fds (const rf_exec_init_t *ctx)
{
  int n = 3 + ctx->preserve_fds;
  int keep[n + 2 + RF_NAMESPACE_TYPES];
  for (int i = 0; i < n; i++)
    keep[i] = i;
  keep[n] = ctx->sync_fd;
  keep[n + 1] = ctx->trampoline_fd;
  for (size_t i = 0; i < RF_NAMESPACE_TYPES; i++)
    keep[n + 2 + i] = ctx->ns_fds[i];
  rf_fds_close_except (keep, (size_t) n + 2 + RF_NAMESPACE_TYPES);
}

/* The host's /proc (O_PATH) where the exec gets an LSM label, else -1. */
static int host_proc_fd = -1;

/* In the process that will exec, inside every namespace of the container. */
static int
exec_run (rf_exec_init_t *ctx, rf_error_t *err)
{
  const rf_process_t *p = ctx->process;
  const rf_seccomp_t *sc = ctx->spec && ctx->spec->seccomp.n_insns ? &ctx->spec->seccomp : NULL;
  cleanup_free char *exe = NULL;
  rf_steps_t steps = {
    .process = p,
    .sync_fd = ctx->sync_fd,
    .userns = ctx->userns,
    .preserve_fds = ctx->preserve_fds,
  };
  rf_sync_msg_t msg;

  /* runf may have work to do on this process first (it is where the
     process would join the container's cgroup). */
  if (rf_sync_expect (ctx->sync_fd, RF_SYNC_START, &msg, NULL, err) < 0)
    return -1;
  if (rf_process_join_session_keyring (ctx->id, err) < 0)
    return -1;
  if (rf_steps_terminal (&steps, false, err) < 0 || rf_steps_prepare (&steps, err) < 0)
    return -1;
  /* The container's filter applies to what is exec'd in it too: without
     no_new_privs it goes in while the process still has its
     capabilities, else as late as it can. */
  if (sc && !p->no_new_privileges && rf_steps_filter (&steps, sc, err) < 0)
    return -1;
  exe = rf_steps_identity (&steps, err);
  if (exe == NULL)
    return -1;
  if (ctx->spec && rf_sched_personality (ctx->spec, err) < 0)
    return -1;
  if (sc && p->no_new_privileges && rf_steps_filter (&steps, sc, err) < 0)
    return -1;
  {
    /* The label through the host's /proc, opened before the container's
       mount namespace was joined. */
    cleanup_close int lsm_dir = host_proc_fd >= 0 ? rf_lsm_open_exec_attr (p, host_proc_fd, err) : -1;
    cleanup_free char *lsm_value = lsm_dir >= 0 ? rf_lsm_exec_value (p) : NULL;
    if (host_proc_fd >= 0 && lsm_dir < 0)
      return -1;
    if (host_proc_fd >= 0)
      {
        close (host_proc_fd);
        host_proc_fd = -1;
      }
    if (lsm_dir >= 0 && ctx->trampoline_fd < 0)
      {
        /* No trampoline: the label is this process's to set now. */
        if (rf_lsm_set_exec_label (lsm_dir, p, err) < 0)
          return -1;
        close (lsm_dir);
        lsm_dir = -1;
      }
    rf_final_exec_t x = {
      .exe = exe,
      .argv = p->args,
      .envp = steps.envp,
      .trampoline_fd = ctx->trampoline_fd,
      .report_fd = ctx->sync_fd,
      .report_kind = 's',
      .lsm_fd = lsm_dir,
      .lsm_name = lsm_dir >= 0 ? rf_lsm_exec_attr_name (lsm_dir, p) : NULL,
      .lsm_value = lsm_value,
      .caps = p->caps.present ? &p->caps : NULL,
    };
    return rf_process_execve (&x, err);
  }
}

noreturn void
rf_exec_init_main (rf_exec_init_t *ctx)
{
  rf_error_t err = NULL;
  sigset_t none;
  pid_t child;

  /* runf blocks the signals it forwards; the process must get them. */
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  /* Inside the container's namespaces, the container's processes must
     not reach this one's /proc/PID/{exe,fd,cwd,root}, nor find any fd of
     runf's own in it. */
  rf_process_set_dumpable (false);
  close_inherited_fds (ctx);
  /* The exec's LSM label goes through the host's /proc, not through the
     one the container's processes see (and may have mounted over). */
  if ((ctx->process->apparmor_profile || ctx->process->selinux_label)
      && (host_proc_fd = open ("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    {
      rf_error_sys (&err, "%s: open /proc",
                    ctx->process->apparmor_profile ? "process.apparmorProfile" : "process.selinuxLabel");
      goto fail;
    }
  if (join_namespaces (ctx, &err) < 0)
    goto fail;
  /* CLONE_PARENT makes the process runf's own child, so runf can wait for
     it without becoming a subreaper. */
  child = rf_clone_legacy (CLONE_PARENT, NULL);
  if (child < 0)
    {
      rf_error_sys (&err, "fork inside the container");
      goto fail;
    }
  if (child > 0)
    {
      /* The pid as runf sees it: this process is still in runf's pid
         namespace. */
      if (rf_sync_send (ctx->sync_fd, RF_SYNC_CHILD_PID, child, -1) < 0)
        _exit (127);
      _exit (0);
    }
  exec_run (ctx, &err);

fail:
  if (rf_sync_send_error (ctx->sync_fd, err) < 0)
    {
      cleanup_free char *text = rf_error_text (err);
      dprintf (STDERR_FILENO, "runf: %s\n", text);
    }
  _exit (127);
}
