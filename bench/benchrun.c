/* Run several commands N times each, interleaved (a, b, c, a, b, c, ...) so
 * that drift of the machine hits all alike, and print per command the
 * median wall time, median CPU time (user + system of the command and the
 * children it reaped) and the largest peak RSS.
 *
 *   benchrun N NAME CMD ARGS... [--- NAME CMD ARGS...]...
 *
 * "%i" in an argument becomes the run number (for unique container ids).
 * Output, one line per command: NAME wall_ms cpu_ms maxrss_kb failures */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct command
{
  char *name;
  char **argv;
  int argc;
  double *wall, *cpu;
  long maxrss;
  int failures;
};

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (double *v, int n)
{
  qsort (v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
run_once (struct command *c, int i)
{
  char *argv[c->argc + 1];
  char numbers[c->argc][512];
  struct timespec t0, t1;
  struct rusage ru;
  int status;
  pid_t pid;

  for (int a = 0; a < c->argc; a++)
    {
      char *pct = strstr (c->argv[a], "%i");
      if (pct)
        {
          snprintf (numbers[a], sizeof numbers[a], "%.*s%d%s", (int) (pct - c->argv[a]),
                    c->argv[a], i, pct + 2);
          argv[a] = numbers[a];
        }
      else
        argv[a] = c->argv[a];
    }
  argv[c->argc] = NULL;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  pid = fork ();
  if (pid == 0)
    {
      execvp (argv[0], argv);
      _exit (127);
    }
  wait4 (pid, &status, 0, &ru);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    c->failures++;
  c->wall[i] = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
  c->cpu[i] = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3
              + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
  if (ru.ru_maxrss > c->maxrss)
    c->maxrss = ru.ru_maxrss;
}

int
main (int argc, char **argv)
{
  struct command cmds[16];
  int n, ncmds = 0;

  if (argc < 4)
    {
      fprintf (stderr, "usage: benchrun N NAME CMD... [--- NAME CMD...]...\n");
      return 2;
    }
  n = atoi (argv[1]);
  for (int a = 2; a < argc && ncmds < 16;)
    {
      struct command *c = &cmds[ncmds++];
      memset (c, 0, sizeof *c);
      c->name = argv[a++];
      c->argv = &argv[a];
      while (a < argc && strcmp (argv[a], "---") != 0)
        {
          a++;
          c->argc++;
        }
      a++;
      c->wall = calloc (n, sizeof (double));
      c->cpu = calloc (n, sizeof (double));
    }
  for (int i = 0; i < n; i++)
    for (int k = 0; k < ncmds; k++)
      run_once (&cmds[k], i);
  for (int k = 0; k < ncmds; k++)
    printf ("%s %.2f %.2f %ld %d\n", cmds[k].name, median (cmds[k].wall, n),
            median (cmds[k].cpu, n), cmds[k].maxrss, cmds[k].failures);
  return 0;
}
