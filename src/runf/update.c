/* `runf update [flags] ID` or `runf update -r FILE|- ID`: change the limits
 * of a container with runc's flags.  The flags become a linux.resources
 * object, checked here so that an error names the flag; -r reads one as
 * JSON (and, as in runc, the other flags are then ignored). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/units.h"
#include "runf.h"
#include "runtime/manage.h"

enum
{
  O_RESOURCES = 1,
  O_BLKIO_WEIGHT,
  O_CPU_PERIOD,
  O_CPU_QUOTA,
  O_CPU_BURST,
  O_CPU_SHARES,
  O_CPU_RT_PERIOD,
  O_CPU_RT_RUNTIME,
  O_CPU_IDLE,
  O_CPUSET_CPUS,
  O_CPUSET_MEMS,
  O_KERNEL_MEMORY,
  O_KERNEL_MEMORY_TCP,
  O_MEMORY,
  O_MEMORY_RESERVATION,
  O_MEMORY_SWAP,
  O_PIDS_LIMIT,
  O_L3_CACHE_SCHEMA,
  O_MEM_BW_SCHEMA,
};

static const runf_option_t options[] = {
  { "resources", 'r', true, O_RESOURCES },
  { "blkio-weight", 0, true, O_BLKIO_WEIGHT },
  { "cpu-period", 0, true, O_CPU_PERIOD },
  { "cpu-quota", 0, true, O_CPU_QUOTA },
  { "cpu-burst", 0, true, O_CPU_BURST },
  { "cpu-share", 0, true, O_CPU_SHARES }, /* runc's spelling */
  { "cpu-shares", 0, true, O_CPU_SHARES },
  { "cpu-rt-period", 0, true, O_CPU_RT_PERIOD },
  { "cpu-rt-runtime", 0, true, O_CPU_RT_RUNTIME },
  { "cpu-idle", 0, true, O_CPU_IDLE },
  { "cpuset-cpus", 0, true, O_CPUSET_CPUS },
  { "cpuset-mems", 0, true, O_CPUSET_MEMS },
  { "kernel-memory", 0, true, O_KERNEL_MEMORY },
  { "kernel-memory-tcp", 0, true, O_KERNEL_MEMORY_TCP },
  { "memory", 0, true, O_MEMORY },
  { "memory-reservation", 0, true, O_MEMORY_RESERVATION },
  { "memory-swap", 0, true, O_MEMORY_SWAP },
  { "pids-limit", 0, true, O_PIDS_LIMIT },
  { "l3-cache-schema", 0, true, O_L3_CACHE_SCHEMA },
  { "mem-bw-schema", 0, true, O_MEM_BW_SCHEMA },
  { 0 },
};

static int
bad_value (const char *flag, const char *value, const char *expected, rf_error_t *err)
{
  return rf_error_make (err, EINVAL, "update: --%s `%s`: expected %s", flag, value, expected);
}

/* The object `section` of res, made when missing. */
static json_t *
section (json_t *res, const char *name)
{
  json_t *obj = json_object_get (res, name);
  if (obj == NULL)
    {
      obj = json_object ();
      json_object_set_new (res, name, obj);
    }
  return obj;
}

/* Bytes with docker's suffixes (k, m, g, ...), or -1 for unlimited. */
static int
set_bytes (json_t *obj, const char *key, const char *flag, const char *value, rf_error_t *err)
{
  int64_t v;
  if (strcmp (value, "-1") == 0)
    v = -1;
  else if (rf_parse_ram_bytes (value, &v) < 0)
    return bad_value (flag, value, "a size in bytes like 64m, 1g or 512k, or -1 (unlimited)", err);
  json_object_set_new (obj, key, json_integer (v));
  return 0;
}

static int
set_uint (json_t *obj, const char *key, const char *flag, const char *value, uint64_t min,
          uint64_t max, rf_error_t *err)
{
  unsigned long long v;
  if (rf_parse_uint64 (value, max, &v) < 0 || v < min)
    {
      cleanup_free char *range = xasprintf ("a number in %" PRIu64 "..%" PRIu64, min, max);
      return bad_value (flag, value, range, err);
    }
  json_object_set_new (obj, key, json_integer ((json_int_t) v));
  return 0;
}

/* A number that may also be -1 (no limit). */
static int
set_limit (json_t *obj, const char *key, const char *flag, const char *value, rf_error_t *err)
{
  unsigned long long v;
  if (strcmp (value, "-1") == 0)
    {
      json_object_set_new (obj, key, json_integer (-1));
      return 0;
    }
  if (rf_parse_uint64 (value, INT64_MAX, &v) < 0)
    return bad_value (flag, value, "a number, or -1 (no limit)", err);
  json_object_set_new (obj, key, json_integer ((json_int_t) v));
  return 0;
}

