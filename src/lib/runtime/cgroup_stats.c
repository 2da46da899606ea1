/* Statistics of a container's cgroup in runc's `events --stats` format:
 * cpu, memory, pids, blkio and hugetlb, read from v1 or v2 files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "common/cleanup.h"
#include "common/fsutil.h"

static char *
read_text (const char *dir, const char *file)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  char *text = NULL;
  if (rf_read_file_at (AT_FDCWD, path, 1 << 20, &text, NULL, NULL) < 0)
    return NULL;
  return text;
}

/* A number file; "max" reads as 0 (no limit), as runc reports it. */
static uint64_t
read_u64 (const char *dir, const char *file)
{
  cleanup_free char *text = read_text (dir, file);
  return text ? strtoull (text, NULL, 10) : 0;
}

/* "key value" lines as a JSON object of numbers. */
static json_t *
read_keyed (const char *dir, const char *file)
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
      json_object_set_new (obj, line, json_integer ((json_int_t) strtoull (sp + 1, NULL, 10)));
    }
  return obj;
}

static json_int_t
keyed (json_t *obj, const char *key)
{
  return json_integer_value (json_object_get (obj, key));
}

static json_t *
cpu_stats (const rf_cgroup_t *cg)
{
  const rf_cgroup_dir_t *acct = rf_cgroup_find (cg, "cpuacct");
  const rf_cgroup_dir_t *cpu = rf_cgroup_find (cg, "cpu");
  json_t *usage = json_object (), *throttling = json_object (), *percpu = json_array ();

  if (acct && !acct->v2)
    {
      cleanup_free char *text = read_text (acct->dir, "cpuacct.usage_percpu");
      char *save = NULL;
      json_object_set_new (usage, "total", json_integer (read_u64 (acct->dir, "cpuacct.usage")));
      for (char *t = text ? strtok_r (text, " \n", &save) : NULL; t; t = strtok_r (NULL, " \n", &save))
        json_array_append_new (percpu, json_integer ((json_int_t) strtoull (t, NULL, 10)));
      json_object_set_new (usage, "kernel", json_integer (read_u64 (acct->dir, "cpuacct.usage_sys")));
      json_object_set_new (usage, "user", json_integer (read_u64 (acct->dir, "cpuacct.usage_user")));
    }
  json_object_set_new (usage, "percpu", percpu);
  if (cpu)
    {
      json_t *st = read_keyed (cpu->dir, "cpu.stat");
      if (cpu->v2)
        {
          json_object_set_new (usage, "total", json_integer (keyed (st, "usage_usec") * 1000));
          json_object_set_new (usage, "kernel", json_integer (keyed (st, "system_usec") * 1000));
          json_object_set_new (usage, "user", json_integer (keyed (st, "user_usec") * 1000));
          json_object_set_new (throttling, "throttledTime", json_integer (keyed (st, "throttled_usec") * 1000));
        }
      else
        json_object_set_new (throttling, "throttledTime", json_integer (keyed (st, "throttled_time")));
      json_object_set_new (throttling, "periods", json_integer (keyed (st, "nr_periods")));
      json_object_set_new (throttling, "throttledPeriods", json_integer (keyed (st, "nr_throttled")));
      json_decref (st);
    }
  return json_pack ("{s:o, s:o}", "usage", usage, "throttling", throttling);
}

static json_t *
memory_stats (const rf_cgroup_t *cg)
{
  const rf_cgroup_dir_t *mem = rf_cgroup_find (cg, "memory");
  json_t *raw, *usage, *swap;
  if (mem == NULL)
    return json_object ();
  raw = read_keyed (mem->dir, "memory.stat");
  if (mem->v2)
    {
      json_t *events = read_keyed (mem->dir, "memory.events");
      usage = json_pack ("{s:I, s:I, s:I, s:I}", "usage", (json_int_t) read_u64 (mem->dir, "memory.current"),
                         "max", (json_int_t) read_u64 (mem->dir, "memory.peak"),
                         "limit", (json_int_t) read_u64 (mem->dir, "memory.max"),
                         "failcnt", keyed (events, "max"));
      swap = json_pack ("{s:I, s:I}", "usage", (json_int_t) read_u64 (mem->dir, "memory.swap.current"),
                        "limit", (json_int_t) read_u64 (mem->dir, "memory.swap.max"));
      json_decref (events);
      return json_pack ("{s:I, s:o, s:o, s:o}", "cache", keyed (raw, "file"), "usage", usage, "swap", swap,
                        "raw", raw);
    }
  usage = json_pack ("{s:I, s:I, s:I, s:I}", "usage", (json_int_t) read_u64 (mem->dir, "memory.usage_in_bytes"),
                     "max", (json_int_t) read_u64 (mem->dir, "memory.max_usage_in_bytes"),
                     "limit", (json_int_t) read_u64 (mem->dir, "memory.limit_in_bytes"),
                     "failcnt", (json_int_t) read_u64 (mem->dir, "memory.failcnt"));
  swap = json_pack ("{s:I, s:I, s:I, s:I}", "usage", (json_int_t) read_u64 (mem->dir, "memory.memsw.usage_in_bytes"),
                    "max", (json_int_t) read_u64 (mem->dir, "memory.memsw.max_usage_in_bytes"),
                    "limit", (json_int_t) read_u64 (mem->dir, "memory.memsw.limit_in_bytes"),
                    "failcnt", (json_int_t) read_u64 (mem->dir, "memory.memsw.failcnt"));
  return json_pack ("{s:I, s:o, s:o, s:o}", "cache", keyed (raw, "cache"), "usage", usage, "swap", swap,
                    "raw", raw);
}

