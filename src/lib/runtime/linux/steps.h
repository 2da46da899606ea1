/* The steps on the way to execve that the container's init (init.c) and a
 * process joining the container (exec_init.c) take alike, in the order the
 * kernel needs:
 *
 *   the terminal, its master handed to runf
 *   oom score, rlimits, (init's) the scheduler, the cwd where the current
 *   identity may enter it, the environment, the fds kept across exec
 *     -- a filter that needs the capabilities goes in here (no_new_privs off)
 *   groups/uid/gid and capabilities, the cwd otherwise, no_new_privs,
 *   umask, the program found in the process's PATH
 *
 * What comes between and after them (hooks, the wait for start, the last
 * filter, execve) is each caller's own. */
#ifndef RF_STEPS_H
#define RF_STEPS_H

#include <stdbool.h>

#include "common/error.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"

typedef struct
{
  const rf_process_t *process;
  int sync_fd;      /* to runf: the pty master and a seccomp notify fd go there */
  bool userns;      /* the process ends up in a user namespace */
  int preserve_fds; /* fds 3 .. 3+preserve_fds-1 stay open across exec */
  int listen_fds;   /* LISTEN_FDS in the environment (0: none) */
  bool scheduler;   /* process.scheduler and ioPriority are set here (init) */
  char **envp;      /* from rf_steps_prepare: the environment to exec with */
  bool cwd_later;   /* from rf_steps_prepare: only the final identity may enter the cwd */
} rf_steps_t;

/* process.terminal: a pty, its slave the controlling terminal and fds 0-2
   (for init also /dev/console), its master sent to runf.  Nothing without
   a terminal. */
int rf_steps_terminal (const rf_steps_t *s, bool bind_console, rf_error_t *err);
/* What does not depend on the final identity, before any filter is in
   place: the fewer system calls run under it, the fewer a profile written
   for the container's program alone refuses. */
int rf_steps_prepare (rf_steps_t *s, rf_error_t *err);
/* Load the container's filter; with a notify action its fd goes to runf,
   for the listener. */
int rf_steps_filter (const rf_steps_t *s, const rf_seccomp_t *sc, rf_error_t *err);
/* The final identity, the cwd when it had to wait for it, no_new_privs
   and the umask; then the program to exec, as execvp would find it in the
   container (owned by the caller), or NULL with *err. */
char *rf_steps_identity (const rf_steps_t *s, rf_error_t *err);

#endif
