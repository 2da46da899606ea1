/* A cgroup that a container used, made ready for the next container of the
 * same resources (rf_cgroup_reset in cgroup.h).  What a container can
 * leave in its cgroup, and what becomes of it:
 *
 *   processes        none may be left: checked (v1 cgroup.procs of each
 *                    directory, v2 cgroup.events)
 *   frozen           must not be: checked (v1 freezer.state, v2
 *                    cgroup.events)
 *   memory charged   what stays charged once its processes are gone is
 *                    page cache (the image's files it read), which the
 *                    kernel reclaims as soon as the next container needs
 *                    the room: it can neither push the next one past its
 *                    limit nor be read by it
 *   memory peak      v1: memory.max_usage_in_bytes and, with swap
 *                    accounting, memory.memsw.max_usage_in_bytes reset (a
 *                    write of 0 starts them again from what is left).
 *                    v2's memory.peak cannot be: since Linux 6.12 a write
 *                    resets it only for the writer's own open file; it
 *                    keeps the largest of all its containers
 *   OOM kills        counted for good on v1 and v2: the caller removes a
 *                    cgroup that counted one (rf_cgroup_oom_kills)
 *   CPU quota        written again: the kernel refills the bandwidth of
 *                    the current period, which the last container may
 *                    have spent, and lets a throttled queue run
 *   cpuacct.usage    v1: reset
 *   event counters   pids.events, pids.peak, memory.events' max and high,
 *                    memory.stat, cpu.stat: cumulative, no reset exists.
 *                    v1's memory.failcnt and the kmem counters could be
 *                    reset but are not: each write costs some 8 us, and
 *                    they count what memory.max_usage_in_bytes and the
 *                    OOM count already say
 *
 * What cannot be reset only counts; nothing enforces a limit by it.  A
 * caller that hands reused cgroups to untrusted code keeps them out of its
 * reach (runfd's instances have no /sys) so that one container does not
 * read another's counters. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "common/cleanup.h"
#include "common/fsutil.h"

/* Not every host has every counter (memsw: swap accounting off): a
   missing one needs no reset. */
static int
reset_counter (const char *dir, const char *file, rf_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return 0;
  if (fd < 0 || write (fd, "0", 1) < 0)
    return rf_error_sys (err, "cgroup: reset `%s`", path);
  return 0;
}

static bool
has_controller (const rf_cgroup_dir_t *d, const char *name)
{
  rf_cgroup_t one = { .dirs = (rf_cgroup_dir_t *) d, .n = 1 };
  return rf_cgroup_find (&one, name) != NULL;
}

static int
check_idle (const rf_cgroup_dir_t *d, rf_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", d->dir, d->v2 ? "cgroup.events" : "cgroup.procs");
  cleanup_free char *text = NULL;
  if (rf_read_file_at (AT_FDCWD, path, 0, &text, NULL, err) < 0)
    return -1;
  if (d->v2 ? strstr (text, "populated 0") == NULL : text[0] != '\0')
    return rf_error_make (err, EBUSY, "cgroup `%s` still has processes", d->dir);
  if (d->v2 && strstr (text, "frozen 1"))
    return rf_error_make (err, EBUSY, "cgroup `%s` is frozen", d->dir);
  if (!d->v2 && has_controller (d, "freezer"))
    {
      cleanup_free char *state_path = xasprintf ("%s/freezer.state", d->dir);
      cleanup_free char *state = NULL;
      if (rf_read_file_at (AT_FDCWD, state_path, 0, &state, NULL, err) < 0)
        return -1;
      if (strncmp (state, "THAWED", 6) != 0)
        return rf_error_make (err, EBUSY, "cgroup `%s` is frozen", d->dir);
    }
  return 0;
}

static int
reset_v1 (const rf_cgroup_dir_t *d, const rf_resources_t *res, rf_error_t *err)
{
  static const char *const memory_counters[] = { "memory.max_usage_in_bytes", "memory.memsw.max_usage_in_bytes" };
  if (has_controller (d, "memory"))
    for (size_t i = 0; i < sizeof memory_counters / sizeof *memory_counters; i++)
      if (reset_counter (d->dir, memory_counters[i], err) < 0)
        return -1;
  if (has_controller (d, "cpu") && res->cpu_quota != RF_UNSET
      && rf_cgroup_writef (d->dir, "cpu.cfs_quota_us", "linux.resources.cpu.quota", err, "%" PRId64,
                           res->cpu_quota) < 0)
    return -1;
  if (has_controller (d, "cpuacct") && reset_counter (d->dir, "cpuacct.usage", err) < 0)
    return -1;
  return 0;
}

static int
reset_v2 (const rf_cgroup_dir_t *d, const rf_resources_t *res, rf_error_t *err)
{
  uint64_t period = res->cpu_period ? res->cpu_period : 100000;
  /* On a hybrid host the v2 directory holds no cpu controller: its
     quota, if any, was written in v1. */
  if (res->cpu_quota == RF_UNSET || !rf_cgroup_has_file (d->dir, "cpu.max"))
    return 0;
  return res->cpu_quota < 0
             ? rf_cgroup_writef (d->dir, "cpu.max", "linux.resources.cpu.quota", err, "max %" PRIu64, period)
             : rf_cgroup_writef (d->dir, "cpu.max", "linux.resources.cpu.quota", err, "%" PRId64 " %" PRIu64,
                                 res->cpu_quota, period);
}

int
rf_cgroup_reset (const rf_cgroup_t *cg, const rf_resources_t *res, rf_error_t *err)
{
  for (size_t i = 0; i < cg->n; i++)
    if (check_idle (&cg->dirs[i], err) < 0)
      return -1;
  for (size_t i = 0; i < cg->n; i++)
    if ((cg->dirs[i].v2 ? reset_v2 (&cg->dirs[i], res, err) : reset_v1 (&cg->dirs[i], res, err)) < 0)
      return -1;
  return 0;
}
