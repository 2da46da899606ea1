/* `runf run`: create and start in one process, then (unless --detach) stay
 * as the container's parent: forward signals, relay the terminal, and exit
 * with the container's status (128+N when a signal N killed it). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "create.h"
#include "runtime/linux/syscalls.h"
#include "runtime/linux/terminal.h"

/* Signals runf itself handles or must leave alone: the synchronous ones,
   and those the kernel will not let anyone catch. */
static bool
forwardable (int sig)
{
  return sig != SIGKILL && sig != SIGSTOP && sig != SIGSEGV && sig != SIGBUS
         && sig != SIGILL && sig != SIGFPE && sig != SIGTRAP && sig != SIGSYS;
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

/* Reap until init is gone; its status is the container's. */
static int
reap (pid_t init, int *status)
{
  for (;;)
    {
      int st;
      pid_t pid = waitpid (-1, &st, WNOHANG);
      if (pid <= 0)
        return 0;
      if (pid == init)
        {
          *status = st;
          return 1;
        }
    }
}

static int
supervise (rf_container_t *c, int sfd, rf_error_t *err)
{
  int master = c->pty_master;
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
                  if (reap (c->pid, &status))
                    break;
                }
              else if (sig == SIGWINCH && master >= 0)
                resize (master);
              else if (c->pidfd >= 0)
                rf_pidfd_send_signal (c->pidfd, sig);
              else
                kill (c->pid, sig);
            }
        }
      if (master >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
        if (!relay (master, STDOUT_FILENO))
          master = -1; /* the container closed its terminal */
      if (stdin_open && (p[2].revents & (POLLIN | POLLHUP | POLLERR)))
        if (!relay (STDIN_FILENO, c->pty_master))
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

int
runf_cmd_run (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  runf_create_args_t a;
  rf_container_t *c = NULL;
  sigset_t mask, old;
  cleanup_close int sfd = -1;
  int ret = -1;

  if (runf_parse_create (g, argc, argv, true, &a, err) < 0)
    goto out;
  a.opts.start_now = true;

  /* Block forwarded signals before the container exists, so none is lost;
     init unblocks them for itself. */
  sigemptyset (&mask);
  for (int sig = 1; sig < NSIG; sig++)
    if (forwardable (sig))
      sigaddset (&mask, sig);
  if (!a.detach)
    {
      sigprocmask (SIG_BLOCK, &mask, &old);
      sfd = signalfd (-1, &mask, SFD_CLOEXEC);
      if (sfd < 0)
        {
          rf_error_sys (err, "signalfd");
          goto out;
        }
    }
  if (rf_container_create (&a.opts, a.spec, &c, err) < 0)
    goto out;
  if (c->pty_master >= 0 && rf_terminal_relay_open (c->pty_master, err) < 0)
    {
      rf_container_abort (c);
      c = NULL;
      goto out;
    }
  if (rf_container_start_now (c, err) < 0)
    {
      rf_terminal_restore ();
      rf_container_abort (c);
      c = NULL;
      goto out;
    }
  if (a.detach)
    {
      ret = 0;
      goto out;
    }
  ret = supervise (c, sfd, err);
  rf_terminal_restore ();
  if (!a.keep)
    {
      rf_error_t ignored = NULL;
      if (rf_container_remove_state (g->root, a.opts.id, &ignored) < 0)
        {
          cleanup_free char *text = rf_error_text (ignored);
          rf_warn ("remove the state of `%s`: %s", a.opts.id, text);
        }
      rf_error_free (&ignored);
    }

out:
  rf_container_free (c);
  runf_create_args_clear (&a);
  return ret;
}
