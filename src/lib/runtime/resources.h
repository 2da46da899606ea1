/* linux.resources of config.json (and of `runf update -r`): parsed and
 * checked once, then written to cgroup v1 or v2 files by cgroup_v1.c and
 * cgroup_v2.c. */
#ifndef RF_RESOURCES_H
#define RF_RESOURCES_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"

typedef struct
{
  int64_t major, minor; /* -1: any */
  char type;            /* 'a', 'c', 'b' */
  bool allow;
  char access[4];       /* a subset of "rwm" */
} rf_device_rule_t;

typedef struct
{
  int64_t major, minor;
  bool has_weight, has_leaf_weight;
  uint16_t weight, leaf_weight;
  uint64_t rate; /* throttles */
} rf_blkio_device_t;

typedef struct
{
  char *page_size; /* "2MB" */
  uint64_t limit;
} rf_hugepage_limit_t;

#define RF_UNSET INT64_MIN

typedef struct
{
  /* memory: bytes; -1 unlimited; RF_UNSET when not given */
  int64_t mem_limit, mem_reservation, mem_swap;
  int64_t mem_swappiness; /* 0..100 */
  bool has_disable_oom_killer, disable_oom_killer;

  /* cpu */
  uint64_t cpu_shares;  /* 0: unset */
  int64_t cpu_quota;    /* RF_UNSET, -1 = max */
  uint64_t cpu_period;  /* 0: unset */
  int64_t cpu_burst;    /* RF_UNSET */
  int64_t cpu_rt_runtime;
  uint64_t cpu_rt_period;
  int64_t cpu_idle;     /* RF_UNSET */
  char *cpus, *mems;

  int64_t pids_limit; /* RF_UNSET; -1 = max */

  bool has_blkio_weight, has_blkio_leaf_weight;
  uint16_t blkio_weight, blkio_leaf_weight;
  rf_blkio_device_t *weight_devices;
  size_t n_weight_devices;
  rf_blkio_device_t *throttle[4]; /* read bps, write bps, read iops, write iops */
  size_t n_throttle[4];

  rf_hugepage_limit_t *hugepages;
  size_t n_hugepages;

  bool has_net_class_id;
  uint32_t net_class_id;
  char **net_priorities; /* iface, prio, ..., NULL */

  rf_device_rule_t *devices;
  size_t n_devices;
  bool has_devices;

  char **unified; /* key, value, ..., NULL */
} rf_resources_t;

/* Parse the object at `where` ("linux.resources"); an absent one gives an
   empty rf_resources_t.  Negative limits, out-of-range values and unknown
   device types are errors naming the field. */
int rf_resources_parse (json_t *obj, const char *where, rf_resources_t *res, rf_error_t *err);
void rf_resources_init (rf_resources_t *res);
void rf_resources_clear (rf_resources_t *res);
/* Whether anything at all is asked for (a rootless container that cannot
   use cgroups warns only then). */
bool rf_resources_any_p (const rf_resources_t *res);

/* The v1-to-v2 conversions runc and crun use, documented in docs/cgroups.md. */
uint64_t rf_cpu_shares_to_weight (uint64_t shares);
uint64_t rf_blkio_weight_to_io_weight (uint64_t weight);

#endif
