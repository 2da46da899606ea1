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
/* "exec `exe`: no such file or directory": engines turn runc's Go-style,
   lower-case wording of a failed exec into exit codes (docker: 127 for
   "no such file or directory", 126 for "permission denied"). */
int rf_process_exec_error (rf_error_t *err, const char *exe, int errnum);
/* The environment to exec with: process.env, plus HOME when missing and
   LISTEN_FDS/LISTEN_PID when fds are passed for socket activation. */
char **rf_process_environ (const rf_process_t *p, int listen_fds);
/* Mark every fd from 3 + keep up close-on-exec, and the kept ones not. */
int rf_process_prepare_fds (int keep, rf_error_t *err);

#endif
