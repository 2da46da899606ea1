/* linux.resources on cgroup v1 (and on the v1 part of a hybrid host; what
 * only v2 has, hugetlb there and `unified`, goes to its v2 directory). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"

static const rf_cgroup_dir_t *
need (const rf_cgroup_t *cg, const char *controller, const char *field, rf_error_t *err)
{
  const rf_cgroup_dir_t *d = rf_cgroup_find (cg, controller);
  if (d == NULL)
    rf_error_make (err, 0, "%s: this host has no %s cgroup controller", field, controller);
  return d;
}

static int
write_i64 (const char *dir, const char *file, int64_t v, const char *field, rf_error_t *err)
{
  return rf_cgroup_writef (dir, file, field, err, "%" PRId64, v);
}

static int
apply_memory (const rf_cgroup_t *cg, const rf_resources_t *r, rf_error_t *err)
{
  const char *f = "linux.resources.memory";
  const rf_cgroup_dir_t *d;

  if (r->mem_limit == RF_UNSET && r->mem_reservation == RF_UNSET && r->mem_swap == RF_UNSET
      && r->mem_swappiness == RF_UNSET && !r->has_disable_oom_killer)
    return 0;
  if ((d = need (cg, "memory", f, err)) == NULL)
    return -1;
  if (r->mem_swap != RF_UNSET && !rf_cgroup_has_file (d->dir, "memory.memsw.limit_in_bytes"))
    return rf_error_make (err, 0, "%s.swap: swap accounting is off on this host", f);
  if (r->mem_limit != RF_UNSET && r->mem_swap != RF_UNSET)
    {
      /* The kernel keeps limit <= memsw at every step: which goes first
         depends on whether the values grow or shrink. */
      if (write_i64 (d->dir, "memory.limit_in_bytes", r->mem_limit, f, NULL) == 0)
        {
          if (write_i64 (d->dir, "memory.memsw.limit_in_bytes", r->mem_swap, f, err) < 0)
            return -1;
        }
      else if (write_i64 (d->dir, "memory.memsw.limit_in_bytes", r->mem_swap, f, err) < 0
               || write_i64 (d->dir, "memory.limit_in_bytes", r->mem_limit, f, err) < 0)
        return -1;
    }
  else if (r->mem_limit != RF_UNSET)
    {
      if (write_i64 (d->dir, "memory.limit_in_bytes", r->mem_limit, "linux.resources.memory.limit", err) < 0)
        return -1;
    }
  else if (r->mem_swap != RF_UNSET
           && write_i64 (d->dir, "memory.memsw.limit_in_bytes", r->mem_swap, "linux.resources.memory.swap", err) < 0)
    return -1;
  if (r->mem_reservation != RF_UNSET
      && write_i64 (d->dir, "memory.soft_limit_in_bytes", r->mem_reservation,
                    "linux.resources.memory.reservation", err) < 0)
    return -1;
  if (r->mem_swappiness != RF_UNSET
      && write_i64 (d->dir, "memory.swappiness", r->mem_swappiness, "linux.resources.memory.swappiness", err) < 0)
    return -1;
  if (r->has_disable_oom_killer
      && rf_cgroup_write (d->dir, "memory.oom_control", r->disable_oom_killer ? "1" : "0",
                          "linux.resources.memory.disableOOMKiller", err) < 0)
    return -1;
  return 0;
}

