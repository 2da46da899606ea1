/* The cgroup code against fake cgroup directories (plain files in a temp
 * directory): what runf writes for linux.resources on v2 (the conversions
 * from v1 values), how it reads v1 and v2 files into runc's stats, the
 * v2 OOM watch, the reset of a cgroup used again, and which mounts of a mountinfo are hierarchies.  The development hosts cannot run these v2 controllers for
 * real (their v1 hierarchies hold them); the kernel side is in the
 * integration tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "runtime/cgroup.h"
#include "runtime/resources.h"

static char tmp[] = "/tmp/runf-test-cgroup.XXXXXX";

static void
put (const char *dir, const char *file, const char *text)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  FILE *f = fopen (path, "w");
  assert_non_null (f);
  fputs (text, f);
  fclose (f);
}

static char *
get (const char *dir, const char *file)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  char *text = NULL;
  assert_int_equal (rf_read_file_at (AT_FDCWD, path, 0, &text, NULL, NULL), 0);
  return text;
}

static char *
subdir (const char *name)
{
  char *dir = xasprintf ("%s/%s", tmp, name);
  assert_int_equal (mkdir (dir, 0755), 0);
  return dir;
}

static int
setup (void **state)
{
  assert_non_null (mkdtemp (tmp));
  return 0;
}

static int
teardown (void **state)
{
  rf_error_t err = NULL;
  rf_rm_rf (tmp, &err);
  rf_error_free (&err);
  strcpy (tmp + strlen (tmp) - 6, "XXXXXX");
  return 0;
}

static void
parse (const char *text, rf_resources_t *res)
{
  rf_error_t err = NULL;
  json_t *j = rf_json_load_buffer ("test", text, strlen (text), &err);
  assert_non_null (j);
  assert_int_equal (rf_resources_parse (j, "linux.resources", res, &err), 0);
  json_decref (j);
}

static void
test_v2_writes (void **state)
{
  static const char *const files[] = {
    "memory.max", "memory.swap.max", "memory.low", "cpu.weight", "cpu.max", "io.weight", "io.max",
    "pids.max", "cpuset.cpus", "hugetlb.2MB.max",
  };
  cleanup_free char *dir = subdir ("v2");
  rf_cgroup_dir_t d = { .dir = dir, .controllers = (char *) "", .v2 = true };
  rf_cgroup_t cg = { .dirs = &d, .n = 1 };
  rf_error_t err = NULL;
  rf_resources_t res;

  for (size_t i = 0; i < ARRAY_SIZE (files); i++)
    put (dir, files[i], "");
  put (dir, "cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
  parse ("{\"memory\": {\"limit\": 67108864, \"swap\": 100663296, \"reservation\": 1048576},"
         " \"cpu\": {\"shares\": 1024, \"quota\": 50000, \"period\": 200000, \"cpus\": \"0-1\"},"
         " \"blockIO\": {\"weight\": 500, \"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 1048576}]},"
         " \"pids\": {\"limit\": 64}, \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 4194304}]}",
         &res);
  assert_int_equal (rf_cgroup_apply (&cg, &res, false, &err), 0);
  rf_resources_clear (&res);
  {
    static const char *const want[][2] = {
      { "memory.max", "67108864" },
      { "memory.swap.max", "33554432" }, /* memory + swap 96M, memory 64M */
      { "memory.low", "1048576" },
      { "cpu.weight", "39" },            /* 1024 shares */
      { "cpu.max", "50000 200000" },
      { "io.weight", "default 4950" },   /* blkio weight 500 */
      { "io.max", "8:0 rbps=1048576" },
      { "pids.max", "64" },
      { "cpuset.cpus", "0-1" },
      { "hugetlb.2MB.max", "4194304" },
    };
    for (size_t i = 0; i < ARRAY_SIZE (want); i++)
      {
        cleanup_free char *text = get (dir, want[i][0]);
        if (strcmp (text, want[i][1]) != 0)
          fail_msg ("%s: `%s`, expected `%s`", want[i][0], text, want[i][1]);
      }
  }

  /* -1: no limit; a quota of -1 keeps the period. */
  for (size_t i = 0; i < ARRAY_SIZE (files); i++)
    put (dir, files[i], "");
  parse ("{\"memory\": {\"limit\": -1, \"swap\": -1}, \"cpu\": {\"quota\": -1}, \"pids\": {\"limit\": -1}}", &res);
  assert_int_equal (rf_cgroup_apply (&cg, &res, false, &err), 0);
  rf_resources_clear (&res);
  {
    cleanup_free char *mem = get (dir, "memory.max");
    cleanup_free char *swap = get (dir, "memory.swap.max");
    cleanup_free char *cpu = get (dir, "cpu.max");
    cleanup_free char *pids = get (dir, "pids.max");
    assert_string_equal (mem, "max");
    assert_string_equal (swap, "max");
    assert_string_equal (cpu, "max 100000");
    assert_string_equal (pids, "max");
  }

  /* What v2 has no file for fails, naming the field. */
  parse ("{\"memory\": {\"swappiness\": 10}}", &res);
  assert_int_equal (rf_cgroup_apply (&cg, &res, false, &err), -1);
  assert_non_null (strstr (err->msg, "linux.resources.memory.swappiness"));
  rf_error_free (&err);
  rf_resources_clear (&res);
  parse ("{\"cpu\": {\"realtimeRuntime\": 1000}}", &res);
  assert_int_equal (rf_cgroup_apply (&cg, &res, false, &err), -1);
  assert_non_null (strstr (err->msg, "realtime"));
  rf_error_free (&err);
  rf_resources_clear (&res);
}

