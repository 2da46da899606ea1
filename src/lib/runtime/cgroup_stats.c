/* Statistics of a container's cgroup as runc's `events` prints them (its
 * types.Stats): cpu, cpuset, memory, pids, blkio, hugetlb, read from v1
 * files or, where the container has no v1 directory for a controller, from
 * v2 ones.  Field names, units and the fields left out when zero follow
 * runc's JSON tags; docs/cgroups.md lists where each value comes from. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "common/cleanup.h"
#include "common/fsutil.h"

/* jansson's integers are int64; UINT64_MAX (an unlimited v2 limit, as runc
   reports it) travels as a marked string that rf_cgroup_json_dumps turns
   back into a bare number. */
#define U64_MARK "\x01u64:"

static json_t *
u64 (uint64_t v)
{
  char buf[40];
  if (v <= (uint64_t) INT64_MAX)
    return json_integer ((json_int_t) v);
  snprintf (buf, sizeof buf, U64_MARK "%" PRIu64, v);
  return json_string (buf);
}

char *
rf_cgroup_json_dumps (const json_t *doc)
{
  static const char mark[] = "\"\\u0001u64:";
  char *text = json_dumps (doc, JSON_COMPACT), *p;
  if (text == NULL)
    return NULL;
  while ((p = strstr (text, mark)) != NULL)
    {
      char *digits = p + strlen (mark), *end = strchr (digits, '"');
      if (end == NULL)
        break;
      memmove (p, digits, (size_t) (end - digits));
      memmove (p + (end - digits), end + 1, strlen (end + 1) + 1);
    }
  return text;
}

/* runc's `omitempty`: numbers that are zero are left out. */
static void
set_nz (json_t *obj, const char *key, uint64_t v)
{
  if (v)
    json_object_set_new (obj, key, u64 (v));
}

static char *
read_text (const char *dir, const char *file)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  char *text = NULL;
  if (rf_read_file_at (AT_FDCWD, path, 1 << 20, &text, NULL, NULL) < 0)
    return NULL;
  return text;
}

/* A number file; "max" (no limit) reads as UINT64_MAX, a missing file as 0. */
static uint64_t
read_u64 (const char *dir, const char *file)
{
  cleanup_free char *text = read_text (dir, file);
  if (text == NULL)
    return 0;
  if (strncmp (text, "max", 3) == 0)
    return UINT64_MAX;
  return strtoull (text, NULL, 10);
}

/* The value of `key` in a file of "key value" lines, 0 when absent. */
static uint64_t
read_keyed (const char *dir, const char *file, const char *key)
{
  cleanup_free char *text = read_text (dir, file);
  size_t len = strlen (key);
  for (char *line = text; line && *line;)
    {
      char *nl = strchr (line, '\n');
      if (strncmp (line, key, len) == 0 && line[len] == ' ')
        return strtoull (line + len + 1, NULL, 10);
      line = nl ? nl + 1 : NULL;
    }
  return 0;
}

/* "key value" lines as a JSON object of numbers. */
static json_t *
read_keyed_all (const char *dir, const char *file)
{
  cleanup_free char *text = read_text (dir, file);
  json_t *obj = json_object ();
  char *save = NULL;
  for (char *line = text ? strtok_r (text, "\n", &save) : NULL; line; line = strtok_r (NULL, "\n", &save))
    {
      char *sp = strchr (line, ' ');
      if (sp == NULL)
        continue;
      *sp = '\0';
      json_object_set_new (obj, line, u64 (strtoull (sp + 1, NULL, 10)));
    }
  return obj;
}

/* Space-separated numbers ("cpuacct.usage_percpu") as an array. */
static json_t *
read_list (const char *dir, const char *file)
{
  cleanup_free char *text = read_text (dir, file);
  json_t *arr = json_array ();
  char *save = NULL;
  for (char *t = text ? strtok_r (text, " \n", &save) : NULL; t; t = strtok_r (NULL, " \n", &save))
    json_array_append_new (arr, u64 (strtoull (t, NULL, 10)));
  return arr;
}

static void
set_nonempty (json_t *obj, const char *key, json_t *arr)
{
  if (json_array_size (arr) > 0)
    json_object_set (obj, key, arr);
  json_decref (arr);
}

