/* The steps init and exec share (steps.h). */
#include "steps.h"

#include <sys/prctl.h>
#include <sys/stat.h>

#include "procattr.h"
#include "process.h"
#include "sync.h"
#include "terminal.h"

int
rf_steps_terminal (const rf_steps_t *s, bool bind_console, rf_error_t *err)
{
  int master;
  if (!s->process->terminal)
    return 0;
  master = rf_terminal_setup (s->process, bind_console, err);
  if (master < 0)
    return -1;
  return rf_sync_hand_over (s->sync_fd, RF_SYNC_PTY, master, "the pty", err);
}

int
rf_steps_prepare (rf_steps_t *s, rf_error_t *err)
{
  const rf_process_t *p = s->process;
  int r;

  if (rf_process_oom_score_adj (p, err) < 0 || rf_process_rlimits (p, err) < 0)
    return -1;
  if (s->scheduler && rf_sched_apply (p, err) < 0)
    return -1;
  r = rf_process_enter_cwd (p, false, err);
  if (r < 0)
    return -1;
  s->cwd_later = r > 0;
  s->envp = rf_process_environ (p, s->listen_fds);
  return rf_process_prepare_fds (s->preserve_fds, err);
}

int
rf_steps_filter (const rf_steps_t *s, const rf_seccomp_t *sc, rf_error_t *err)
{
  int fd = -1;
  if (rf_seccomp_load (sc, sc->notify ? &fd : NULL, err) < 0)
    return -1;
  if (fd < 0)
    return 0;
  return rf_sync_hand_over (s->sync_fd, RF_SYNC_SECCOMP, fd, "the seccomp notify fd", err);
}

char *
rf_steps_identity (const rf_steps_t *s, rf_error_t *err)
{
  const rf_process_t *p = s->process;

  if (rf_process_identity (p, s->userns, err) < 0)
    return NULL;
  if (s->cwd_later && rf_process_enter_cwd (p, true, err) < 0)
    return NULL;
  if (p->no_new_privileges && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    {
      rf_error_sys (err, "process.noNewPrivileges");
      return NULL;
    }
  umask (p->has_umask ? p->umask : 022);
  return rf_process_find_executable (p, err);
}
