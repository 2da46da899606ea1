/* Run several commands N times each, interleaved (a, b, c, a, b, c, ...) so
 * that drift of the machine hits all alike, and print per command the
 * median wall time, median CPU time (user + system of the command and the
 * children it reaped) and the largest peak RSS.
 *
 *   benchrun N NAME CMD ARGS... [--- NAME CMD ARGS...]...
 *
 * BENCH_GAP_MS (default 50) is an untimed pause before each run: a run must
 * not profit from the kernel state the previous one left warm (a cgroup
 * move right after another skips an RCU grace period, for one), since a
 * user starting one container does not have that either.
 *
 * "%i" in an argument becomes the run number (for unique container ids).
 * Output, one line per command: NAME wall_ms cpu_ms maxrss_kb failures
 *
 *   benchrun -p WORKERS SECONDS NAME CMD ARGS... [--- NAME CMD ARGS...]...
 *
 * Throughput instead: for each command in turn, WORKERS loops run it one
 * run after the other for SECONDS (decimals allowed), all at once, the way
 * a busy host starts containers.  "%i" is unique across the workers.
 * Output, one line per command: NAME runs_per_second failures */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
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

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One run of c, run number i (for "%i"); its wall and CPU time in ms go
   to *wall and *cpu.  Counts a failure in c. */
static void
run_once (struct command *c, int i, double *wall, double *cpu)
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
  *wall = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
  *cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3
              + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
  if (ru.ru_maxrss > c->maxrss)
    c->maxrss = ru.ru_maxrss;
}

/* What a worker of -p tells the parent, in one write. */
struct tally
{
  uint64_t runs, failures;
  double elapsed;
};

/* -p: WORKERS loops of c for SECONDS; prints NAME runs/s failures. */
static void
run_parallel (struct command *c, int workers, double seconds)
{
  struct tally total = { 0 };
  int fds[2];

  if (pipe (fds) < 0)
    {
      perror ("benchrun: pipe");
      exit (1);
    }
  fflush (NULL);
  for (int w = 0; w < workers; w++)
    {
      pid_t pid = fork ();
      if (pid < 0)
        {
          perror ("benchrun: fork");
          exit (1);
        }
      if (pid == 0)
        {
          struct tally t = { 0 };
          double start = now_s ();
          close (fds[0]);
          /* Run numbers w, w + workers, w + 2 workers...: unique ids. */
          for (int i = w; now_s () - start < seconds; i += workers)
            {
              int before = c->failures;
              double wall, cpu;
              run_once (c, i, &wall, &cpu);
              if (c->failures != before)
                t.failures++;
              else
                t.runs++;
            }
          t.elapsed = now_s () - start;
          _exit (write (fds[1], &t, sizeof t) == sizeof t ? 0 : 1);
        }
    }
  close (fds[1]);
  for (int w = 0; w < workers; w++)
    {
      struct tally t;
      ssize_t got;
      while ((got = read (fds[0], &t, sizeof t)) < 0 && errno == EINTR)
        ;
      if (got != sizeof t)
        {
          fprintf (stderr, "benchrun: a worker of %s died without its count\n", c->name);
          exit (1);
        }
      total.runs += t.runs;
      total.failures += t.failures;
      if (t.elapsed > total.elapsed)
        total.elapsed = t.elapsed;
    }
  close (fds[0]);
  while (wait (NULL) > 0 || errno == EINTR)
    ;
  printf ("%s %.1f %llu\n", c->name, total.elapsed > 0 ? total.runs / total.elapsed : 0.0,
          (unsigned long long) total.failures);
  fflush (stdout);
}

int
main (int argc, char **argv)
{
  struct command cmds[16];
  int n, ncmds = 0, first = 2, workers = 0;
  double seconds = 0;

  if (argc >= 4 && strcmp (argv[1], "-p") == 0)
    {
      workers = atoi (argv[2]);
      seconds = atof (argv[3]);
      first = 4;
    }
  if (argc < first + 2 || (first == 4 && (workers < 1 || seconds <= 0)))
    {
      fprintf (stderr, "usage: benchrun N NAME CMD... [--- NAME CMD...]...\n"
                       "       benchrun -p WORKERS SECONDS NAME CMD... [--- NAME CMD...]...\n");
      return 2;
    }
  n = first == 2 ? atoi (argv[1]) : 1;
  for (int a = first; a < argc && ncmds < 16;)
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
  if (workers)
    {
      for (int k = 0; k < ncmds; k++)
        run_parallel (&cmds[k], workers, seconds);
      return 0;
    }
  {
    const char *gap = getenv ("BENCH_GAP_MS");
    long gap_ms = gap ? atol (gap) : 50;
    struct timespec pause = { gap_ms / 1000, (gap_ms % 1000) * 1000000L };
    for (int i = 0; i < n; i++)
      for (int k = 0; k < ncmds; k++)
        {
          if (gap_ms > 0)
            nanosleep (&pause, NULL);
          run_once (&cmds[k], i, &cmds[k].wall[i], &cmds[k].cpu[i]);
        }
  }
  for (int k = 0; k < ncmds; k++)
    printf ("%s %.2f %.2f %ld %d\n", cmds[k].name, median (cmds[k].wall, n),
            median (cmds[k].cpu, n), cmds[k].maxrss, cmds[k].failures);
  return 0;
}