/* Pressure stall information ("cpu.pressure"): {"some": {...}, "full": {...}}
   or NULL where the file is missing. */
static json_t *
read_psi (const char *dir, const char *file)
{
  cleanup_free char *text = read_text (dir, file);
  json_t *psi;
  char *save = NULL;
  if (text == NULL)
    return NULL;
  psi = json_object ();
  for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char kind[8];
      double a10, a60, a300;
      unsigned long long total;
      if (sscanf (line, "%7s avg10=%lf avg60=%lf avg300=%lf total=%llu", kind, &a10, &a60, &a300, &total) != 5)
        continue;
      if (a10 == 0 && a60 == 0 && a300 == 0 && total == 0)
        continue;
      json_object_set_new (psi, kind, json_pack ("{s:f, s:f, s:f, s:o}", "avg10", a10, "avg60", a60,
                                                 "avg300", a300, "total", u64 (total)));
    }
  return psi;
}

/* Whether the container lives in a v2 hierarchy only (PSI is reported
   there, as runc does). */
static bool
pure_v2 (const rf_cgroup_t *cg)
{
  for (size_t i = 0; i < cg->n; i++)
    if (!cg->dirs[i].v2)
      return false;
  return cg->n > 0;
}

static json_t *
cpu_stats (const rf_cgroup_t *cg)
{
  const rf_cgroup_dir_t *acct = rf_cgroup_find (cg, "cpuacct");
  const rf_cgroup_dir_t *cpu = rf_cgroup_find (cg, "cpu");
  const char *v2 = rf_cgroup_v2_dir (cg);
  json_t *usage = json_object (), *throttling = json_object (), *out;

  if (acct && !acct->v2)
    {
      uint64_t kernel = read_u64 (acct->dir, "cpuacct.usage_sys");
      uint64_t user = read_u64 (acct->dir, "cpuacct.usage_user");
      set_nz (usage, "total", read_u64 (acct->dir, "cpuacct.usage"));
      set_nonempty (usage, "percpu", read_list (acct->dir, "cpuacct.usage_percpu"));
      set_nonempty (usage, "percpu_kernel", read_list (acct->dir, "cpuacct.usage_percpu_sys"));
      set_nonempty (usage, "percpu_user", read_list (acct->dir, "cpuacct.usage_percpu_user"));
      if (!rf_cgroup_has_file (acct->dir, "cpuacct.usage_sys"))
        {
          /* Older kernels: cpuacct.stat, in clock ticks. */
          long hz = sysconf (_SC_CLK_TCK);
          uint64_t per_tick = hz > 0 ? 1000000000ULL / (uint64_t) hz : 10000000ULL;
          kernel = read_keyed (acct->dir, "cpuacct.stat", "system") * per_tick;
          user = read_keyed (acct->dir, "cpuacct.stat", "user") * per_tick;
        }
      json_object_set_new (usage, "kernel", u64 (kernel));
      json_object_set_new (usage, "user", u64 (user));
    }
  else if (v2)
    {
      /* cpu.stat's usage lines are there without the cpu controller. */
      set_nz (usage, "total", read_keyed (v2, "cpu.stat", "usage_usec") * 1000);
      json_object_set_new (usage, "kernel", u64 (read_keyed (v2, "cpu.stat", "system_usec") * 1000));
      json_object_set_new (usage, "user", u64 (read_keyed (v2, "cpu.stat", "user_usec") * 1000));
    }
  else
    {
      json_object_set_new (usage, "kernel", json_integer (0));
      json_object_set_new (usage, "user", json_integer (0));
    }
  if (cpu)
    {
      set_nz (throttling, "periods", read_keyed (cpu->dir, "cpu.stat", "nr_periods"));
      set_nz (throttling, "throttledPeriods", read_keyed (cpu->dir, "cpu.stat", "nr_throttled"));
      set_nz (throttling, "throttledTime",
              cpu->v2 ? read_keyed (cpu->dir, "cpu.stat", "throttled_usec") * 1000
                      : read_keyed (cpu->dir, "cpu.stat", "throttled_time"));
    }
  out = json_pack ("{s:o, s:o}", "usage", usage, "throttling", throttling);
  if (pure_v2 (cg))
    {
      json_t *psi = read_psi (v2, "cpu.pressure");
      if (psi)
        json_object_set_new (out, "psi", psi);
    }
  return out;
}

