/* The caller's side of process.terminal (console.h). */
#include "console.h"

#include <stdbool.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "linux/sync.h"

int
rf_console_socket_send (const char *path, int master, rf_error_t *err)
{
  cleanup_close int sock = rf_unix_connect (path, "--console-socket", err);
  if (sock < 0)
    return -1;
  /* runc sends the master's name as the payload; engines only take the fd. */
  if (rf_send_fd (sock, master, "/dev/ptmx", err) < 0)
    return rf_error_wrap (err, "--console-socket `%s`", path);
  return 0;
}

static struct termios saved_termios;
static bool termios_saved;

int
rf_terminal_relay_open (int master, rf_error_t *err)
{
  struct termios raw;
  struct winsize ws;

  if (!isatty (STDIN_FILENO))
    return 0;
  if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
    ioctl (master, TIOCSWINSZ, &ws);
  if (tcgetattr (STDIN_FILENO, &saved_termios) < 0)
    return rf_error_sys (err, "read the terminal's settings");
  termios_saved = true;
  raw = saved_termios;
  cfmakeraw (&raw);
  if (tcsetattr (STDIN_FILENO, TCSANOW, &raw) < 0)
    return rf_error_sys (err, "make the terminal raw");
  return 0;
}

void
rf_terminal_restore (void)
{
  if (termios_saved)
    tcsetattr (STDIN_FILENO, TCSANOW, &saved_termios);
  termios_saved = false;
}
