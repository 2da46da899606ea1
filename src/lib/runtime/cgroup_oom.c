/* OOM notifications of a container's memory cgroup, for `runf events`.
 * v1: an eventfd registered through cgroup.event_control against
 * memory.oom_control; the kernel signals it at each OOM of the cgroup (and
 * once more when the cgroup is removed).  v2: inotify on memory.events,
 * where a grown oom_kill count means a process was killed. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgroup.h"
#include "common/cleanup.h"
#include "common/fsutil.h"

static uint64_t
oom_kills_in (const char *dir, const char *file)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  cleanup_free char *text = NULL;
  char *p;
  if (rf_read_file_at (AT_FDCWD, path, 0, &text, NULL, NULL) < 0)
    return 0;
  p = strstr (text, "oom_kill ");
  return p ? strtoull (p + 9, NULL, 10) : 0;
}

static uint64_t
oom_kills (const char *dir)
{
  return oom_kills_in (dir, "memory.events");
}

unsigned long long
rf_cgroup_oom_kills (const rf_cgroup_t *cg)
{
  const rf_cgroup_dir_t *mem = rf_cgroup_find (cg, "memory");
  if (mem == NULL)
    return 0;
  /* v1 counts them in memory.oom_control since Linux 4.13. */
  return oom_kills_in (mem->dir, mem->v2 ? "memory.events" : "memory.oom_control");
}

int
rf_cgroup_oom_watch (const rf_cgroup_t *cg, rf_oom_watch_t *w, rf_error_t *err)
{
  const rf_cgroup_dir_t *mem = rf_cgroup_find (cg, "memory");

  memset (w, 0, sizeof *w);
  w->fd = -1;
  if (mem == NULL)
    return 0;
  w->dir = xstrdup (mem->dir);
  w->v2 = mem->v2;
  if (mem->v2)
    {
      cleanup_free char *path = xasprintf ("%s/memory.events", mem->dir);
      w->fd = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
      if (w->fd < 0)
        return rf_error_sys (err, "inotify");
      if (inotify_add_watch (w->fd, path, IN_MODIFY) < 0)
        return rf_error_sys (err, "watch `%s`", path);
      w->oom_kills = oom_kills (mem->dir);
      return 0;
    }
  {
    cleanup_free char *oom_path = xasprintf ("%s/memory.oom_control", mem->dir);
    cleanup_close int oom_fd = open (oom_path, O_RDONLY | O_CLOEXEC);
    char line[64];
    if (oom_fd < 0)
      return rf_error_sys (err, "open `%s`", oom_path);
    w->fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->fd < 0)
      return rf_error_sys (err, "eventfd");
    snprintf (line, sizeof line, "%d %d", w->fd, oom_fd);
    /* The kernel keeps its own reference to memory.oom_control. */
    if (rf_cgroup_write (mem->dir, "cgroup.event_control", line, "events", err) < 0)
      return -1;
  }
  return 0;
}

int
rf_oom_watch_read (rf_oom_watch_t *w)
{
  if (w->fd < 0)
    return 0;
  if (w->v2)
    {
      char buf[4096];
      unsigned long long now;
      while (read (w->fd, buf, sizeof buf) > 0)
        ;
      if (!rf_cgroup_has_file (w->dir, "memory.events"))
        return -1;
      now = oom_kills (w->dir);
      if (now <= w->oom_kills)
        return 0;
      w->oom_kills = now;
      return 1;
    }
  else
    {
      uint64_t count = 0;
      if (read (w->fd, &count, sizeof count) != (ssize_t) sizeof count)
        return 0;
      /* The eventfd also fires once when the cgroup goes away. */
      if (!rf_cgroup_has_file (w->dir, "cgroup.event_control"))
        return -1;
      return count > 0;
    }
}

void
rf_oom_watch_close (rf_oom_watch_t *w)
{
  if (w->fd >= 0)
    close (w->fd);
  free (w->dir);
  memset (w, 0, sizeof *w);
  w->fd = -1;
}
