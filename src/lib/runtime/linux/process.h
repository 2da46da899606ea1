/* The process config.json describes: its identity, limits and the program
 * to exec, applied by init inside the container. */
#ifndef RF_PROCESS_H
#define RF_PROCESS_H

#include <stdbool.h>

#include "common/error.h"
#include "runtime/spec.h"

/* The session keyring `_ses.<id>`, so the host's keys stay outside. */
int rf_process_join_session_keyring (const char *id, rf_error_t *err);
int rf_process_rlimits (const rf_process_t *p, rf_error_t *err);
int rf_process_oom_score_adj (const rf_process_t *p, rf_error_t *err);
/* Groups, gid, uid and capabilities, in the order the kernel needs. */
int rf_process_identity (const rf_process_t *p, bool userns, rf_error_t *err);
/* args[0] looked up in the PATH of the process's env, as execvp would in
   the container; owned by the caller. */
char *rf_process_find_executable (const rf_process_t *p, rf_error_t *err);
/* The container's program, exec'd as the last step. */
typedef struct
{
  const char *exe;
  char **argv;
  char **envp;
  int trampoline_fd; /* runf-trampoline (runtime/selfexe.h), or -1: execve directly */
  int report_fd;     /* where a failed exec is reported, by the trampoline */
  char report_kind;  /* 's': rf_sync_msg_t on the sync socket; 'f': "E<text>" on exec.fifo */
  int lsm_fd;        /* -1, or /proc/thread-self/attr (O_PATH) ... */
  const char *lsm_name;  /* ... the file in it that takes the label ... */
  const char *lsm_value; /* ... and the label, written just before the exec */
  const rf_caps_t *caps; /* the process's capabilities, as applied, or NULL */
} rf_final_exec_t;

/* Exec the container's program; returns only on failure. */
int rf_process_execve (const rf_final_exec_t *x, rf_error_t *err);
/* "exec `exe`: no such file or directory": engines turn runc's Go-style,
   lower-case wording of a failed exec into exit codes (docker: 127 for
   "no such file or directory", 126 for "permission denied"). */
int rf_process_exec_error (rf_error_t *err, const char *exe, int errnum);
/* The environment to exec with: process.env, plus HOME when missing and
   LISTEN_FDS/LISTEN_PID when fds are passed for socket activation. */
char **rf_process_environ (const rf_process_t *p, int listen_fds);
/* Mark every fd from 3 + keep up close-on-exec, and the kept ones not. */
int rf_process_prepare_fds (int keep, rf_error_t *err);
/* chdir to process.cwd, checked to be inside the root; 1 when only the
   final user may enter it (call again after the identity change). */
int rf_process_enter_cwd (const rf_process_t *p, bool after_identity, rf_error_t *err);
/* While runf's code runs inside a container, the process is not dumpable:
   the container's processes cannot open its /proc/PID/{exe,fd,cwd,root,mem}
   (CVE-2019-5736, CVE-2016-9962).  The final execve makes it dumpable
   again.  Its own /proc/self files then belong to the host's root, so the
   few writes there are made with it briefly dumpable. */
void rf_process_set_dumpable (bool on);

#endif
