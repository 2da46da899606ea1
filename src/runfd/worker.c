/* The one way runfd forks a worker: deploys and imports parse untrusted
 * images (tar headers, JSON, paths) for seconds, and do it in a child so
 * that the loop goes on.  A worker must not hold what runfd holds: a
 * listener kept open there would keep a removed function's address
 * taken, a client socket kept open would keep the client waiting, and a
 * bug in a parser would have every socket of the daemon at hand.  So the
 * child keeps stdio, the one fd it reports on, and runfd's log file. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "runfd.h"

/* Close every fd from `from` on except the ones in keep (sorted or not). */
static void
close_all_but (int from, const int *keep, size_t n)
{
  int next = from;
  int sorted[4];
  size_t k = 0;

  for (size_t i = 0; i < n && k < 4; i++)
    if (keep[i] >= from)
      sorted[k++] = keep[i];
  for (size_t i = 1; i < k; i++)
    for (size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--)
      {
        int t = sorted[j];
        sorted[j] = sorted[j - 1];
        sorted[j - 1] = t;
      }
  for (size_t i = 0; i <= k; i++)
    {
      unsigned int last = i < k ? (unsigned int) sorted[i] - 1 : ~0U;
      if (i < k && sorted[i] < next)
        continue;
      if ((unsigned int) next <= last && syscall (SYS_close_range, (unsigned int) next, last, 0) < 0)
        {
          /* Without close_range (before Linux 5.9): one by one, from
             what /proc says is open. */
          DIR *d = opendir ("/proc/self/fd");
          struct dirent *de;
          int dfd = d ? dirfd (d) : -1;
          while (d && (de = readdir (d)) != NULL)
            {
              int fd = atoi (de->d_name);
              if (de->d_name[0] != '.' && fd >= next && (unsigned int) fd <= last && fd != dfd)
                close (fd);
            }
          if (d)
            closedir (d);
        }
      if (i < k)
        next = sorted[i] + 1;
    }
}

pid_t
rfd_worker_fork (int keep, rf_error_t *err)
{
  pid_t parent = getpid ();
  pid_t pid = fork ();
  if (pid < 0)
    return rf_error_sys (err, "fork a worker");
  if (pid == 0)
    {
      int keep_fds[2] = { keep, rf_log_fd () };
      sigset_t none;
      close_all_but (3, keep_fds, 2);
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
