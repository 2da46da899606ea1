#include "procattr.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"

int
rf_sched_affinity (const char *where, const char *cpus, rf_error_t *err)
{
  cpu_set_t set;
  cleanup_free char *copy = NULL;
  char *save = NULL;

  if (cpus == NULL)
    return 0;
  CPU_ZERO (&set);
  copy = xstrdup (cpus);
  for (char *range = strtok_r (copy, ",", &save); range; range = strtok_r (NULL, ",", &save))
    {
      char *dash = strchr (range, '-');
      long lo = strtol (range, NULL, 10), hi = dash ? strtol (dash + 1, NULL, 10) : lo;
      if (lo < 0 || hi < lo || hi >= CPU_SETSIZE)
        return rf_error_make (err, EINVAL, "%s: `%s` is not a valid cpu range", where, range);
      for (long c = lo; c <= hi; c++)
        CPU_SET (c, &set);
    }
  if (sched_setaffinity (0, sizeof set, &set) < 0)
    return rf_error_sys (err, "%s `%s`", where, cpus);
  return 0;
}

int
rf_sched_apply (const rf_process_t *p, rf_error_t *err)
{
  if (p->has_io_priority
      && syscall (SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (p->io_class << 13) | p->io_priority) < 0)
    return rf_error_sys (err, "process.ioPriority");
  if (p->has_scheduler)
    {
      /* struct sched_attr of the kernel's uapi (glibc has no wrapper). */
      struct
      {
        uint32_t size, sched_policy;
        uint64_t sched_flags;
        int32_t sched_nice;
        uint32_t sched_priority;
        uint64_t sched_runtime, sched_deadline, sched_period;
        uint32_t sched_util_min, sched_util_max;
      } attr;
      memset (&attr, 0, sizeof attr);
      attr.size = sizeof attr;
      attr.sched_policy = p->sched_policy;
      attr.sched_flags = p->sched_flags;
      attr.sched_nice = p->sched_nice;
      attr.sched_priority = p->sched_priority;
      attr.sched_runtime = p->sched_runtime;
      attr.sched_deadline = p->sched_deadline;
      attr.sched_period = p->sched_period;
      if (syscall (SYS_sched_setattr, 0, &attr, 0) < 0)
        return rf_error_sys (err, "process.scheduler");
    }
  return 0;
}

int
rf_sched_personality (const rf_spec_t *spec, rf_error_t *err)
{
  if (spec->has_personality && personality (spec->personality) < 0)
    return rf_error_sys (err, "linux.personality");
  return 0;
}

static const char *
lsm_field (const rf_process_t *p)
{
  return p->apparmor_profile ? "process.apparmorProfile" : "process.selinuxLabel";
}

int
rf_lsm_open_exec_attr (const rf_process_t *p, int proc_fd, rf_error_t *err)
{
  const char *path = proc_fd == AT_FDCWD ? "/proc/thread-self/attr" : "thread-self/attr";
  int fd;
  if (!p->apparmor_profile && !p->selinux_label)
    return -1;
  fd = openat (proc_fd, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return rf_error_sys (err, "%s: open /proc/thread-self/attr", lsm_field (p));
  return fd;
}

const char *
rf_lsm_exec_attr_name (int attr_dir, const rf_process_t *p)
{
  /* Newer kernels keep AppArmor's attributes apart from other LSMs'. */
  if (p->apparmor_profile && faccessat (attr_dir, "apparmor/exec", F_OK, 0) == 0)
    return "apparmor/exec";
  return "exec";
}

char *
rf_lsm_exec_value (const rf_process_t *p)
{
  if (p->apparmor_profile)
    return xasprintf ("exec %s", p->apparmor_profile);
  return p->selinux_label ? xstrdup (p->selinux_label) : NULL;
}

int
rf_lsm_write_exec_attr (int attr_dir, const char *name, const char *value, rf_error_t *err)
{
  cleanup_close int fd = openat (attr_dir, name, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, value, strlen (value)) < 0)
    return rf_error_sys (err, "set the exec's LSM label `%s` (attr/%s)", value, name);
  return 0;
}

int
rf_lsm_set_exec_label (int attr_dir, const rf_process_t *p, rf_error_t *err)
{
  cleanup_free char *value = NULL;
  if (attr_dir < 0)
    return 0;
  value = rf_lsm_exec_value (p);
  if (rf_lsm_write_exec_attr (attr_dir, rf_lsm_exec_attr_name (attr_dir, p), value, err) < 0)
    return rf_error_wrap (err, "%s", lsm_field (p));
  return 0;
}
