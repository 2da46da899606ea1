#include "resources.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "common/log.h"

void
rf_resources_init (rf_resources_t *res)
{
  memset (res, 0, sizeof *res);
  res->mem_limit = res->mem_reservation = res->mem_swap = RF_UNSET;
  res->mem_swappiness = RF_UNSET;
  res->cpu_quota = res->cpu_burst = res->cpu_rt_runtime = res->cpu_idle = RF_UNSET;
  res->pids_limit = RF_UNSET;
}

void
rf_resources_clear (rf_resources_t *res)
{
  free (res->cpus);
  free (res->mems);
  free (res->weight_devices);
  for (int i = 0; i < 4; i++)
    free (res->throttle[i]);
  for (size_t i = 0; i < res->n_hugepages; i++)
    free (res->hugepages[i].page_size);
  free (res->hugepages);
  strv_free (res->net_priorities);
  free (res->devices);
  strv_free (res->unified);
  rf_resources_init (res);
}

bool
rf_resources_any_p (const rf_resources_t *r)
{
  return r->mem_limit != RF_UNSET || r->mem_reservation != RF_UNSET || r->mem_swap != RF_UNSET
         || r->mem_swappiness != RF_UNSET || r->has_disable_oom_killer || r->cpu_shares
         || r->cpu_quota != RF_UNSET || r->cpu_period || r->cpu_burst != RF_UNSET
         || r->cpu_rt_runtime != RF_UNSET || r->cpu_rt_period || r->cpu_idle != RF_UNSET
         || r->cpus || r->mems || r->pids_limit != RF_UNSET || r->has_blkio_weight
         || r->has_blkio_leaf_weight || r->n_weight_devices || r->n_throttle[0] || r->n_throttle[1]
         || r->n_throttle[2] || r->n_throttle[3] || r->n_hugepages || r->has_net_class_id
         || r->net_priorities || r->n_devices || r->unified;
}

