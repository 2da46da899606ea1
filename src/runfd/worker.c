/* The one way runfd forks a worker: deploys and imports parse untrusted
 * images (tar headers, JSON, paths) for seconds, and do it in a child so
 * that the loop goes on.  A worker must not hold what runfd holds: a
 * listener kept open there would keep a removed function's address
 * taken, a client socket kept open would keep the client waiting, and a
 * bug in a parser would have every socket of the daemon at hand.  So the
 * child keeps stdio, the one fd it reports on, and runfd's log file. */
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/fds.h"
#include "common/log.h"
#include "runfd.h"

pid_t
rfd_worker_fork (int keep, rf_error_t *err)
{
  pid_t parent = getpid ();
  pid_t pid = fork ();
  if (pid < 0)
    return rf_error_sys (err, "fork a worker");
  if (pid == 0)
    {
      int keep_fds[] = { 0, 1, 2, keep, rf_log_fd () };
      sigset_t none;
      rf_fds_close_except (keep_fds, sizeof keep_fds / sizeof *keep_fds);
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      signal (SIGPIPE, SIG_DFL);
      /* Its work is runfd's: when runfd goes, so does it. */
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (getppid () != parent)
        _exit (1);
    }
  return pid;
}
