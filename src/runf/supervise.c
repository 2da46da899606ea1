#include "supervise.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/syscalls.h"

/* Signals runf itself handles or must leave alone: the synchronous ones,
   and those the kernel will not let anyone catch. */
static bool
forwardable (int sig)
{
  return sig != SIGKILL && sig != SIGSTOP && sig != SIGSEGV && sig != SIGBUS
         && sig != SIGILL && sig != SIGFPE && sig != SIGTRAP && sig != SIGSYS;
}

int
runf_signals_block (rf_error_t *err)
{
  sigset_t mask;
  int sfd;

  sigemptyset (&mask);
  for (int sig = 1; sig < NSIG; sig++)
    if (forwardable (sig))
      sigaddset (&mask, sig);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  sfd = signalfd (-1, &mask, SFD_CLOEXEC);
  if (sfd < 0)
    return rf_error_sys (err, "signalfd");
  return sfd;
}

static int
exit_code (int status)
{
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return 1;
}

/* Copy what is readable from `from` to `to`; 0 at EOF or hangup. */
static int
relay (int from, int to)
{
  char buf[16384];
  ssize_t n = read (from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 1;
  if (n <= 0)
    return 0;
  return rf_write_all (to, buf, n) < 0 ? 0 : 1;
}

static void
resize (int master)
{
  struct winsize ws;
  if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
    ioctl (master, TIOCSWINSZ, &ws);
}

/* Reap every child that has exited; 1 when `pid` was one of them. */
static int
reap (pid_t pid, int *status)
{
  for (;;)
    {
      int st;
      pid_t got = waitpid (-1, &st, WNOHANG);
      if (got <= 0)
        return 0;
      if (got == pid)
        {
          *status = st;
          return 1;
        }
    }
}

int
runf_supervise (pid_t pid, int pidfd, int pty_master, int sfd, rf_error_t *err)
{
  int master = pty_master;
  bool stdin_open = master >= 0;
  int status = 0;

  for (;;)
    {
      struct pollfd p[3] = {
        { .fd = sfd, .events = POLLIN },
        { .fd = master, .events = POLLIN },
        { .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
      };
      if (poll (p, 3, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return rf_error_sys (err, "poll");
        }
      if (p[0].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          if (read (sfd, &si, sizeof si) == sizeof si)
            {
              int sig = (int) si.ssi_signo;
              if (sig == SIGCHLD)
                {
                  if (reap (pid, &status))
                    break;
                }
              else if (sig == SIGWINCH && master >= 0)
                resize (master);
              else if (pidfd >= 0)
                rf_pidfd_send_signal (pidfd, sig);
              else
                kill (pid, sig);
            }
        }
      if (master >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
        if (!relay (master, STDOUT_FILENO))
          master = -1; /* the process closed its terminal */
      if (stdin_open && (p[2].revents & (POLLIN | POLLHUP | POLLERR)))
        if (!relay (STDIN_FILENO, pty_master))
          stdin_open = false;
    }
  /* Whatever the process wrote just before exiting is still buffered. */
  if (master >= 0)
    {
      struct pollfd p = { .fd = master, .events = POLLIN };
      while (poll (&p, 1, 0) > 0 && (p.revents & POLLIN) && relay (master, STDOUT_FILENO))
        ;
    }
  return exit_code (status);
}