uint64_t
rf_cpu_shares_to_weight (uint64_t shares)
{
  /* cpu.shares 2..262144 onto cpu.weight 1..10000, linearly (as runc). */
  if (shares == 0)
    return 0;
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t
rf_blkio_weight_to_io_weight (uint64_t weight)
{
  /* blkio.weight 10..1000 onto io.weight 1..10000. */
  if (weight == 0)
    return 0;
  if (weight < 10)
    weight = 10;
  if (weight > 1000)
    weight = 1000;
  return 1 + (weight - 10) * 9999 / 990;
}

/* An int64 that may be -1 (unlimited) but no other negative. */
static int
get_limit (json_t *obj, const char *where, const char *key, int64_t *out, rf_error_t *err)
{
  int64_t v;
  int r = rf_json_get_int64 (obj, where, key, &v, err);
  if (r <= 0)
    return r;
  if (v < -1)
    return rf_error_make (err, 0, "%s.%s: %" PRId64 " is negative (only -1, unlimited, is allowed)",
                          where, key, v);
  *out = v;
  return 1;
}

static int
parse_memory (json_t *res, rf_resources_t *r, rf_error_t *err)
{
  const char *w = "linux.resources.memory";
  json_t *mem = NULL;
  int64_t v;

  if (rf_json_get_object (res, "linux.resources", "memory", &mem, err) <= 0)
    return err && *err ? -1 : 0;
  if (get_limit (mem, w, "limit", &r->mem_limit, err) < 0
      || get_limit (mem, w, "reservation", &r->mem_reservation, err) < 0
      || get_limit (mem, w, "swap", &r->mem_swap, err) < 0)
    return -1;
  if (rf_json_get_int64 (mem, w, "swappiness", &v, err) < 0)
    return -1;
  if (json_object_get (mem, "swappiness"))
    {
      /* runc's spec uses uint64 and some engines send -1 for "unset". */
      if (v > 100)
        return rf_error_make (err, 0, "%s.swappiness: %" PRId64 " is above 100", w, v);
      if (v >= 0)
        r->mem_swappiness = v;
    }
  if (rf_json_get_bool (mem, w, "disableOOMKiller", &r->disable_oom_killer, err) < 0)
    return -1;
  r->has_disable_oom_killer = json_object_get (mem, "disableOOMKiller") != NULL;
  if (r->mem_limit > 0 && r->mem_swap > 0 && r->mem_swap < r->mem_limit)
    return rf_error_make (err, 0, "%s.swap: %" PRId64 " is below the limit %" PRId64
                          " (swap counts memory plus swap)", w, r->mem_swap, r->mem_limit);
  if (r->mem_limit == 0)
    r->mem_limit = RF_UNSET; /* 0 means "not set" in the spec's Go types */
  if (json_object_get (mem, "kernel") || json_object_get (mem, "kernelTCP"))
    rf_warn ("%s.kernel: kernel memory limits are gone from Linux; not applied", w);
  return 0;
}

static int
parse_cpu (json_t *res, rf_resources_t *r, rf_error_t *err)
{
  const char *w = "linux.resources.cpu";
  json_t *cpu = NULL;
  const char *s;

  if (rf_json_get_object (res, "linux.resources", "cpu", &cpu, err) <= 0)
    return err && *err ? -1 : 0;
  if (rf_json_get_uint64 (cpu, w, "shares", &r->cpu_shares, err) < 0
      || get_limit (cpu, w, "quota", &r->cpu_quota, err) < 0
      || rf_json_get_uint64 (cpu, w, "period", &r->cpu_period, err) < 0
      || get_limit (cpu, w, "burst", &r->cpu_burst, err) < 0
      || get_limit (cpu, w, "realtimeRuntime", &r->cpu_rt_runtime, err) < 0
      || rf_json_get_uint64 (cpu, w, "realtimePeriod", &r->cpu_rt_period, err) < 0
      || rf_json_get_int64 (cpu, w, "idle", &r->cpu_idle, err) < 0)
    return -1;
  if (r->cpu_period && (r->cpu_period < 1000 || r->cpu_period > 1000000))
    return rf_error_make (err, 0, "%s.period: %" PRIu64 " is outside 1000..1000000 microseconds",
                          w, r->cpu_period);
  if (r->cpu_quota > 0 && r->cpu_quota < 1000)
    return rf_error_make (err, 0, "%s.quota: %" PRId64 " is below 1000 microseconds", w,
                          r->cpu_quota);
  if (r->cpu_quota == 0)
    r->cpu_quota = RF_UNSET;
  if (r->cpu_idle != RF_UNSET && r->cpu_idle != 0 && r->cpu_idle != 1)
    return rf_error_make (err, 0, "%s.idle: must be 0 or 1", w);
  s = NULL;
  if (rf_json_get_string (cpu, w, "cpus", &s, err) < 0)
    return -1;
  r->cpus = s && *s ? xstrdup (s) : NULL;
  s = NULL;
  if (rf_json_get_string (cpu, w, "mems", &s, err) < 0)
    return -1;
  r->mems = s && *s ? xstrdup (s) : NULL;
  for (const char *p = r->cpus; p && *p; p++)
    if (!strchr ("0123456789,-", *p))
      return rf_error_make (err, 0, "%s.cpus: `%s` is not a cpu list like 0-2,4", w, r->cpus);
  for (const char *p = r->mems; p && *p; p++)
    if (!strchr ("0123456789,-", *p))
      return rf_error_make (err, 0, "%s.mems: `%s` is not a node list like 0-1", w, r->mems);
  return 0;
}

static int
parse_blkio_devices (json_t *blk, const char *key, bool weights, rf_blkio_device_t **out,
                     size_t *n, rf_error_t *err)
{
  json_t *arr = NULL, *item;
  size_t i;
  int r = rf_json_get_array (blk, "linux.resources.blockIO", key, &arr, err);
  if (r <= 0)
    return r;
  *out = xzalloc (sizeof (rf_blkio_device_t) * (json_array_size (arr) + 1));
  json_array_foreach (arr, i, item)
    {
      cleanup_free char *where = xasprintf ("linux.resources.blockIO.%s[%zu]", key, i);
      rf_blkio_device_t *d = &(*out)[(*n)++];
      uint32_t v;
      if (!json_is_object (item))
        return rf_error_make (err, 0, "%s: expected an object", where);
      if (!json_object_get (item, "major") || !json_object_get (item, "minor"))
        return rf_error_make (err, 0, "%s: needs major and minor", where);
      if (rf_json_get_int64 (item, where, "major", &d->major, err) < 0
          || rf_json_get_int64 (item, where, "minor", &d->minor, err) < 0)
        return -1;
      if (d->major < 0 || d->minor < 0)
        return rf_error_make (err, 0, "%s: major and minor must not be negative", where);
      if (!weights)
        {
          if (!json_object_get (item, "rate"))
            return rf_error_make (err, 0, "%s.rate: missing", where);
          if (rf_json_get_uint64 (item, where, "rate", &d->rate, err) < 0)
            return -1;
          continue;
        }
      if (rf_json_get_uint32 (item, where, "weight", &v, err) < 0)
        return -1;
      if ((d->has_weight = json_object_get (item, "weight") != NULL))
        {
          if (v < 10 || v > 1000)
            return rf_error_make (err, 0, "%s.weight: %u is outside 10..1000", where, v);
          d->weight = v;
        }
      if (rf_json_get_uint32 (item, where, "leafWeight", &v, err) < 0)
        return -1;
      if ((d->has_leaf_weight = json_object_get (item, "leafWeight") != NULL))
        d->leaf_weight = v;
    }
  return 0;
}

static int
parse_blkio (json_t *res, rf_resources_t *r, rf_error_t *err)
{
  static const char *const throttles[4] = {
    "throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice",
    "throttleWriteIOPSDevice",
  };
  const char *w = "linux.resources.blockIO";
  json_t *blk = NULL;
  uint32_t v;

  if (rf_json_get_object (res, "linux.resources", "blockIO", &blk, err) <= 0)
    return err && *err ? -1 : 0;
  if (rf_json_get_uint32 (blk, w, "weight", &v, err) < 0)
    return -1;
  /* 0 is "not set" in the spec's Go types (docker sends it), as in runc. */
  if ((r->has_blkio_weight = json_object_get (blk, "weight") != NULL && v != 0))
    {
      if (v < 10 || v > 1000)
        return rf_error_make (err, 0, "%s.weight: %u is outside 10..1000", w, v);
      r->blkio_weight = v;
    }
  if (rf_json_get_uint32 (blk, w, "leafWeight", &v, err) < 0)
    return -1;
  if ((r->has_blkio_leaf_weight = json_object_get (blk, "leafWeight") != NULL && v != 0))
    r->blkio_leaf_weight = v;
  if (parse_blkio_devices (blk, "weightDevice", true, &r->weight_devices, &r->n_weight_devices, err) < 0)
    return -1;
  for (int i = 0; i < 4; i++)
    if (parse_blkio_devices (blk, throttles[i], false, &r->throttle[i], &r->n_throttle[i], err) < 0)
      return -1;
  return 0;
}

static int
parse_hugepages (json_t *res, rf_resources_t *r, rf_error_t *err)
{
  json_t *arr = NULL, *item;
  size_t i;
  int ret = rf_json_get_array (res, "linux.resources", "hugepageLimits", &arr, err);
  if (ret <= 0)
    return ret;
  r->hugepages = xzalloc (sizeof (rf_hugepage_limit_t) * (json_array_size (arr) + 1));
  json_array_foreach (arr, i, item)
    {
      cleanup_free char *where = xasprintf ("linux.resources.hugepageLimits[%zu]", i);
      rf_hugepage_limit_t *h = &r->hugepages[r->n_hugepages++];
      const char *size = NULL;
      if (!json_is_object (item))
        return rf_error_make (err, 0, "%s: expected an object", where);
      if (rf_json_get_string (item, where, "pageSize", &size, err) < 0
          || rf_json_get_uint64 (item, where, "limit", &h->limit, err) < 0)
        return -1;
      if (size == NULL || strspn (size, "0123456789") == 0
          || (strcmp (size + strspn (size, "0123456789"), "KB") != 0
              && strcmp (size + strspn (size, "0123456789"), "MB") != 0
              && strcmp (size + strspn (size, "0123456789"), "GB") != 0))
        return rf_error_make (err, 0, "%s.pageSize: `%s` is not like 2MB or 1GB", where,
                              size ? size : "");
      h->page_size = xstrdup (size);
    }
  return 0;
}

static int
parse_network (json_t *res, rf_resources_t *r, rf_error_t *err)
{
  const char *w = "linux.resources.network";
  json_t *net = NULL, *prios = NULL, *item;
  size_t i, k = 0;

  if (rf_json_get_object (res, "linux.resources", "network", &net, err) <= 0)
    return err && *err ? -1 : 0;
  if (rf_json_get_uint32 (net, w, "classID", &r->net_class_id, err) < 0)
    return -1;
  r->has_net_class_id = json_object_get (net, "classID") != NULL;
  if (rf_json_get_array (net, w, "priorities", &prios, err) < 0)
    return -1;
  if (prios == NULL)
    return 0;
  r->net_priorities = xzalloc ((2 * json_array_size (prios) + 1) * sizeof (char *));
  json_array_foreach (prios, i, item)
    {
      cleanup_free char *where = xasprintf ("%s.priorities[%zu]", w, i);
      const char *name = NULL;
      uint32_t prio = 0;
      if (!json_is_object (item))
        return rf_error_make (err, 0, "%s: expected an object", where);
      if (rf_json_get_string (item, where, "name", &name, err) < 0
          || rf_json_get_uint32 (item, where, "priority", &prio, err) < 0)
        return -1;
      if (name == NULL || *name == '\0' || strpbrk (name, " \n/"))
        return rf_error_make (err, 0, "%s.name: not an interface name", where);
      r->net_priorities[k++] = xstrdup (name);
      r->net_priorities[k++] = xasprintf ("%u", prio);
    }
  return 0;
}

static int
parse_devices (json_t *res, rf_resources_t *r, rf_error_t *err)
{
  json_t *arr = NULL, *item;
  size_t i;
  int ret = rf_json_get_array (res, "linux.resources", "devices", &arr, err);
  if (ret <= 0)
    return ret;
  r->has_devices = true;
  r->devices = xzalloc (sizeof (rf_device_rule_t) * (json_array_size (arr) + 1));
  json_array_foreach (arr, i, item)
    {
      cleanup_free char *where = xasprintf ("linux.resources.devices[%zu]", i);
      rf_device_rule_t *d = &r->devices[r->n_devices++];
      const char *type = NULL, *access = NULL;

      if (!json_is_object (item))
        return rf_error_make (err, 0, "%s: expected an object", where);
      if (!json_object_get (item, "allow"))
        return rf_error_make (err, 0, "%s.allow: missing", where);
      d->major = d->minor = -1;
      if (rf_json_get_bool (item, where, "allow", &d->allow, err) < 0
          || rf_json_get_string (item, where, "type", &type, err) < 0
          || rf_json_get_string (item, where, "access", &access, err) < 0
          || rf_json_get_int64 (item, where, "major", &d->major, err) < 0
          || rf_json_get_int64 (item, where, "minor", &d->minor, err) < 0)
        return -1;
      if (type == NULL || *type == '\0')
        type = "a";
      if (strlen (type) != 1 || !strchr ("acb", type[0]))
        return rf_error_make (err, 0, "%s.type: `%s` is not one of a, c, b", where, type);
      d->type = type[0];
      if (access == NULL || *access == '\0')
        access = "rwm";
      if (strlen (access) > 3 || strspn (access, "rwm") != strlen (access))
        return rf_error_make (err, 0, "%s.access: `%s` is not made of r, w, m", where, access);
      strcpy (d->access, access);
      if (d->major < -1 || d->minor < -1)
        return rf_error_make (err, 0, "%s: major and minor must be -1 (any) or more", where);
    }
  return 0;
}

int
rf_resources_parse (json_t *res, const char *where, rf_resources_t *r, rf_error_t *err)
{
  json_t *pids = NULL;

  rf_resources_init (r);
  if (res == NULL || json_is_null (res))
    return 0;
  if (!json_is_object (res))
    return rf_error_make (err, 0, "%s: expected an object", where);
  if (parse_memory (res, r, err) < 0 || parse_cpu (res, r, err) < 0)
    goto fail;
  if (rf_json_get_object (res, where, "pids", &pids, err) < 0)
    goto fail;
  if (pids)
    {
      if (!json_object_get (pids, "limit"))
        {
          rf_error_make (err, 0, "%s.pids.limit: missing", where);
          goto fail;
        }
      if (get_limit (pids, "linux.resources.pids", "limit", &r->pids_limit, err) < 0)
        goto fail;
      if (r->pids_limit == 0)
        r->pids_limit = RF_UNSET;
    }
  if (parse_blkio (res, r, err) < 0 || parse_hugepages (res, r, err) < 0
      || parse_network (res, r, err) < 0 || parse_devices (res, r, err) < 0
      || rf_json_get_strmap (res, where, "unified", &r->unified, err) < 0)
    goto fail;
  for (size_t i = 0; r->unified && r->unified[i]; i += 2)
    if (strchr (r->unified[i], '/') || strstr (r->unified[i], "..") || !strchr (r->unified[i], '.'))
      {
        rf_error_make (err, 0, "%s.unified: `%s` is not a cgroup file name", where, r->unified[i]);
        goto fail;
      }
  if (json_object_get (res, "rdma") && json_object_size (json_object_get (res, "rdma")) > 0)
    {
      rf_error_make (err, 0, "%s.rdma: not supported by runf", where);
      goto fail;
    }
  return 0;

fail:
  rf_resources_clear (r);
  return -1;
}