static int
apply_cpu (const rf_cgroup_t *cg, const rf_resources_t *r, rf_error_t *err)
{
  const rf_cgroup_dir_t *d;
  bool period_pending = false;

  if (r->cpus || r->mems)
    {
      if ((d = need (cg, "cpuset", "linux.resources.cpu.cpus", err)) == NULL)
        return -1;
      if (r->cpus && rf_cgroup_write (d->dir, "cpuset.cpus", r->cpus, "linux.resources.cpu.cpus", err) < 0)
        return -1;
      if (r->mems && rf_cgroup_write (d->dir, "cpuset.mems", r->mems, "linux.resources.cpu.mems", err) < 0)
        return -1;
    }
  if (!r->cpu_shares && r->cpu_quota == RF_UNSET && !r->cpu_period && r->cpu_burst == RF_UNSET
      && r->cpu_rt_runtime == RF_UNSET && !r->cpu_rt_period && r->cpu_idle == RF_UNSET)
    return 0;
  if ((d = need (cg, "cpu", "linux.resources.cpu", err)) == NULL)
    return -1;
  if (r->cpu_shares
      && rf_cgroup_writef (d->dir, "cpu.shares", "linux.resources.cpu.shares", err, "%" PRIu64, r->cpu_shares) < 0)
    return -1;
  /* The period first: a quota is checked against the period in place.
     Below a parent that limits its children (a pod's cgroup), a shorter
     period is refused while the old quota stays (old quota / new period
     above the parent's): then it goes in after the new quota, as runc
     does. */
  if (r->cpu_period)
    {
      rf_error_t refused = NULL;
      if (rf_cgroup_writef (d->dir, "cpu.cfs_period_us", "linux.resources.cpu.period", &refused, "%" PRIu64,
                            r->cpu_period) == 0)
        period_pending = false;
      else if (refused->code == EINVAL && r->cpu_quota != RF_UNSET)
        period_pending = true;
      else
        {
          if (err && *err == NULL)
            *err = steal_pointer (&refused);
          rf_error_free (&refused);
          return -1;
        }
      rf_error_free (&refused);
    }
  if (r->cpu_quota != RF_UNSET
      && write_i64 (d->dir, "cpu.cfs_quota_us", r->cpu_quota, "linux.resources.cpu.quota", err) < 0)
    return -1;
  if (period_pending
      && rf_cgroup_writef (d->dir, "cpu.cfs_period_us", "linux.resources.cpu.period", err, "%" PRIu64,
                           r->cpu_period) < 0)
    return -1;
  if (r->cpu_burst != RF_UNSET
      && write_i64 (d->dir, "cpu.cfs_burst_us", r->cpu_burst, "linux.resources.cpu.burst", err) < 0)
    return -1;
  if (r->cpu_rt_period
      && rf_cgroup_writef (d->dir, "cpu.rt_period_us", "linux.resources.cpu.realtimePeriod", err,
                           "%" PRIu64, r->cpu_rt_period) < 0)
    return -1;
  if (r->cpu_rt_runtime != RF_UNSET
      && write_i64 (d->dir, "cpu.rt_runtime_us", r->cpu_rt_runtime, "linux.resources.cpu.realtimeRuntime", err) < 0)
    return -1;
  if (r->cpu_idle != RF_UNSET
      && write_i64 (d->dir, "cpu.idle", r->cpu_idle, "linux.resources.cpu.idle", err) < 0)
    return -1;
  return 0;
}