/* "0-2,4" as [0, 1, 2, 4]. */
static json_t *
read_cpu_list (const char *dir, const char *file)
{
  cleanup_free char *text = read_text (dir, file);
  json_t *arr = json_array ();
  char *save = NULL;
  for (char *t = text ? strtok_r (text, ",\n", &save) : NULL; t; t = strtok_r (NULL, ",\n", &save))
    {
      unsigned a, b;
      int n = sscanf (t, "%u-%u", &a, &b);
      if (n == 1)
        b = a;
      if (n < 1 || b < a || b - a > 65535)
        continue;
      for (unsigned i = a; i <= b; i++)
        json_array_append_new (arr, json_integer (i));
    }
  return arr;
}

static json_t *
cpuset_stats (const rf_cgroup_t *cg)
{
  static const char *const flags[] = {
    "cpu_exclusive", "mem_hardwall", "mem_exclusive", "memory_migrate", "memory_spread_page",
    "memory_spread_slab", "memory_pressure", "sched_load_balance", "sched_relax_domain_level",
  };
  const rf_cgroup_dir_t *d = rf_cgroup_find (cg, "cpuset");
  json_t *out = json_object ();

  if (d)
    {
      set_nonempty (out, "cpus", read_cpu_list (d->dir, d->v2 ? "cpuset.cpus.effective" : "cpuset.cpus"));
      set_nonempty (out, "mems", read_cpu_list (d->dir, d->v2 ? "cpuset.mems.effective" : "cpuset.mems"));
    }
  for (size_t i = 0; i < ARRAY_SIZE (flags); i++)
    {
      cleanup_free char *file = xasprintf ("cpuset.%s", flags[i]);
      cleanup_free char *text = d && !d->v2 ? read_text (d->dir, file) : NULL;
      json_object_set_new (out, flags[i], json_integer (text ? strtoll (text, NULL, 10) : 0));
    }
  return out;
}

/* runc's MemoryEntry: limit and failcnt always, usage and max when set. */
static json_t *
memory_entry (uint64_t limit, uint64_t usage, uint64_t max, uint64_t failcnt)
{
  json_t *e = json_object ();
  json_object_set_new (e, "limit", u64 (limit));
  set_nz (e, "usage", usage);
  set_nz (e, "max", max);
  json_object_set_new (e, "failcnt", u64 (failcnt));
  return e;
}

static json_t *
v1_memory_entry (const char *dir, const char *prefix)
{
  cleanup_free char *limit = xasprintf ("%s.limit_in_bytes", prefix);
  cleanup_free char *usage = xasprintf ("%s.usage_in_bytes", prefix);
  cleanup_free char *max = xasprintf ("%s.max_usage_in_bytes", prefix);
  cleanup_free char *failcnt = xasprintf ("%s.failcnt", prefix);
  return memory_entry (read_u64 (dir, limit), read_u64 (dir, usage), read_u64 (dir, max),
                       read_u64 (dir, failcnt));
}

