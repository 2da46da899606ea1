/* spawn N: fork N children that wait, count how many forks worked and how
 * many the kernel refused, print "started S failed F", then end the
 * children.  A bounded fork bomb for pids limits. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  long n = argc == 2 ? strtol (argv[1], NULL, 10) : 0;
  pid_t *kids;
  long started = 0, failed = 0;

  if (n <= 0 || n > 10000)
    {
      fprintf (stderr, "usage: spawn N (1..10000)\n");
      return 2;
    }
  kids = calloc ((size_t) n, sizeof *kids);
  if (kids == NULL)
    return 1;
  for (long i = 0; i < n; i++)
    {
      pid_t pid = fork ();
      if (pid == 0)
        {
          pause ();
          _exit (0);
        }
      if (pid < 0)
        {
          if (errno != EAGAIN)
            perror ("spawn: fork");
          failed++;
          continue;
        }
      kids[started++] = pid;
    }
  printf ("started %ld failed %ld\n", started, failed);
  fflush (stdout);
  for (long i = 0; i < started; i++)
    kill (kids[i], SIGKILL);
  for (long i = 0; i < started; i++)
    waitpid (kids[i], NULL, 0);
  return 0;
}