static int
apply_blkio (const rf_cgroup_t *cg, const rf_resources_t *r, rf_error_t *err)
{
  static const char *const throttle_files[4] = {
    "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
    "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device",
  };
  const char *f = "linux.resources.blockIO";
  const rf_cgroup_dir_t *d;
  const char *weight_file;

  if (!r->has_blkio_weight && !r->has_blkio_leaf_weight && !r->n_weight_devices && !r->n_throttle[0]
      && !r->n_throttle[1] && !r->n_throttle[2] && !r->n_throttle[3])
    return 0;
  if ((d = need (cg, "blkio", f, err)) == NULL)
    return -1;
  /* CFQ had blkio.weight; with BFQ the same knob is blkio.bfq.weight. */
  weight_file = rf_cgroup_has_file (d->dir, "blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
  if (r->has_blkio_weight
      && rf_cgroup_writef (d->dir, weight_file, "linux.resources.blockIO.weight", err, "%u",
                           r->blkio_weight) < 0)
    return -1;
  if (r->has_blkio_leaf_weight
      && rf_cgroup_writef (d->dir, "blkio.leaf_weight", "linux.resources.blockIO.leafWeight", err, "%u",
                           r->blkio_leaf_weight) < 0)
    return -1;
  for (size_t i = 0; i < r->n_weight_devices; i++)
    {
      const rf_blkio_device_t *w = &r->weight_devices[i];
      if (w->has_weight
          && rf_cgroup_writef (d->dir, rf_cgroup_has_file (d->dir, "blkio.weight_device")
                                           ? "blkio.weight_device" : "blkio.bfq.weight_device",
                               "linux.resources.blockIO.weightDevice", err,
                               "%" PRId64 ":%" PRId64 " %u", w->major, w->minor, w->weight) < 0)
        return -1;
      if (w->has_leaf_weight
          && rf_cgroup_writef (d->dir, "blkio.leaf_weight_device", "linux.resources.blockIO.weightDevice",
                               err, "%" PRId64 ":%" PRId64 " %u", w->major, w->minor, w->leaf_weight) < 0)
        return -1;
    }
  for (int t = 0; t < 4; t++)
    for (size_t i = 0; i < r->n_throttle[t]; i++)
      if (rf_cgroup_writef (d->dir, throttle_files[t], f, err, "%" PRId64 ":%" PRId64 " %" PRIu64,
                            r->throttle[t][i].major, r->throttle[t][i].minor, r->throttle[t][i].rate) < 0)
        return -1;
  return 0;
}

static int
apply_hugetlb (const rf_cgroup_t *cg, const rf_resources_t *r, rf_error_t *err)
{
  const rf_cgroup_dir_t *d;
  if (r->n_hugepages == 0)
    return 0;
  if ((d = need (cg, "hugetlb", "linux.resources.hugepageLimits", err)) == NULL)
    return -1;
  for (size_t i = 0; i < r->n_hugepages; i++)
    {
      cleanup_free char *file = xasprintf (d->v2 ? "hugetlb.%s.max" : "hugetlb.%s.limit_in_bytes",
                                           r->hugepages[i].page_size);
      if (rf_cgroup_writef (d->dir, file, "linux.resources.hugepageLimits", err, "%" PRIu64,
                            r->hugepages[i].limit) < 0)
        return -1;
    }
  return 0;
}

static int
apply_network (const rf_cgroup_t *cg, const rf_resources_t *r, rf_error_t *err)
{
  const rf_cgroup_dir_t *d;
  if (r->has_net_class_id)
    {
      if ((d = need (cg, "net_cls", "linux.resources.network.classID", err)) == NULL
          || rf_cgroup_writef (d->dir, "net_cls.classid", "linux.resources.network.classID", err, "%u",
                               r->net_class_id) < 0)
        return -1;
    }
  for (size_t i = 0; r->net_priorities && r->net_priorities[i]; i += 2)
    {
      if ((d = need (cg, "net_prio", "linux.resources.network.priorities", err)) == NULL
          || rf_cgroup_writef (d->dir, "net_prio.ifpriomap", "linux.resources.network.priorities", err,
                               "%s %s", r->net_priorities[i], r->net_priorities[i + 1]) < 0)
        return -1;
    }
  return 0;
}

/* v1's device controller, as the kernel keeps it: a default (allow or deny
   everything) and exceptions to it, each a type, major:minor (-1: any) and
   access bits (r 1, w 2, m 4), matched exactly when rules are added or
   removed.  runf computes the state a list of rules leads to, and what to
   write to get there from the state a cgroup is in, so that an update
   never passes through "deny everything" (a process writing /dev/null at
   that moment would see EPERM). */
typedef struct
{
  char type;
  int64_t major, minor;
  unsigned access;
} dev_exception_t;

typedef struct
{
  bool allow_all;
  dev_exception_t *exc;
  size_t n;
} dev_state_t;

static unsigned
access_bits (const char *a)
{
  unsigned bits = 0;
  for (; *a; a++)
    bits |= *a == 'r' ? 1 : *a == 'w' ? 2 : *a == 'm' ? 4 : 0;
  return bits;
}

static dev_exception_t *
find_exception (dev_state_t *st, char type, int64_t major, int64_t minor)
{
  for (size_t i = 0; i < st->n; i++)
    if (st->exc[i].type == type && st->exc[i].major == major && st->exc[i].minor == minor)
      return &st->exc[i];
  return NULL;
}

static void
add_access (dev_state_t *st, char type, int64_t major, int64_t minor, unsigned bits)
{
  dev_exception_t *e = find_exception (st, type, major, minor);
  if (e == NULL)
    {
      st->exc = xrealloc (st->exc, (st->n + 1) * sizeof *st->exc);
      e = &st->exc[st->n++];
      *e = (dev_exception_t){ type, major, minor, 0 };
    }
  e->access |= bits;
}

static void
remove_access (dev_state_t *st, char type, int64_t major, int64_t minor, unsigned bits)
{
  dev_exception_t *e = find_exception (st, type, major, minor);
  if (e == NULL)
    return;
  e->access &= ~bits;
  if (e->access == 0)
    *e = st->exc[--st->n];
}

/* A rule written to devices.allow (allow) or devices.deny, as the kernel
   applies it. */
static void
apply_rule (dev_state_t *st, const rf_device_rule_t *r)
{
  unsigned bits = access_bits (r->access);
  if (r->type == 'a')
    {
      st->allow_all = r->allow;
      st->n = 0;
    }
  else if (r->allow == st->allow_all)
    remove_access (st, r->type, r->major, r->minor, bits);
  else
    add_access (st, r->type, r->major, r->minor, bits);
}

static int64_t
parse_id (const char *s)
{
  return strcmp (s, "*") == 0 ? -1 : strtoll (s, NULL, 10);
}

/* devices.list: "a *:* rwm" for the default allow (its deny exceptions are
   not shown; runf never makes any), else the allowed exceptions. */
static int
read_state (const char *dir, dev_state_t *st, rf_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/devices.list", dir);
  cleanup_free char *text = NULL;
  char *save = NULL;

  memset (st, 0, sizeof *st);
  if (rf_read_file_at (AT_FDCWD, path, 0, &text, NULL, err) < 0)
    return -1;
  for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char type, major[24], minor[24], access[8];
      if (sscanf (line, "%c %23[^:]:%23s %7s", &type, major, minor, access) != 4)
        continue;
      if (type == 'a')
        {
          st->allow_all = true;
          st->n = 0;
          return 0;
        }
      add_access (st, type, parse_id (major), parse_id (minor), access_bits (access));
    }
  return 0;
}

