#include "fds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int
close_range_ (unsigned int first, unsigned int last, unsigned int flags)
{
#ifdef SYS_close_range
  return (int) syscall (SYS_close_range, first, last, flags);
#else
  errno = ENOSYS;
  return -1;
#endif
}

static bool
kept_p (const int *keep, size_t n, int fd)
{
  for (size_t i = 0; i < n; i++)
    if (keep[i] == fd)
      return true;
  return false;
}

static int
compare_int (const void *a, const void *b)
{
  int x = *(const int *) a, y = *(const int *) b;
  return (x > y) - (x < y);
}

/* Apply op (close, or set close-on-exec) to the open fds >= first that
   are not kept, as listed by /proc/self/fd; -1 when it cannot be read. */
static int
walk_proc_fds (int first, const int *keep, size_t n, bool cloexec)
{
  DIR *dir = opendir ("/proc/self/fd");
  struct dirent *de;
  int *found = NULL;
  size_t n_found = 0, cap = 0;

  if (dir == NULL)
    return -1;
  /* Collected first: closing while reading the directory could skip
     entries. */
  while ((de = readdir (dir)) != NULL)
    {
      char *end;
      long fd = strtol (de->d_name, &end, 10);
      if (*end || end == de->d_name || fd < first || fd == dirfd (dir) || kept_p (keep, n, (int) fd))
        continue;
      if (n_found == cap)
        {
          int *grown = realloc (found, (cap = cap ? cap * 2 : 64) * sizeof *found);
          if (grown == NULL)
            break;
          found = grown;
        }
      found[n_found++] = (int) fd;
    }
  closedir (dir);
  for (size_t i = 0; i < n_found; i++)
    {
      if (cloexec)
        fcntl (found[i], F_SETFD, FD_CLOEXEC);
      else
        close (found[i]);
    }
  free (found);
  return 0;
}

/* The last way: every number up to the limit (a process whose /proc is
   not there, under a filter that refuses close_range). */
static void
close_every_number (int first, const int *keep, size_t n)
{
  struct rlimit rl;
  int max = 65536;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t) max)
    max = (int) rl.rlim_cur;
  for (int fd = first; fd < max; fd++)
    if (!kept_p (keep, n, fd))
      close (fd);
}

void
rf_fds_close_except (const int *keep, size_t n)
{
  int sorted[n + 1];
  size_t m = 0;
  int next = 0;
  bool ok = true;

  for (size_t i = 0; i < n; i++)
    if (keep[i] >= 0)
      sorted[m++] = keep[i];
  qsort (sorted, m, sizeof *sorted, compare_int);
  for (size_t i = 0; i <= m && ok; i++)
    {
      /* The gap below the next kept fd, or everything above the last. */
      unsigned int last = i < m ? (unsigned int) sorted[i] - 1 : ~0U;
      if (i < m && sorted[i] < next)
        continue;
      if ((i == m || sorted[i] > next) && close_range_ ((unsigned int) next, last, 0) < 0)
        ok = false;
      if (i < m)
        next = sorted[i] + 1;
    }
  if (ok)
    return;
  if (walk_proc_fds (0, keep, n, false) == 0)
    return;
  close_every_number (0, keep, n);
}

int
rf_fds_cloexec_from (int first)
{
  if (close_range_ ((unsigned int) first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return 0;
  return walk_proc_fds (first, NULL, 0, true);
}
