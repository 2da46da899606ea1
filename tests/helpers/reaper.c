/* Run a command as a child subreaper: processes it leaves behind (daemons
 * a test started and stopped) are reaped here, not left as zombies of a
 * pid 1 that may never wait for them.  Exits with the command's status. */
#include <errno.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  pid_t child;
  int status = 0, result = 1;

  if (argc < 2)
    {
      fprintf (stderr, "usage: reaper COMMAND [ARGS...]\n");
      return 2;
    }
  prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  child = fork ();
  if (child == 0)
    {
      execvp (argv[1], argv + 1);
      perror (argv[1]);
      _exit (127);
    }
  for (;;)
    {
      pid_t pid = wait (&status);
      if (pid < 0 && errno == EINTR)
        continue;
      if (pid < 0)
        break;
      if (pid == child)
        result = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
    }
  return result;
}