static void
format_rule (char *buf, size_t size, char type, int64_t major_id, int64_t minor_id, unsigned bits)
{
  char major[24], minor[24], access[4];
  size_t k = 0;
  if (major_id < 0)
    strcpy (major, "*");
  else
    snprintf (major, sizeof major, "%" PRId64, major_id);
  if (minor_id < 0)
    strcpy (minor, "*");
  else
    snprintf (minor, sizeof minor, "%" PRId64, minor_id);
  if (bits & 1)
    access[k++] = 'r';
  if (bits & 2)
    access[k++] = 'w';
  if (bits & 4)
    access[k++] = 'm';
  access[k] = '\0';
  if (type == 'a')
    snprintf (buf, size, "a");
  else
    snprintf (buf, size, "%c %s:%s %s", type, major, minor, access);
}

static int
write_rule (const char *dir, bool allow, char type, int64_t major, int64_t minor, unsigned bits,
            rf_error_t *err)
{
  char rule[80];
  format_rule (rule, sizeof rule, type, major, minor, bits);
  return rf_cgroup_write (dir, allow ? "devices.allow" : "devices.deny", rule, "linux.resources.devices", err);
}

static unsigned
access_of (dev_state_t *st, const dev_exception_t *e)
{
  dev_exception_t *found = find_exception (st, e->type, e->major, e->minor);
  return found ? found->access : 0;
}

/* The writes that take the cgroup from `from` to `to`.  Between two
   lists of allowed devices, what is added comes first and what is taken
   away after, each write only what differs. */
