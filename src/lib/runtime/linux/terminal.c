/* The pty of process.terminal, inside the container (terminal.h). */
#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "common/cleanup.h"

int
rf_terminal_setup (const rf_process_t *p, bool bind_console, rf_error_t *err)
{
  cleanup_close int master = -1;
  cleanup_close int slave = -1;
  char name[64];
  int unlock = 0;

  master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return rf_error_sys (err, "process.terminal: open /dev/ptmx (is /dev/pts mounted?)");
  if (ioctl (master, TIOCSPTLCK, &unlock) < 0)
    return rf_error_sys (err, "process.terminal: unlock the pty");
  if (ioctl (master, TIOCGPTN, &unlock) < 0)
    return rf_error_sys (err, "process.terminal: pty number");
  snprintf (name, sizeof name, "/dev/pts/%d", unlock);
  slave = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return rf_error_sys (err, "process.terminal: open `%s`", name);
  /* The process's own terminal: its user owns it (the group stays the
     one devpts gives, tty with runc's gid=5), so that it may change its
     modes as it could on a login terminal, as with runc.  A uid the user
     namespace does not map, an owner it does not map, or a read-only /dev
     leave it as it is. */
  if (fchown (slave, p->uid, (gid_t) -1) < 0 && errno != EINVAL && errno != EPERM && errno != EROFS)
    return rf_error_sys (err, "process.terminal: give `%s` to uid %u", name, p->uid);
  if (p->console_height || p->console_width)
    {
      struct winsize ws = { .ws_row = p->console_height, .ws_col = p->console_width };
      if (ioctl (slave, TIOCSWINSZ, &ws) < 0)
        return rf_error_sys (err, "process.consoleSize");
    }
  /* /dev/console is the terminal of the container's init; an exec'd
     process has a terminal of its own and leaves it alone. */
  if (bind_console)
    {
      int f = open ("/dev/console", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (f >= 0)
        {
          close (f);
          if (mount (name, "/dev/console", NULL, MS_BIND, NULL) < 0)
            return rf_error_sys (err, "process.terminal: bind `%s` on /dev/console", name);
        }
    }
  if (setsid () < 0)
    return rf_error_sys (err, "setsid");
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    return rf_error_sys (err, "process.terminal: make the pty the controlling terminal");
  for (int fd = 0; fd < 3; fd++)
    if (dup2 (slave, fd) < 0)
      return rf_error_sys (err, "dup2 the pty to fd %d", fd);
  return steal_fd (&master);
}