static json_t *
pids_stats (const rf_cgroup_t *cg)
{
  const rf_cgroup_dir_t *p = rf_cgroup_find (cg, "pids");
  if (p == NULL)
    return json_object ();
  return json_pack ("{s:I, s:I}", "current", (json_int_t) read_u64 (p->dir, "pids.current"),
                    "limit", (json_int_t) read_u64 (p->dir, "pids.max"));
}

static json_t *
blkio_entries (const char *dir, const char *file)
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
        json_array_append_new (arr, json_pack ("{s:i, s:i, s:s, s:I}", "major", major, "minor", minor, "op",
                                               op, "value", (json_int_t) value));
    }
  return arr;
}

static json_t *
blkio_stats (const rf_cgroup_t *cg)
{
  const rf_cgroup_dir_t *b = rf_cgroup_find (cg, "blkio");
  const rf_cgroup_dir_t *io = b ? NULL : rf_cgroup_find (cg, "io");
  if (b)
    return json_pack ("{s:o, s:o}", "ioServiceBytesRecursive",
                      blkio_entries (b->dir, "blkio.throttle.io_service_bytes"),
                      "ioServicedRecursive", blkio_entries (b->dir, "blkio.throttle.io_serviced"));
  if (io)
    {
      /* v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N ..." */
      cleanup_free char *text = read_text (io->dir, "io.stat");
      json_t *bytes = json_array (), *ios = json_array ();
      char *save = NULL;
      for (char *line = text ? strtok_r (text, "\n", &save) : NULL; line; line = strtok_r (NULL, "\n", &save))
        {
          unsigned major, minor;
          unsigned long long rb = 0, wb = 0, ri = 0, wi = 0;
          char *p;
          if (sscanf (line, "%u:%u", &major, &minor) != 2)
            continue;
          if ((p = strstr (line, "rbytes=")))
            rb = strtoull (p + 7, NULL, 10);
          if ((p = strstr (line, "wbytes=")))
            wb = strtoull (p + 7, NULL, 10);
          if ((p = strstr (line, "rios=")))
            ri = strtoull (p + 5, NULL, 10);
          if ((p = strstr (line, "wios=")))
            wi = strtoull (p + 5, NULL, 10);
          json_array_append_new (bytes, json_pack ("{s:i, s:i, s:s, s:I}", "major", major, "minor", minor, "op", "Read", "value", (json_int_t) rb));
          json_array_append_new (bytes, json_pack ("{s:i, s:i, s:s, s:I}", "major", major, "minor", minor, "op", "Write", "value", (json_int_t) wb));
          json_array_append_new (ios, json_pack ("{s:i, s:i, s:s, s:I}", "major", major, "minor", minor, "op", "Read", "value", (json_int_t) ri));
          json_array_append_new (ios, json_pack ("{s:i, s:i, s:s, s:I}", "major", major, "minor", minor, "op", "Write", "value", (json_int_t) wi));
        }
      return json_pack ("{s:o, s:o}", "ioServiceBytesRecursive", bytes, "ioServicedRecursive", ios);
    }
  return json_object ();
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
      cleanup_free char *max_file = NULL;
      cleanup_free char *fail_file = NULL;
      if (strncmp (de->d_name, "hugetlb.", 8) != 0 || len <= 8 + sl
          || strcmp (de->d_name + len - sl, suffix) != 0 || strstr (de->d_name, ".rsvd."))
        continue;
      size = xstrndup (de->d_name + 8, len - 8 - sl);
      max_file = xasprintf (h->v2 ? "hugetlb.%s.max" : "hugetlb.%s.max_usage_in_bytes", size);
      fail_file = xasprintf (h->v2 ? "hugetlb.%s.events" : "hugetlb.%s.failcnt", size);
      json_object_set_new (obj, size,
                           json_pack ("{s:I, s:I, s:I}", "usage", (json_int_t) read_u64 (h->dir, de->d_name),
                                      "max", (json_int_t) read_u64 (h->dir, max_file), "failcnt",
                                      (json_int_t) (h->v2 ? 0 : read_u64 (h->dir, fail_file))));
    }
  closedir (dir);
  return obj;
}

json_t *
rf_cgroup_stats (const rf_cgroup_t *cg, rf_error_t *err)
{
  if (cg->n == 0)
    return rf_error_make (err, ENOTSUP, "events: the container has no cgroup"), NULL;
  return json_pack ("{s:o, s:o, s:o, s:o, s:o}", "cpu", cpu_stats (cg), "memory", memory_stats (cg),
                    "pids", pids_stats (cg), "blkio", blkio_stats (cg), "hugetlb", hugetlb_stats (cg));
}