static int
transition (const char *dir, dev_state_t *from, dev_state_t *to, rf_error_t *err)
{
  /* A default that changes, or an allow-all target (whose deny exceptions
     devices.list does not show, so what is there is not known): the whole
     list again.  Towards allow-all that never denies what stays allowed. */
  if (to->allow_all != from->allow_all || to->allow_all)
    {
      if (write_rule (dir, to->allow_all, 'a', -1, -1, 7, err) < 0)
        return -1;
      for (size_t i = 0; i < to->n; i++)
        if (write_rule (dir, !to->allow_all, to->exc[i].type, to->exc[i].major, to->exc[i].minor,
                        to->exc[i].access, err) < 0)
          return -1;
      return 0;
    }
  /* Same default: the exceptions differ by what one has and not the other. */
  for (size_t i = 0; i < to->n; i++)
    {
      unsigned more = to->exc[i].access & ~access_of (from, &to->exc[i]);
      if (more && write_rule (dir, !to->allow_all, to->exc[i].type, to->exc[i].major, to->exc[i].minor, more, err) < 0)
        return -1;
    }
  for (size_t i = 0; i < from->n; i++)
    {
      unsigned less = from->exc[i].access & ~access_of (to, &from->exc[i]);
      if (less && write_rule (dir, to->allow_all, from->exc[i].type, from->exc[i].major, from->exc[i].minor, less, err) < 0)
        return -1;
    }
  return 0;
}

static int
apply_devices (const rf_cgroup_t *cg, const rf_resources_t *r, bool rootless, rf_error_t *err)
{
  const rf_cgroup_dir_t *d;
  dev_state_t from, to = { .allow_all = true };
  int ret;

  if (!r->has_devices)
    return 0;
  d = rf_cgroup_find (cg, "devices");
  if (d == NULL)
    return 0; /* no device controller on this host: nothing to enforce with */
  if (read_state (d->dir, &from, err) < 0)
    return -1;
  for (size_t i = 0; i < r->n_devices; i++)
    apply_rule (&to, &r->devices[i]);
  ret = transition (d->dir, &from, &to, err);
  free (from.exc);
  free (to.exc);
  /* Only real root may change device rules in v1. */
  if (ret < 0 && rootless && err && *err && (*err)->code == EPERM)
    {
      rf_error_free (err);
      return 0;
    }
  return ret;
}

static int
apply_unified (const rf_cgroup_t *cg, const rf_resources_t *r, rf_error_t *err)
{
  const rf_cgroup_dir_t *v2 = NULL;
  if (r->unified == NULL)
    return 0;
  for (size_t i = 0; i < cg->n; i++)
    if (cg->dirs[i].v2)
      v2 = &cg->dirs[i];
  if (v2 == NULL)
    return rf_error_make (err, 0, "linux.resources.unified: this host has no cgroup v2 hierarchy");
  for (size_t i = 0; r->unified[i]; i += 2)
    {
      cleanup_free char *field = xasprintf ("linux.resources.unified.%s", r->unified[i]);
      if (rf_cgroup_write (v2->dir, r->unified[i], r->unified[i + 1], field, err) < 0)
        return -1;
    }
  return 0;
}

static int
v1_apply (const rf_cgroup_t *cg, const rf_resources_t *r, bool rootless, rf_error_t *err)
{
  if (apply_memory (cg, r, err) < 0 || apply_cpu (cg, r, err) < 0)
    return -1;
  if (r->pids_limit != RF_UNSET)
    {
      const rf_cgroup_dir_t *d = need (cg, "pids", "linux.resources.pids", err);
      if (d == NULL)
        return -1;
      if (r->pids_limit < 0 ? rf_cgroup_write (d->dir, "pids.max", "max", "linux.resources.pids.limit", err)
                            : write_i64 (d->dir, "pids.max", r->pids_limit, "linux.resources.pids.limit", err))
        return -1;
    }
  if (apply_blkio (cg, r, err) < 0 || apply_hugetlb (cg, r, err) < 0
      || apply_network (cg, r, err) < 0 || apply_devices (cg, r, rootless, err) < 0
      || apply_unified (cg, r, err) < 0)
    return -1;
  return 0;
}

const rf_cgroup_ops_t rf_cgroup_v1_ops = { .apply = v1_apply };