static json_t *
memory_stats (const rf_cgroup_t *cg)
{
  const rf_cgroup_dir_t *mem = rf_cgroup_find (cg, "memory");
  json_t *out = json_object (), *raw;

  if (mem == NULL)
    {
      json_object_set_new (out, "usage", memory_entry (0, 0, 0, 0));
      json_object_set_new (out, "swap", memory_entry (0, 0, 0, 0));
      json_object_set_new (out, "kernel", memory_entry (0, 0, 0, 0));
      json_object_set_new (out, "kernelTCP", memory_entry (0, 0, 0, 0));
      return out;
    }
  raw = read_keyed_all (mem->dir, "memory.stat");
  if (!mem->v2)
    {
      set_nz (out, "cache", (uint64_t) json_integer_value (json_object_get (raw, "cache")));
      json_object_set_new (out, "usage", v1_memory_entry (mem->dir, "memory"));
      /* v1's "swap" is memory plus swap (memsw), as runc reports it. */
      json_object_set_new (out, "swap", v1_memory_entry (mem->dir, "memory.memsw"));
      json_object_set_new (out, "kernel", v1_memory_entry (mem->dir, "memory.kmem"));
      json_object_set_new (out, "kernelTCP", v1_memory_entry (mem->dir, "memory.kmem.tcp"));
    }
  else
    {
      uint64_t usage = read_u64 (mem->dir, "memory.current"), limit = read_u64 (mem->dir, "memory.max");
      uint64_t swap = read_u64 (mem->dir, "memory.swap.current");
      uint64_t swap_limit = read_u64 (mem->dir, "memory.swap.max");
      set_nz (out, "cache", (uint64_t) json_integer_value (json_object_get (raw, "file")));
      json_object_set_new (out, "usage", memory_entry (limit, usage, read_u64 (mem->dir, "memory.peak"),
                                                       read_keyed (mem->dir, "memory.events", "max")));
      /* v2 counts swap alone; runc adds memory to it to match v1. */
      if (swap_limit != UINT64_MAX && limit != UINT64_MAX)
        swap_limit += limit;
      else
        swap_limit = UINT64_MAX;
      json_object_set_new (out, "swap", memory_entry (swap_limit, swap + usage, 0,
                                                      read_keyed (mem->dir, "memory.swap.events", "max")));
      json_object_set_new (out, "kernel", memory_entry (0, 0, 0, 0));
      json_object_set_new (out, "kernelTCP", memory_entry (0, 0, 0, 0));
    }
  if (json_object_size (raw) > 0)
    json_object_set (out, "raw", raw);
  json_decref (raw);
  if (mem->v2 && pure_v2 (cg))
    {
      json_t *psi = read_psi (mem->dir, "memory.pressure");
      if (psi)
        json_object_set_new (out, "psi", psi);
    }
  return out;
}

static json_t *
pids_stats (const rf_cgroup_t *cg)
{
  const rf_cgroup_dir_t *p = rf_cgroup_find (cg, "pids");
  json_t *out = json_object ();
  uint64_t limit;
  if (p == NULL)
    return out;
  limit = read_u64 (p->dir, "pids.max");
  set_nz (out, "current", read_u64 (p->dir, "pids.current"));
  /* No limit ("max") is 0, as in runc. */
  set_nz (out, "limit", limit == UINT64_MAX ? 0 : limit);
  return out;
}

static json_t *
blkio_entry (unsigned major, unsigned minor, const char *op, uint64_t value)
{
  json_t *e = json_object ();
  set_nz (e, "major", major);
  set_nz (e, "minor", minor);
  json_object_set_new (e, "op", json_string (op));
  set_nz (e, "value", value);
  return e;
}

/* v1 "MAJ:MIN Op value" lines; the "Total" line has no device. */
static json_t *
v1_blkio_entries (const char *dir, const char *file)
{
  cleanup_free char *text = read_text (dir, file);
  json_t *arr = json_array ();
  char *save = NULL;
  for (char *line = text ? strtok_r (text, "\n", &save) : NULL; line; line = strtok_r (NULL, "\n", &save))
    {
      unsigned major, minor;
      char op[32];
      unsigned long long value;
      if (sscanf (line, "%u:%u %31s %llu", &major, &minor, op, &value) == 4)
        json_array_append_new (arr, blkio_entry (major, minor, op, value));
    }
  return arr;
}

