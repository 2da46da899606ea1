/* runfd's one fork of a worker (src/runfd/worker.c): the child keeps
 * stdio, the fd it reports on and the log file, and nothing else of the
 * daemon's (listeners, clients, epoll); its signal mask is clear and it
 * dies with its parent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "runfd/runfd.h"

rfd_config_t rfd_config;

static void
test_worker_fds (void **state)
{
  char logpath[] = "/tmp/test_worker.log.XXXXXX";
  int logfd = mkstemp (logpath);
  int report[2], sock[2], ep, spare, keep_high;
  char *why = NULL, buf[4096];
  sigset_t mask;
  pid_t pid;
  ssize_t n;
  size_t len = 0;
  int status;

  assert_true (logfd >= 0);
  close (logfd);
  assert_int_equal (rf_log_open (logpath, "text", &why), 0);
  /* What runfd holds: sockets, an epoll fd, files; and a high fd. */
  assert_int_equal (pipe2 (report, O_CLOEXEC), 0);
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM, 0, sock), 0);
  ep = epoll_create1 (0);
  spare = open ("/dev/null", O_RDONLY);
  keep_high = fcntl (report[1], F_DUPFD, 200);
  assert_true (ep >= 0 && spare >= 0 && keep_high >= 200);
  sigemptyset (&mask);
  sigaddset (&mask, SIGTERM);
  sigprocmask (SIG_BLOCK, &mask, NULL);

  pid = rfd_worker_fork (keep_high, NULL);
  assert_true (pid >= 0);
  if (pid == 0)
    {
      /* The child lists what it has, and how it stands. */
      char out[4096];
      size_t o = 0;
      DIR *d = opendir ("/proc/self/fd");
      struct dirent *de;
      int sig = 0;
      sigset_t now;
      while ((de = readdir (d)) != NULL)
        if (de->d_name[0] != '.' && atoi (de->d_name) != dirfd (d))
          o += (size_t) snprintf (out + o, sizeof out - o, "%s ", de->d_name);
      closedir (d);
      sigprocmask (SIG_SETMASK, NULL, &now);
      prctl (PR_GET_PDEATHSIG, &sig);
      o += (size_t) snprintf (out + o, sizeof out - o, "| term-blocked=%d pdeathsig=%d", sigismember (&now, SIGTERM),
                              sig);
      if (write (keep_high, out, o) < 0)
        _exit (2);
      _exit (0);
    }
  close (keep_high);
  close (report[1]);
  while ((n = read (report[0], buf + len, sizeof buf - 1 - len)) > 0)
    len += (size_t) n;
  buf[len] = '\0';
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  {
    /* Exactly stdio, the report fd and the log. */
    cleanup_free char *want = xasprintf ("0 1 2 %d 200 | term-blocked=0 pdeathsig=%d", rf_log_fd (), SIGKILL);
    if (rf_log_fd () > 200)
      {
        free (want);
        want = xasprintf ("0 1 2 200 %d | term-blocked=0 pdeathsig=%d", rf_log_fd (), SIGKILL);
      }
    assert_string_equal (buf, want);
  }
  sigprocmask (SIG_UNBLOCK, &mask, NULL);
  close (report[0]);
  close (sock[0]);
  close (sock[1]);
  close (ep);
  close (spare);
  unlink (logpath);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_worker_fds),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
