/* What the foreground commands (`run`, `exec`) share: staying the parent
 * of a process, forwarding signals to it, relaying its terminal, and
 * exiting with its status (128+N when signal N killed it). */
#ifndef RUNF_SUPERVISE_H
#define RUNF_SUPERVISE_H

#include <sys/types.h>

#include "common/error.h"

/* Block the signals runf forwards and return a signalfd that reads them.
   Called before the process exists, so that no signal is lost; the
   process unblocks them for itself. */
int runf_signals_block (rf_error_t *err);
/* Until `pid` (a child of this process) exits: forward what arrives on sfd
   to it, copy between the caller's stdio and pty_master (-1: none), reap
   children.  Returns the exit code runf should exit with. */
int runf_supervise (pid_t pid, int pidfd, int pty_master, int sfd, rf_error_t *err);

#endif
