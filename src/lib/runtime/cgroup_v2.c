/* linux.resources on a pure cgroup v2 host.  The v1-style values of the
 * spec are converted as runc and crun do (docs/cgroups.md):
 *   cpu.shares → cpu.weight  1 + (shares - 2) * 9999 / 262142
 *   quota/period → cpu.max  "QUOTA PERIOD", "max PERIOD" for -1
 *   memory.swap (memory + swap) → memory.swap.max = swap - limit
 *   memory.reservation → memory.low
 *   blockIO.weight → io.weight  1 + (weight - 10) * 9999 / 990
 *   throttles → io.max  "MAJ:MIN rbps=N" (wbps, riops, wiops)
 *   devices → a BPF_CGROUP_DEVICE program
 * What v2 has no equivalent for (swappiness, disableOOMKiller, realtime,
 * leaf weights, network classes) is an error naming the field. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cgroup.h"
#include "common/cleanup.h"

static int
no_equivalent (const char *field, rf_error_t *err)
{
  return rf_error_make (err, 0, "%s: cgroup v2 has no equivalent", field);
}

static int
apply_memory (const char *dir, const rf_resources_t *r, rf_error_t *err)
{
  if (r->mem_swappiness != RF_UNSET)
    return no_equivalent ("linux.resources.memory.swappiness", err);
  if (r->has_disable_oom_killer && r->disable_oom_killer)
    return no_equivalent ("linux.resources.memory.disableOOMKiller", err);
  if (r->mem_limit != RF_UNSET)
    {
      if (r->mem_limit < 0 ? rf_cgroup_write (dir, "memory.max", "max", "linux.resources.memory.limit", err)
                           : rf_cgroup_writef (dir, "memory.max", "linux.resources.memory.limit", err,
                                               "%" PRId64, r->mem_limit))
        return -1;
    }
  if (r->mem_swap != RF_UNSET)
    {
      int ret;
      if (r->mem_swap < 0)
        ret = rf_cgroup_write (dir, "memory.swap.max", "max", "linux.resources.memory.swap", err);
      else if (r->mem_limit <= 0)
        return rf_error_make (err, 0,
                              "linux.resources.memory.swap: on cgroup v2 a swap limit needs a memory limit");
      else
        ret = rf_cgroup_writef (dir, "memory.swap.max", "linux.resources.memory.swap", err, "%" PRId64,
                                r->mem_swap - r->mem_limit);
      if (ret < 0)
        return -1;
    }
  if (r->mem_reservation != RF_UNSET
      && (r->mem_reservation < 0
              ? rf_cgroup_write (dir, "memory.low", "max", "linux.resources.memory.reservation", err)
              : rf_cgroup_writef (dir, "memory.low", "linux.resources.memory.reservation", err, "%" PRId64,
                                  r->mem_reservation)))
    return -1;
  return 0;
}

static int
apply_cpu (const char *dir, const rf_resources_t *r, rf_error_t *err)
{
  if (r->cpu_rt_runtime != RF_UNSET || r->cpu_rt_period)
    return no_equivalent ("linux.resources.cpu.realtimeRuntime", err);
  if (r->cpu_shares
      && rf_cgroup_writef (dir, "cpu.weight", "linux.resources.cpu.shares", err, "%" PRIu64,
                           rf_cpu_shares_to_weight (r->cpu_shares)) < 0)
    return -1;
  if (r->cpu_quota != RF_UNSET || r->cpu_period)
    {
      uint64_t period = r->cpu_period ? r->cpu_period : 100000;
      int ret = (r->cpu_quota == RF_UNSET || r->cpu_quota < 0)
                    ? rf_cgroup_writef (dir, "cpu.max", "linux.resources.cpu.quota", err, "max %" PRIu64, period)
                    : rf_cgroup_writef (dir, "cpu.max", "linux.resources.cpu.quota", err, "%" PRId64 " %" PRIu64,
                                        r->cpu_quota, period);
      if (ret < 0)
        return -1;
    }
  if (r->cpu_burst != RF_UNSET
      && rf_cgroup_writef (dir, "cpu.max.burst", "linux.resources.cpu.burst", err, "%" PRId64, r->cpu_burst) < 0)
    return -1;
  if (r->cpu_idle != RF_UNSET
      && rf_cgroup_writef (dir, "cpu.idle", "linux.resources.cpu.idle", err, "%" PRId64, r->cpu_idle) < 0)
    return -1;
  if (r->cpus && rf_cgroup_write (dir, "cpuset.cpus", r->cpus, "linux.resources.cpu.cpus", err) < 0)
    return -1;
  if (r->mems && rf_cgroup_write (dir, "cpuset.mems", r->mems, "linux.resources.cpu.mems", err) < 0)
    return -1;
  return 0;
}

static int
apply_io (const char *dir, const rf_resources_t *r, rf_error_t *err)
{
  static const char *const keys[4] = { "rbps", "wbps", "riops", "wiops" };
  if (r->has_blkio_leaf_weight)
    return no_equivalent ("linux.resources.blockIO.leafWeight", err);
  if (r->has_blkio_weight)
    {
      const char *file = rf_cgroup_has_file (dir, "io.bfq.weight") ? "io.bfq.weight" : "io.weight";
      uint64_t w = strcmp (file, "io.bfq.weight") == 0 ? r->blkio_weight
                                                       : rf_blkio_weight_to_io_weight (r->blkio_weight);
      if (rf_cgroup_writef (dir, file, "linux.resources.blockIO.weight", err, "default %" PRIu64, w) < 0)
        return -1;
    }
  for (size_t i = 0; i < r->n_weight_devices; i++)
    {
      const rf_blkio_device_t *d = &r->weight_devices[i];
      if (d->has_leaf_weight)
        return no_equivalent ("linux.resources.blockIO.weightDevice.leafWeight", err);
      if (d->has_weight
          && rf_cgroup_writef (dir, "io.weight", "linux.resources.blockIO.weightDevice", err,
                               "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
                               rf_blkio_weight_to_io_weight (d->weight)) < 0)
        return -1;
    }
  for (int t = 0; t < 4; t++)
    for (size_t i = 0; i < r->n_throttle[t]; i++)
      if (rf_cgroup_writef (dir, "io.max", "linux.resources.blockIO", err, "%" PRId64 ":%" PRId64 " %s=%" PRIu64,
                            r->throttle[t][i].major, r->throttle[t][i].minor, keys[t],
                            r->throttle[t][i].rate) < 0)
        return -1;
  return 0;
}

static int
v2_apply (const rf_cgroup_t *cg, const rf_resources_t *r, bool rootless, rf_error_t *err)
{
  const char *dir = rf_cgroup_v2_dir (cg);
  if (dir == NULL)
    return rf_error_make (err, 0, "linux.resources: the container has no cgroup v2 directory");
  if (apply_memory (dir, r, err) < 0 || apply_cpu (dir, r, err) < 0 || apply_io (dir, r, err) < 0)
    return -1;
  if (r->pids_limit != RF_UNSET
      && (r->pids_limit < 0 ? rf_cgroup_write (dir, "pids.max", "max", "linux.resources.pids.limit", err)
                            : rf_cgroup_writef (dir, "pids.max", "linux.resources.pids.limit", err, "%" PRId64,
                                                r->pids_limit)))
    return -1;
  for (size_t i = 0; i < r->n_hugepages; i++)
    {
      cleanup_free char *file = xasprintf ("hugetlb.%s.max", r->hugepages[i].page_size);
      if (rf_cgroup_writef (dir, file, "linux.resources.hugepageLimits", err, "%" PRIu64,
                            r->hugepages[i].limit) < 0)
        return -1;
    }
  if (r->has_net_class_id)
    return no_equivalent ("linux.resources.network.classID", err);
  if (r->net_priorities)
    return no_equivalent ("linux.resources.network.priorities", err);
  for (size_t i = 0; r->unified && r->unified[i]; i += 2)
    {
      cleanup_free char *field = xasprintf ("linux.resources.unified.%s", r->unified[i]);
      if (rf_cgroup_write (dir, r->unified[i], r->unified[i + 1], field, err) < 0)
        return -1;
    }
  /* Device programs need CAP_SYS_ADMIN in the host's user namespace; a
     rootless container has none, and no device it could open anyway. */
  if (r->has_devices && !rootless && rf_cgroup_bpf_devices (dir, r->devices, r->n_devices, err) < 0)
    return -1;
  return 0;
}

const rf_cgroup_ops_t rf_cgroup_v2_ops = { .apply = v2_apply };