static int
set_list (json_t *obj, const char *key, const char *flag, const char *value, rf_error_t *err)
{
  if (strspn (value, "0123456789,-") != strlen (value))
    return bad_value (flag, value, "a list like 0-2,4", err);
  json_object_set_new (obj, key, json_string (value));
  return 0;
}

static int
flag_to_json (json_t *res, int id, const char *flag, const char *value, rf_error_t *err)
{
  switch (id)
    {
    case O_BLKIO_WEIGHT:
      if (strcmp (value, "0") == 0)
        return 0; /* runc: 0 leaves it as is */
      return set_uint (section (res, "blockIO"), "weight", flag, value, 10, 1000, err);
    case O_CPU_PERIOD:
      return set_uint (section (res, "cpu"), "period", flag, value, 0, 1000000, err);
    case O_CPU_QUOTA:
      return set_limit (section (res, "cpu"), "quota", flag, value, err);
    case O_CPU_BURST:
      return set_uint (section (res, "cpu"), "burst", flag, value, 0, INT64_MAX, err);
    case O_CPU_SHARES:
      return set_uint (section (res, "cpu"), "shares", flag, value, 0, 262144, err);
    case O_CPU_RT_PERIOD:
      return set_uint (section (res, "cpu"), "realtimePeriod", flag, value, 0, INT64_MAX, err);
    case O_CPU_RT_RUNTIME:
      return set_limit (section (res, "cpu"), "realtimeRuntime", flag, value, err);
    case O_CPU_IDLE:
      return set_uint (section (res, "cpu"), "idle", flag, value, 0, 1, err);
    case O_CPUSET_CPUS:
      return set_list (section (res, "cpu"), "cpus", flag, value, err);
    case O_CPUSET_MEMS:
      return set_list (section (res, "cpu"), "mems", flag, value, err);
    case O_MEMORY:
      return set_bytes (section (res, "memory"), "limit", flag, value, err);
    case O_MEMORY_RESERVATION:
      return set_bytes (section (res, "memory"), "reservation", flag, value, err);
    case O_MEMORY_SWAP:
      return set_bytes (section (res, "memory"), "swap", flag, value, err);
    case O_PIDS_LIMIT:
      return set_limit (section (res, "pids"), "limit", flag, value, err);
    case O_KERNEL_MEMORY:
    case O_KERNEL_MEMORY_TCP:
      rf_warn ("update: --%s is ignored: kernel memory limits are gone from Linux", flag);
      return 0;
    default:
      return rf_error_make (err, ENOTSUP, "update: --%s: Intel RDT is not supported by runf", flag);
    }
}

static json_t *
read_resources (const char *path, rf_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t len = 0, cap = 0;
  json_t *doc;

  if (strcmp (path, "-") != 0)
    doc = rf_json_load_file (path, err);
  else
    {
      for (;;)
        {
          ssize_t got;
          if (len + 4096 + 1 > cap)
            buf = xrealloc (buf, cap = cap ? cap * 2 : 16384);
          got = read (STDIN_FILENO, buf + len, cap - len - 1);
          if (got < 0 && errno == EINTR)
            continue;
          if (got < 0)
            return rf_error_sys (err, "update: read the resources from stdin"), NULL;
          if (got == 0)
            break;
          len += (size_t) got;
        }
      doc = rf_json_load_buffer ("<stdin>", buf ? buf : "", len, err);
    }
  if (doc == NULL)
    return rf_error_wrap (err, "update"), NULL;
  if (!json_is_object (doc))
    {
      rf_error_make (err, EINVAL, "update: %s: expected a linux.resources object, not %s",
                     strcmp (path, "-") == 0 ? "<stdin>" : path, rf_json_type_name (doc));
      json_decref (doc);
      return NULL;
    }
  return doc;
}

int
runf_cmd_update (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_json json_t *res = json_object ();
  cleanup_json json_t *from_file = NULL;
  const char *value, *resources = NULL;
  bool other_flags = false;
  int index = 1, id;

  for (;;)
    {
      const char *arg = index < argc ? argv[index] : "";
      const char *flag = arg + strspn (arg, "-");
      cleanup_free char *name = xstrndup (flag, strcspn (flag, "="));
      id = runf_next_option (argc, argv, &index, options, &value, err);
      if (id <= 0)
        break;
      if (id == O_RESOURCES)
        resources = value;
      else
        {
          other_flags = true;
          if (flag_to_json (res, id, name, value, err) < 0)
            return -1;
        }
    }
  if (id < 0)
    return rf_error_wrap (err, "update");
  if (index >= argc)
    return rf_error_make (err, EINVAL, "update: missing container id");
  if (index + 1 < argc)
    return rf_error_make (err, EINVAL, "update: unexpected argument `%s`", argv[index + 1]);
  if (resources)
    {
      if (other_flags)
        rf_warn ("update: --resources is given: the other flags are ignored, as in runc");
      from_file = read_resources (resources, err);
      if (from_file == NULL)
        return -1;
    }
  return rf_container_update (g->root, argv[index], from_file ? from_file : res, err);
}