static json_t *
blkio_stats (const rf_cgroup_t *cg)
{
  /* runc's order: CFQ's files, BFQ's, then the throttle layer's (which
     sees all I/O).  A source that has seen no device yet is skipped, so a
     host with BFQ loaded but not in use still reports its I/O. */
  static const char *const prefixes[] = { "blkio.", "blkio.bfq.", "blkio.throttle." };
  const rf_cgroup_dir_t *b = rf_cgroup_find (cg, "blkio");
  const rf_cgroup_dir_t *io = rf_cgroup_find (cg, "io");
  json_t *out = json_object ();

  if (b && !b->v2)
    {
      for (size_t i = 0; i < ARRAY_SIZE (prefixes); i++)
        {
          cleanup_free char *bytes_file = xasprintf ("%sio_service_bytes_recursive", prefixes[i]);
          cleanup_free char *ios_file = xasprintf ("%sio_serviced_recursive", prefixes[i]);
          json_t *bytes, *ios;
          if (!rf_cgroup_has_file (b->dir, ios_file))
            continue;
          bytes = v1_blkio_entries (b->dir, bytes_file);
          ios = v1_blkio_entries (b->dir, ios_file);
          if (json_array_size (ios) == 0 && i + 1 < ARRAY_SIZE (prefixes))
            {
              json_decref (bytes);
              json_decref (ios);
              continue;
            }
          set_nonempty (out, "ioServiceBytesRecursive", bytes);
          set_nonempty (out, "ioServicedRecursive", ios);
          break;
        }
    }
  else if (io)
    {
      /* v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" */
      static const struct
      {
        const char *key, *op;
        bool bytes;
      } keys[] = {
        { "rbytes=", "Read", true }, { "wbytes=", "Write", true }, { "dbytes=", "Discard", true },
        { "rios=", "Read", false },  { "wios=", "Write", false },  { "dios=", "Discard", false },
      };
      cleanup_free char *text = read_text (io->dir, "io.stat");
      json_t *bytes = json_array (), *ios = json_array ();
      char *save = NULL;
      for (char *line = text ? strtok_r (text, "\n", &save) : NULL; line; line = strtok_r (NULL, "\n", &save))
        {
          unsigned major, minor;
          if (sscanf (line, "%u:%u", &major, &minor) != 2)
            continue;
          for (size_t k = 0; k < ARRAY_SIZE (keys); k++)
            {
              char *p = strstr (line, keys[k].key);
              if (p)
                json_array_append_new (keys[k].bytes ? bytes : ios,
                                       blkio_entry (major, minor, keys[k].op,
                                                    strtoull (p + strlen (keys[k].key), NULL, 10)));
            }
        }
      set_nonempty (out, "ioServiceBytesRecursive", bytes);
      set_nonempty (out, "ioServicedRecursive", ios);
      if (pure_v2 (cg))
        {
          json_t *psi = read_psi (io->dir, "io.pressure");
          if (psi)
            json_object_set_new (out, "psi", psi);
        }
    }
  return out;
}

static json_t *
hugetlb_stats (const rf_cgroup_t *cg)
{
  const rf_cgroup_dir_t *h = rf_cgroup_find (cg, "hugetlb");
  json_t *obj = json_object ();
  DIR *dir;
  struct dirent *de;
  if (h == NULL || (dir = opendir (h->dir)) == NULL)
    return obj;
  while ((de = readdir (dir)) != NULL)
    {
      const char *suffix = h->v2 ? ".current" : ".usage_in_bytes";
      size_t len = strlen (de->d_name), sl = strlen (suffix);
      cleanup_free char *size = NULL;
      cleanup_free char *file = NULL;
      json_t *e;
      if (strncmp (de->d_name, "hugetlb.", 8) != 0 || len <= 8 + sl
          || strcmp (de->d_name + len - sl, suffix) != 0 || strstr (de->d_name, ".rsvd."))
        continue;
      size = xstrndup (de->d_name + 8, len - 8 - sl);
      e = json_object ();
      set_nz (e, "usage", read_u64 (h->dir, de->d_name));
      if (h->v2)
        {
          /* v2 keeps no peak; its failures are the "max" events. */
          file = xasprintf ("hugetlb.%s.events", size);
          json_object_set_new (e, "failcnt", u64 (read_keyed (h->dir, file, "max")));
        }
      else
        {
          file = xasprintf ("hugetlb.%s.max_usage_in_bytes", size);
          set_nz (e, "max", read_u64 (h->dir, file));
          free (file);
          file = xasprintf ("hugetlb.%s.failcnt", size);
          json_object_set_new (e, "failcnt", u64 (read_u64 (h->dir, file)));
        }
      json_object_set_new (obj, size, e);
    }
  closedir (dir);
  return obj;
}

json_t *
rf_cgroup_stats (const rf_cgroup_t *cg, rf_error_t *err)
{
  if (cg->n == 0)
    return rf_error_make (err, ENOTSUP, "the container has no cgroup"), NULL;
  return json_pack ("{s:o, s:o, s:o, s:o, s:o, s:o, s:{}, s:n}", "cpu", cpu_stats (cg), "cpuset",
                    cpuset_stats (cg), "memory", memory_stats (cg), "pids", pids_stats (cg), "blkio",
                    blkio_stats (cg), "hugetlb", hugetlb_stats (cg), "intel_rdt", "network_interfaces");
}
