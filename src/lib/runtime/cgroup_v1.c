/* linux.resources on cgroup v1 (and on the v1 part of a hybrid host; what
 * only v2 has, hugetlb there and `unified`, goes to its v2 directory). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cgroup.h"
#include "common/cleanup.h"
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
  /* The period first: a quota is checked against the period in place. */
  if (r->cpu_period
      && rf_cgroup_writef (d->dir, "cpu.cfs_period_us", "linux.resources.cpu.period", err, "%" PRIu64,
                           r->cpu_period) < 0)
    return -1;
  if (r->cpu_quota != RF_UNSET
      && write_i64 (d->dir, "cpu.cfs_quota_us", r->cpu_quota, "linux.resources.cpu.quota", err) < 0)
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

static void
format_rule (char *buf, size_t size, const rf_device_rule_t *d)
{
  char major[24], minor[24];
  if (d->major < 0)
    strcpy (major, "*");
  else
    snprintf (major, sizeof major, "%" PRId64, d->major);
  if (d->minor < 0)
    strcpy (minor, "*");
  else
    snprintf (minor, sizeof minor, "%" PRId64, d->minor);
  if (d->type == 'a')
    snprintf (buf, size, "a");
  else
    snprintf (buf, size, "%c %s:%s %s", d->type, major, minor, d->access);
}

static int
apply_devices (const rf_cgroup_t *cg, const rf_resources_t *r, bool rootless, rf_error_t *err)
{
  const rf_cgroup_dir_t *d;
  if (!r->has_devices)
    return 0;
  d = rf_cgroup_find (cg, "devices");
  if (d == NULL)
    return 0; /* no device controller on this host: nothing to enforce with */
  for (size_t i = 0; i < r->n_devices; i++)
    {
      char rule[80];
      format_rule (rule, sizeof rule, &r->devices[i]);
      if (rf_cgroup_write (d->dir, r->devices[i].allow ? "devices.allow" : "devices.deny", rule,
                           "linux.resources.devices", err) < 0)
        {
          /* Only real root may change device rules in v1. */
          if (rootless && err && *err && (*err)->code == EPERM)
            {
              rf_error_free (err);
              return 0;
            }
          return -1;
        }
    }
  return 0;
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