static void
test_v2_stats (void **state)
{
  cleanup_free char *dir = subdir ("v2s");
  rf_cgroup_dir_t d = { .dir = dir, .controllers = (char *) "", .v2 = true };
  rf_cgroup_t cg = { .dirs = &d, .n = 1 };
  rf_error_t err = NULL;
  cleanup_json json_t *stats = NULL;
  cleanup_free char *text = NULL;
  json_t *mem;

  put (dir, "cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
  put (dir, "cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\n"
                        "nr_throttled 4\nthrottled_usec 30\n");
  put (dir, "cpu.pressure", "some avg10=1.50 avg60=0.00 avg300=0.00 total=12345\n"
                            "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  put (dir, "cpuset.cpus.effective", "0-2,5\n");
  put (dir, "cpuset.mems.effective", "0\n");
  put (dir, "memory.current", "4096\n");
  put (dir, "memory.max", "max\n");
  put (dir, "memory.peak", "8192\n");
  put (dir, "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  put (dir, "memory.swap.current", "1024\n");
  put (dir, "memory.swap.max", "max\n");
  put (dir, "memory.stat", "anon 100\nfile 200\n");
  put (dir, "pids.current", "3\n");
  put (dir, "pids.max", "max\n");
  put (dir, "io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n");
  put (dir, "hugetlb.2MB.current", "2097152\n");
  put (dir, "hugetlb.2MB.events", "max 2\n");

  stats = rf_cgroup_stats (&cg, &err);
  assert_non_null (stats);
  assert_int_equal (json_integer_value (json_object_get (json_object_get (json_object_get (stats, "cpu"), "usage"), "total")), 1500000);
  assert_int_equal (json_integer_value (json_object_get (json_object_get (json_object_get (stats, "cpu"), "usage"), "kernel")), 500000);
  assert_int_equal (json_integer_value (json_object_get (json_object_get (json_object_get (stats, "cpu"), "throttling"), "throttledTime")), 30000);
  assert_non_null (json_object_get (json_object_get (json_object_get (stats, "cpu"), "psi"), "some"));
  assert_null (json_object_get (json_object_get (json_object_get (stats, "cpu"), "psi"), "full"));
  assert_int_equal (json_array_size (json_object_get (json_object_get (stats, "cpuset"), "cpus")), 4);
  mem = json_object_get (stats, "memory");
  assert_int_equal (json_integer_value (json_object_get (mem, "cache")), 200);
  assert_int_equal (json_integer_value (json_object_get (json_object_get (mem, "usage"), "failcnt")), 3);
  /* v1's swap is memory + swap: runc adds them on v2. */
  assert_int_equal (json_integer_value (json_object_get (json_object_get (mem, "swap"), "usage")), 5120);
  /* No pids limit is 0, left out; the unlimited memory is UINT64_MAX. */
  assert_null (json_object_get (json_object_get (stats, "pids"), "limit"));
  assert_int_equal (json_integer_value (json_object_get (json_object_get (stats, "pids"), "current")), 3);
  assert_int_equal (json_array_size (json_object_get (json_object_get (stats, "blkio"), "ioServiceBytesRecursive")), 3);
  assert_int_equal (json_integer_value (json_object_get (json_object_get (json_object_get (stats, "hugetlb"), "2MB"), "failcnt")), 2);
  text = rf_cgroup_json_dumps (stats);
  assert_non_null (strstr (text, "\"usage\":{\"limit\":18446744073709551615,\"usage\":4096,\"max\":8192,\"failcnt\":3}"));
  assert_non_null (strstr (text, "\"swap\":{\"limit\":18446744073709551615,"));
  assert_non_null (strstr (text, "\"op\":\"Write\",\"value\":200"));
}

static void
test_v1_stats (void **state)
{
  cleanup_free char *mem = subdir ("memory");
  cleanup_free char *acct = subdir ("cpuacct");
  cleanup_free char *pids = subdir ("pids");
  cleanup_free char *blkio = subdir ("blkio");
  rf_cgroup_dir_t d[] = {
    { .dir = mem, .controllers = (char *) "memory" },
    { .dir = acct, .controllers = (char *) "cpuacct" },
    { .dir = pids, .controllers = (char *) "pids" },
    { .dir = blkio, .controllers = (char *) "blkio" },
  };
  rf_cgroup_t cg = { .dirs = d, .n = ARRAY_SIZE (d) };
  rf_error_t err = NULL;
  cleanup_json json_t *stats = NULL;
  json_t *usage, *blk;

  put (mem, "memory.usage_in_bytes", "4096\n");
  put (mem, "memory.limit_in_bytes", "9223372036854771712\n");
  put (mem, "memory.max_usage_in_bytes", "0\n");
  put (mem, "memory.failcnt", "0\n");
  put (mem, "memory.memsw.usage_in_bytes", "4096\n");
  put (mem, "memory.memsw.limit_in_bytes", "16777216\n");
  put (mem, "memory.stat", "cache 300\nrss 100\n");
  put (acct, "cpuacct.usage", "777\n");
  put (acct, "cpuacct.usage_percpu", "700 77 \n");
  put (acct, "cpuacct.usage_sys", "7\n");
  put (acct, "cpuacct.usage_user", "70\n");
  put (pids, "pids.current", "2\n");
  put (pids, "pids.max", "20\n");
  /* BFQ loaded but not used by the disk: its files hold no device. */
  put (blkio, "blkio.bfq.io_serviced_recursive", "Total 0\n");
  put (blkio, "blkio.bfq.io_service_bytes_recursive", "Total 0\n");
  put (blkio, "blkio.throttle.io_serviced_recursive", "254:0 Read 5\n254:0 Write 6\nTotal 11\n");
  put (blkio, "blkio.throttle.io_service_bytes_recursive", "254:0 Read 500\n254:0 Write 0\nTotal 500\n");

  stats = rf_cgroup_stats (&cg, &err);
  assert_non_null (stats);
  usage = json_object_get (json_object_get (stats, "cpu"), "usage");
  assert_int_equal (json_integer_value (json_object_get (usage, "total")), 777);
  assert_int_equal (json_array_size (json_object_get (usage, "percpu")), 2);
  assert_int_equal (json_integer_value (json_object_get (usage, "user")), 70);
  /* omitempty: max of 0 is left out, limit and failcnt never are. */
  usage = json_object_get (json_object_get (stats, "memory"), "usage");
  assert_null (json_object_get (usage, "max"));
  assert_non_null (json_object_get (usage, "failcnt"));
  assert_int_equal (json_integer_value (json_object_get (usage, "limit")), 9223372036854771712LL);
  assert_int_equal (json_integer_value (json_object_get (json_object_get (json_object_get (stats, "memory"), "swap"), "limit")), 16777216);
  assert_int_equal (json_integer_value (json_object_get (json_object_get (stats, "memory"), "cache")), 300);
  assert_int_equal (json_integer_value (json_object_get (json_object_get (stats, "pids"), "limit")), 20);
  blk = json_object_get (json_object_get (stats, "blkio"), "ioServicedRecursive");
  assert_int_equal (json_array_size (blk), 2);
  blk = json_object_get (json_object_get (stats, "blkio"), "ioServiceBytesRecursive");
  assert_null (json_object_get (json_array_get (blk, 1), "value"));
}

static void
test_v2_oom_watch (void **state)
{
  cleanup_free char *dir = subdir ("oom");
  rf_cgroup_dir_t d = { .dir = dir, .controllers = (char *) "", .v2 = true };
  rf_cgroup_t cg = { .dirs = &d, .n = 1 };
  rf_error_t err = NULL;
  rf_oom_watch_t w;

  put (dir, "cgroup.controllers", "memory pids\n");
  put (dir, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 2\n");
  assert_int_equal (rf_cgroup_oom_watch (&cg, &w, &err), 0);
  assert_true (w.fd >= 0);
  /* Other counters changing is no OOM kill; oom_kill growing is one. */
  put (dir, "memory.events", "low 0\nhigh 5\nmax 1\noom 0\noom_kill 2\n");
  assert_int_equal (rf_oom_watch_read (&w), 0);
  put (dir, "memory.events", "low 0\nhigh 5\nmax 2\noom 1\noom_kill 3\n");
  assert_int_equal (rf_oom_watch_read (&w), 1);
  assert_int_equal (rf_oom_watch_read (&w), 0);
  {
    cleanup_free char *path = xasprintf ("%s/memory.events", dir);
    unlink (path);
  }
  assert_int_equal (rf_oom_watch_read (&w), -1);
  rf_oom_watch_close (&w);

  /* No memory controller: nothing to watch, not an error. */
  put (dir, "cgroup.controllers", "pids\n");
  assert_int_equal (rf_cgroup_oom_watch (&cg, &w, &err), 0);
  assert_int_equal (w.fd, -1);
  assert_int_equal (rf_oom_watch_read (&w), 0);
  rf_oom_watch_close (&w);
}

/* The hierarchies of a mountinfo text, as "mountpoint controllers [v2]"
   lines. */
static char *
hierarchies_of (const char *mountinfo)
{
  cleanup_free char *text = xstrdup (mountinfo);
  size_t n;
  rf_hierarchy_t *h = rf_cgroup_parse_mountinfo (text, &n);
  char *out = xstrdup ("");
  for (size_t i = 0; i < n; i++)
    {
      char *line = xasprintf ("%s%s %s%s\n", out, h[i].mountpoint, h[i].controllers,
                              h[i].v2 ? "v2" : "");
      free (out);
      out = line;
    }
  rf_cgroup_hierarchies_free (h, n);
  return out;
}

#define HYBRID                                                                              \
  "22 1 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"            \
  "30 22 0:27 / /sys/fs/cgroup rw,relatime shared:8 - tmpfs tmpfs rw,mode=755\n"            \
  "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"    \
  "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"              \
  "39 30 0:36 / /sys/fs/cgroup/systemd rw,nosuid - cgroup cgroup rw,xattr,name=systemd\n"   \
  "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"

static void
test_hierarchies_from_mountinfo (void **state)
{
  static const char *const hybrid_want = "/sys/fs/cgroup/cpu,cpuacct cpu,cpuacct\n"
                                         "/sys/fs/cgroup/memory memory\n"
                                         "/sys/fs/cgroup/systemd name=systemd\n"
                                         "/sys/fs/cgroup/unified v2\n";
  char *got;

  got = hierarchies_of (HYBRID
                        /* Not hierarchies: another file system, a cgroup
                           mount deeper down, a line without a separator. */
                        "50 30 0:40 / /sys/fs/cgroup/hugetlb rw - tmpfs tmpfs rw\n"
                        "51 34 0:31 /sub /sys/fs/cgroup/memory/sub rw - cgroup cgroup rw,memory\n"
                        "garbage\n");
  assert_string_equal (got, hybrid_want);
  free (got);

  /* A new tmpfs over /sys/fs/cgroup with the hierarchies bound again (as
     in a private mount namespace): the covered ones are unreachable, each
     hierarchy counts once. */
  got = hierarchies_of (HYBRID
                        "98 30 0:40 / /sys/fs/cgroup rw - tmpfs other rw,mode=755\n"
                        "99 98 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
                        "102 98 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
  assert_string_equal (got, "/sys/fs/cgroup/cpu,cpuacct cpu,cpuacct\n"
                            "/sys/fs/cgroup/memory memory\n");
  free (got);

  /* cgroup2 over the hybrid layout: a unified host from then on. */
  got = hierarchies_of (HYBRID "98 30 0:37 / /sys/fs/cgroup rw - cgroup2 none rw\n");
  assert_string_equal (got, "/sys/fs/cgroup v2\n");
  free (got);
  got = hierarchies_of ("30 22 0:27 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw,nsdelegate\n");
  assert_string_equal (got, "/sys/fs/cgroup v2\n");
  free (got);

  /* A hierarchy covered by a tmpfs is gone; one mounted over a tmpfs is
     there. */
  got = hierarchies_of (HYBRID
                        "60 34 0:41 / /sys/fs/cgroup/memory rw - tmpfs tmpfs rw\n"
                        "61 30 0:42 / /sys/fs/cgroup/pids rw - tmpfs tmpfs rw\n"
                        "62 61 0:43 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n");
  assert_string_equal (got, "/sys/fs/cgroup/cpu,cpuacct cpu,cpuacct\n"
                            "/sys/fs/cgroup/systemd name=systemd\n"
                            "/sys/fs/cgroup/unified v2\n"
                            "/sys/fs/cgroup/pids pids\n");
  free (got);

  /* No tmpfs of its own: hierarchies straight on /sys/fs/cgroup's
     directory; and a host without any. */
  got = hierarchies_of ("22 1 0:20 / /sys rw - sysfs sysfs rw\n"
                        "31 22 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
  assert_string_equal (got, "/sys/fs/cgroup/memory memory\n");
  free (got);
  got = hierarchies_of ("22 1 0:20 / /sys rw - sysfs sysfs rw\n");
  assert_string_equal (got, "");
  free (got);
}

/* A cgroup used again: its v1 memory peaks are 0 once reset (a missing
   one is fine), its CPU quota written again; one with a
   process left, or frozen, is refused, naming the directory.  The OOM
   kill count is read from v1 and v2 alike. */
static void
test_reset_for_reuse (void **state)
{
  static const char *const v1_counters[] = { "memory.max_usage_in_bytes", "memory.memsw.max_usage_in_bytes" };
  cleanup_free char *mem = subdir ("memory");
  cleanup_free char *cpu = subdir ("cpu");
  cleanup_free char *v2 = subdir ("v2r");
  rf_cgroup_dir_t d[2] = { { .dir = mem, .controllers = (char *) "memory" },
                           { .dir = cpu, .controllers = (char *) "cpu,cpuacct" } };
  rf_cgroup_t cg = { .dirs = d, .n = 2 };
  rf_cgroup_dir_t d2 = { .dir = v2, .controllers = (char *) "", .v2 = true };
  rf_cgroup_t cg2 = { .dirs = &d2, .n = 1 };
  rf_error_t err = NULL;
  rf_resources_t res;

  for (size_t i = 0; i < ARRAY_SIZE (v1_counters); i++)
    put (mem, v1_counters[i], "9");
  put (mem, "cgroup.procs", "");
  put (mem, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
  put (cpu, "cgroup.procs", "");
  put (cpu, "cpu.cfs_quota_us", "");
  put (cpu, "cpuacct.usage", "7");
  parse ("{\"memory\": {\"limit\": 67108864}, \"cpu\": {\"quota\": 50000, \"period\": 100000}}", &res);
  assert_int_equal (rf_cgroup_reset (&cg, &res, &err), 0);
  for (size_t i = 0; i < ARRAY_SIZE (v1_counters); i++)
    {
      cleanup_free char *text = get (mem, v1_counters[i]);
      assert_string_equal (text, "0");
    }
  {
    cleanup_free char *quota = get (cpu, "cpu.cfs_quota_us");
    cleanup_free char *usage = get (cpu, "cpuacct.usage");
    assert_string_equal (quota, "50000");
    assert_string_equal (usage, "0");
  }
  assert_int_equal (rf_cgroup_oom_kills (&cg), 0);
  put (mem, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  assert_int_equal (rf_cgroup_oom_kills (&cg), 2);

  put (cpu, "cgroup.procs", "4242\n");
  assert_int_equal (rf_cgroup_reset (&cg, &res, &err), -1);
  assert_non_null (strstr (err->msg, "still has processes"));
  assert_non_null (strstr (err->msg, cpu));
  rf_error_free (&err);

  put (v2, "cgroup.events", "populated 0\nfrozen 0\n");
  put (v2, "cpu.max", "");
  put (v2, "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  put (v2, "cgroup.controllers", "cpu memory pids\n");
  assert_int_equal (rf_cgroup_reset (&cg2, &res, &err), 0);
  {
    cleanup_free char *max = get (v2, "cpu.max");
    assert_string_equal (max, "50000 100000");
  }
  assert_int_equal (rf_cgroup_oom_kills (&cg2), 1);
  put (v2, "cgroup.events", "populated 0\nfrozen 1\n");
  assert_int_equal (rf_cgroup_reset (&cg2, &res, &err), -1);
  assert_non_null (strstr (err->msg, "frozen"));
  rf_error_free (&err);
  put (v2, "cgroup.events", "populated 1\nfrozen 0\n");
  assert_int_equal (rf_cgroup_reset (&cg2, &res, &err), -1);
  rf_error_free (&err);
  rf_resources_clear (&res);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_v2_writes, setup, teardown),
    cmocka_unit_test_setup_teardown (test_v2_stats, setup, teardown),
    cmocka_unit_test_setup_teardown (test_v1_stats, setup, teardown),
    cmocka_unit_test_setup_teardown (test_v2_oom_watch, setup, teardown),
    cmocka_unit_test (test_hierarchies_from_mountinfo),
    cmocka_unit_test_setup_teardown (test_reset_for_reuse, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
