/* The sections of config.json beyond namespaces, mounts and the process's
 * identity: hooks, seccomp, personality, the LSM labels, Intel RDT, and
 * the process's I/O priority, scheduler and CPU affinity.  Those that need
 * host support are refused, naming the field, on a host without it. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "spec.h"

static bool
file_has (const char *path, const char *prefix)
{
  cleanup_free char *text = NULL;
  if (rf_read_file_at (AT_FDCWD, path, 4096, &text, NULL, NULL) < 0)
    return false;
  return strncmp (text, prefix, strlen (prefix)) == 0;
}

bool
rf_apparmor_enabled_p (void)
{
  return file_has ("/sys/module/apparmor/parameters/enabled", "Y")
         && access ("/sys/kernel/security/apparmor", F_OK) == 0;
}

bool
rf_selinux_enabled_p (void)
{
  return access ("/sys/fs/selinux/enforce", F_OK) == 0;
}

static int
check_cpu_list (const char *where, const char *s, rf_error_t *err)
{
  if (s == NULL || *s == '\0' || strspn (s, "0123456789,-") != strlen (s))
    return rf_error_make (err, 0, "%s: `%s` is not a cpu list like 0-2,4", where, s ? s : "");
  return 0;
}

static int
parse_scheduler (json_t *sched, rf_process_t *p, rf_error_t *err)
{
  static const struct
  {
    const char *name;
    uint32_t policy;
  } policies[] = {
    { "SCHED_OTHER", SCHED_NORMAL }, { "SCHED_FIFO", SCHED_FIFO },   { "SCHED_RR", SCHED_RR },
    { "SCHED_BATCH", SCHED_BATCH },  { "SCHED_IDLE", SCHED_IDLE },   { "SCHED_DEADLINE", SCHED_DEADLINE },
  };
  static const struct
  {
    const char *name;
    uint64_t flag;
  } flags[] = {
    { "SCHED_FLAG_RESET_ON_FORK", SCHED_FLAG_RESET_ON_FORK },
    { "SCHED_FLAG_RECLAIM", SCHED_FLAG_RECLAIM },
    { "SCHED_FLAG_DL_OVERRUN", SCHED_FLAG_DL_OVERRUN },
    { "SCHED_FLAG_KEEP_POLICY", SCHED_FLAG_KEEP_POLICY },
    { "SCHED_FLAG_KEEP_PARAMS", SCHED_FLAG_KEEP_PARAMS },
    { "SCHED_FLAG_UTIL_CLAMP_MIN", SCHED_FLAG_UTIL_CLAMP_MIN },
    { "SCHED_FLAG_UTIL_CLAMP_MAX", SCHED_FLAG_UTIL_CLAMP_MAX },
  };
  const char *w = "process.scheduler";
  const char *policy = NULL;
  cleanup_strv char **names = NULL;
  int64_t nice = 0;
  size_t i;

  if (rf_json_get_string (sched, w, "policy", &policy, err) < 0
      || rf_json_get_int64 (sched, w, "nice", &nice, err) < 0
      || rf_json_get_uint32 (sched, w, "priority", &p->sched_priority, err) < 0
      || rf_json_get_uint64 (sched, w, "runtime", &p->sched_runtime, err) < 0
      || rf_json_get_uint64 (sched, w, "deadline", &p->sched_deadline, err) < 0
      || rf_json_get_uint64 (sched, w, "period", &p->sched_period, err) < 0
      || rf_json_get_strv (sched, w, "flags", &names, err) < 0)
    return -1;
  if (policy == NULL)
    return rf_error_make (err, 0, "%s.policy: missing", w);
  for (i = 0; i < ARRAY_SIZE (policies); i++)
    if (strcmp (policies[i].name, policy) == 0)
      break;
  if (i == ARRAY_SIZE (policies))
    return rf_error_make (err, 0, "%s.policy: unknown policy `%s`", w, policy);
  p->sched_policy = policies[i].policy;
  if (nice < -20 || nice > 19)
    return rf_error_make (err, 0, "%s.nice: %" PRId64 " is outside -20..19", w, nice);
  p->sched_nice = (int32_t) nice;
  for (size_t k = 0; names && names[k]; k++)
    {
      for (i = 0; i < ARRAY_SIZE (flags); i++)
        if (strcmp (flags[i].name, names[k]) == 0)
          break;
      if (i == ARRAY_SIZE (flags))
        return rf_error_make (err, 0, "%s.flags: unknown flag `%s`", w, names[k]);
      p->sched_flags |= flags[i].flag;
    }
  p->has_scheduler = true;
  return 0;
}

int
rf_process_parse_extra (json_t *proc, rf_process_t *p, rf_error_t *err)
{
  const char *s = NULL;
  json_t *obj = NULL;

  if (rf_json_get_string (proc, "process", "apparmorProfile", &s, err) < 0)
    return -1;
  if (s && *s)
    {
      if (!rf_apparmor_enabled_p ())
        return rf_error_make (err, 0, "process.apparmorProfile `%s`: AppArmor is not enabled on this host", s);
      p->apparmor_profile = xstrdup (s);
    }
  s = NULL;
  if (rf_json_get_string (proc, "process", "selinuxLabel", &s, err) < 0)
    return -1;
  if (s && *s)
    {
      if (!rf_selinux_enabled_p ())
        return rf_error_make (err, 0, "process.selinuxLabel `%s`: SELinux is not enabled on this host", s);
      p->selinux_label = xstrdup (s);
    }
  if (rf_json_get_object (proc, "process", "ioPriority", &obj, err) < 0)
    return -1;
  if (obj)
    {
      static const char *const classes[] = { "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE" };
      int64_t prio = 0;
      s = NULL;
      if (rf_json_get_string (obj, "process.ioPriority", "class", &s, err) < 0
          || rf_json_get_int64 (obj, "process.ioPriority", "priority", &prio, err) < 0)
        return -1;
      p->io_class = 0;
      for (int i = 0; i < 3; i++)
        if (s && strcmp (s, classes[i]) == 0)
          p->io_class = i + 1;
      if (p->io_class == 0)
        return rf_error_make (err, 0, "process.ioPriority.class: unknown class `%s`", s ? s : "");
      if (prio < 0 || prio > 7)
        return rf_error_make (err, 0, "process.ioPriority.priority: %" PRId64 " is outside 0..7", prio);
      p->io_priority = (int) prio;
      p->has_io_priority = true;
    }
  obj = NULL;
  if (rf_json_get_object (proc, "process", "scheduler", &obj, err) < 0)
    return -1;
  if (obj && parse_scheduler (obj, p, err) < 0)
    return -1;
  obj = NULL;
  if (rf_json_get_object (proc, "process", "execCPUAffinity", &obj, err) < 0)
    return -1;
  if (obj)
    {
      const char *initial = NULL, *final = NULL;
      if (rf_json_get_string (obj, "process.execCPUAffinity", "initial", &initial, err) < 0
          || rf_json_get_string (obj, "process.execCPUAffinity", "final", &final, err) < 0)
        return -1;
      if (initial && check_cpu_list ("process.execCPUAffinity.initial", initial, err) < 0)
        return -1;
      if (final && check_cpu_list ("process.execCPUAffinity.final", final, err) < 0)
        return -1;
      p->cpu_affinity_initial = initial ? xstrdup (initial) : NULL;
      p->cpu_affinity_final = final ? xstrdup (final) : NULL;
    }
  return 0;
}

static int
parse_personality (json_t *linux_, rf_spec_t *spec, rf_error_t *err)
{
  json_t *obj = NULL, *flags;
  const char *domain = NULL;

  if (rf_json_get_object (linux_, "linux", "personality", &obj, err) <= 0)
    return err && *err ? -1 : 0;
  if (rf_json_get_string (obj, "linux.personality", "domain", &domain, err) < 0)
    return -1;
  if (domain == NULL || strcmp (domain, "LINUX") == 0)
    spec->personality = PER_LINUX;
  else if (strcmp (domain, "LINUX32") == 0)
    spec->personality = PER_LINUX32;
  else
    return rf_error_make (err, 0, "linux.personality.domain: unknown domain `%s`", domain);
  flags = json_object_get (obj, "flags");
  if (flags && !(json_is_array (flags) && json_array_size (flags) == 0))
    return rf_error_make (err, 0, "linux.personality.flags: no flags are defined by the runtime spec");
  spec->has_personality = true;
  return 0;
}

static int
parse_intel_rdt (json_t *linux_, rf_spec_t *spec, rf_error_t *err)
{
  json_t *obj = NULL;
  const char *clos = NULL, *l3 = NULL, *mb = NULL;
  struct stat st;

  if (rf_json_get_object (linux_, "linux", "intelRdt", &obj, err) <= 0)
    return err && *err ? -1 : 0;
  if (rf_json_get_string (obj, "linux.intelRdt", "closID", &clos, err) < 0
      || rf_json_get_string (obj, "linux.intelRdt", "l3CacheSchema", &l3, err) < 0
      || rf_json_get_string (obj, "linux.intelRdt", "memBwSchema", &mb, err) < 0)
    return -1;
  if (json_object_get (obj, "schemata") || json_object_get (obj, "enableMonitoring"))
    return rf_error_make (err, 0, "linux.intelRdt: only closID, l3CacheSchema and memBwSchema are supported");
  if (stat ("/sys/fs/resctrl/schemata", &st) < 0)
    return rf_error_make (err, 0, "linux.intelRdt: resctrl is not mounted on this host (/sys/fs/resctrl)");
  if (clos && (*clos == '\0' || strchr (clos, '/') || strcmp (clos, ".") == 0 || strcmp (clos, "..") == 0))
    return rf_error_make (err, 0, "linux.intelRdt.closID: `%s` is not a group name", clos);
  spec->has_intel_rdt = true;
  spec->rdt_clos_id = clos ? xstrdup (clos) : NULL;
  spec->rdt_l3_schema = l3 ? xstrdup (l3) : NULL;
  spec->rdt_mem_bw_schema = mb ? xstrdup (mb) : NULL;
  return 0;
}

int
rf_spec_parse_extra (json_t *doc, rf_spec_t *spec, rf_error_t *err)
{
  json_t *linux_ = json_object_get (doc, "linux");
  const char *label = NULL;

  if (rf_hooks_parse (json_object_get (doc, "hooks"), &spec->hooks, err) < 0)
    return -1;
  if (!json_is_object (linux_))
    return 0;
  if (rf_seccomp_compile (json_object_get (linux_, "seccomp"), "linux.seccomp", &spec->seccomp, err) < 0
      || parse_personality (linux_, spec, err) < 0 || parse_intel_rdt (linux_, spec, err) < 0)
    return -1;
  if (rf_json_get_string (linux_, "linux", "mountLabel", &label, err) < 0)
    return -1;
  if (label && *label)
    {
      if (!rf_selinux_enabled_p ())
        return rf_error_make (err, 0, "linux.mountLabel `%s`: SELinux is not enabled on this host", label);
      spec->mount_label = xstrdup (label);
    }
  return 0;
}

void
rf_spec_free_extra (rf_spec_t *spec)
{
  rf_hooks_clear (&spec->hooks);
  rf_seccomp_clear (&spec->seccomp);
  free (spec->mount_label);
  free (spec->rdt_clos_id);
  free (spec->rdt_l3_schema);
  free (spec->rdt_mem_bw_schema);
}
