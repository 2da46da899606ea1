/* The pure parts of the systemd cgroup driver: which unit and slice a
 * cgroupsPath names, the properties systemd gets for linux.resources (the
 * names and values runc sets, by cgroup version and systemd version), the
 * AllowedCPUs bit mask, systemd's version number.  Talking to systemd is
 * tested in the VM (tests/integration/runtime/cgroups_systemd.bats). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "runtime/cgroup_systemd.h"
#include "runtime/resources.h"

static void
expect_unit (const char *path, bool rootless, const char *slice, const char *unit)
{
  char *s = NULL, *u = NULL;
  rf_error_t err = NULL;
  assert_int_equal (rf_systemd_unit_for (path, "c1", rootless, &s, &u, &err), 0);
  assert_string_equal (s, slice);
  assert_string_equal (u, unit);
  free (s);
  free (u);
}

static void
expect_bad_unit (const char *path, const char *words)
{
  char *s = NULL, *u = NULL;
  rf_error_t err = NULL;
  assert_int_equal (rf_systemd_unit_for (path, "c1", false, &s, &u, &err), -1);
  assert_null (s);
  assert_null (u);
  assert_non_null (strstr (err->msg, "linux.cgroupsPath"));
  if (strstr (err->msg, words) == NULL)
    fail_msg ("`%s`: `%s` not in `%s`", path, words, err->msg);
  rf_error_free (&err);
}

static void
test_unit_names (void **state)
{
  expect_unit (NULL, false, "system.slice", "runf-c1.scope");
  expect_unit ("", true, "user.slice", "runf-c1.scope");
  expect_unit ("machine.slice:libpod:abc", false, "machine.slice", "libpod-abc.scope");
  expect_unit (":crio:abc", true, "user.slice", "crio-abc.scope");
  expect_unit ("kubepods-burstable-pod1.slice::abc", false, "kubepods-burstable-pod1.slice", "abc.scope");
  expect_unit ("-.slice:p:n", false, "-.slice", "p-n.scope");

  expect_bad_unit ("/a/b", "slice:prefix:name");
  expect_bad_unit ("a/b", "slice:prefix:name");
  expect_bad_unit ("a.slice:b", "slice:prefix:name");
  expect_bad_unit ("a.slice:p:n:x", "slice:prefix:name");
  expect_bad_unit ("a.slice:p:n.slice", "not supported");
  expect_bad_unit ("a.slice:p:x+y", "`p-x+y.scope` is not a valid systemd unit name");
  expect_bad_unit ("a+b.slice:p:n", "`a+b.slice` is not a valid systemd unit name");
  expect_bad_unit ("nodots:p:n", "not a systemd slice name");
  expect_bad_unit ("a.slice:p:x/y", "not slice:prefix:name");
}

static void
expect_mask (const char *list, const uint8_t *bytes, size_t n)
{
  cleanup_free uint8_t *mask = NULL;
  size_t len;
  rf_error_t err = NULL;
  assert_int_equal (rf_systemd_cpu_mask (list, &mask, &len, &err), 0);
  assert_int_equal (len, n);
  assert_memory_equal (mask, bytes, n);
}

static void
test_cpu_masks (void **state)
{
  static const char *const bad[] = { "a", "1,", "1-", "-1", "2-1", "1,,2", "0 1", "8192" };
  expect_mask ("0", (const uint8_t[]){ 0x01 }, 1);
  expect_mask ("0-2,9", (const uint8_t[]){ 0x07, 0x02 }, 2);
  expect_mask ("7,8", (const uint8_t[]){ 0x80, 0x01 }, 2);
  expect_mask ("16", (const uint8_t[]){ 0, 0, 0x01 }, 3);
  expect_mask ("3,1-2,1", (const uint8_t[]){ 0x0e }, 1);
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      uint8_t *mask = (uint8_t *) "x";
      size_t len = 7;
      rf_error_t err = NULL;
      assert_int_equal (rf_systemd_cpu_mask (bad[i], &mask, &len, &err), -1);
      assert_null (mask);
      assert_int_equal (len, 0);
      assert_non_null (strstr (err->msg, bad[i]));
      rf_error_free (&err);
    }
}

static void
test_versions (void **state)
{
  assert_int_equal (rf_systemd_parse_version ("252.38-1~deb12u1"), 252);
  assert_int_equal (rf_systemd_parse_version ("255"), 255);
  assert_int_equal (rf_systemd_parse_version ("v241-rc1"), 241);
  assert_int_equal (rf_systemd_parse_version (""), 0);
  assert_int_equal (rf_systemd_parse_version (NULL), 0);
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

/* The property named `name`, or NULL. */
static const rf_unit_prop_t *
find (const rf_unit_prop_t *p, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (p[i].name, name) == 0)
      return &p[i];
  return NULL;
}

static void
expect_t (const rf_unit_prop_t *p, size_t n, const char *name, uint64_t value)
{
  const rf_unit_prop_t *q = find (p, n, name);
  if (q == NULL)
    fail_msg ("no %s", name);
  assert_int_equal (q->type, 't');
  assert_int_equal (q->t, value);
}

static void
test_props (void **state)
{
  rf_resources_t res;
  rf_unit_prop_t *p;
  size_t n;
  rf_error_t err = NULL;
  const rf_unit_prop_t *cpus;

  parse ("{\"memory\": {\"limit\": 67108864, \"swap\": 134217728, \"reservation\": 33554432},"
         " \"cpu\": {\"shares\": 1024, \"quota\": 15500, \"period\": 100000, \"cpus\": \"0-1,9\","
         " \"mems\": \"0\"}, \"pids\": {\"limit\": 50}, \"blockIO\": {\"weight\": 500}}",
         &res);
  assert_int_equal (rf_systemd_resource_props (&res, true, 252, &p, &n, &err), 0);
  assert_int_equal (n, 10);
  expect_t (p, n, "MemoryMax", 67108864);
  expect_t (p, n, "MemoryLow", 33554432);
  /* Swap alone, as memory.swap.max. */
  expect_t (p, n, "MemorySwapMax", 67108864);
  expect_t (p, n, "CPUWeight", rf_cpu_shares_to_weight (1024));
  /* 155 ms a second, up to whole percent. */
  expect_t (p, n, "CPUQuotaPerSecUSec", 160000);
  expect_t (p, n, "CPUQuotaPeriodUSec", 100000);
  expect_t (p, n, "TasksMax", 50);
  expect_t (p, n, "IOWeight", rf_blkio_weight_to_io_weight (500));
  cpus = find (p, n, "AllowedCPUs");
  assert_non_null (cpus);
  assert_int_equal (cpus->type, 'y');
  assert_int_equal (cpus->n_bytes, 2);
  assert_int_equal (cpus->bytes[0], 0x03);
  assert_int_equal (cpus->bytes[1], 0x02);
  assert_non_null (find (p, n, "AllowedMemoryNodes"));
  rf_unit_props_free (p, n);

  /* Before 244 no cpuset, before 242 no period. */
  assert_int_equal (rf_systemd_resource_props (&res, true, 241, &p, &n, &err), 0);
  assert_null (find (p, n, "AllowedCPUs"));
  assert_null (find (p, n, "AllowedMemoryNodes"));
  assert_null (find (p, n, "CPUQuotaPeriodUSec"));
  expect_t (p, n, "CPUQuotaPerSecUSec", 160000);
  rf_unit_props_free (p, n);

  /* v1: runc's v1 names, no swap, no reservation, no cpuset. */
  assert_int_equal (rf_systemd_resource_props (&res, false, 252, &p, &n, &err), 0);
  expect_t (p, n, "MemoryLimit", 67108864);
  expect_t (p, n, "CPUShares", 1024);
  expect_t (p, n, "BlockIOWeight", 500);
  expect_t (p, n, "TasksMax", 50);
  assert_null (find (p, n, "MemoryMax"));
  assert_null (find (p, n, "MemorySwapMax"));
  assert_null (find (p, n, "MemoryLow"));
  assert_null (find (p, n, "AllowedCPUs"));
  rf_unit_props_free (p, n);
  rf_resources_clear (&res);

  /* -1 is infinity; a quota of -1 lifts it. */
  parse ("{\"memory\": {\"limit\": -1, \"swap\": -1}, \"cpu\": {\"quota\": -1}, \"pids\": {\"limit\": -1}}",
         &res);
  assert_int_equal (rf_systemd_resource_props (&res, true, 252, &p, &n, &err), 0);
  assert_int_equal (n, 4);
  expect_t (p, n, "MemoryMax", RF_SYSTEMD_INFINITY);
  expect_t (p, n, "MemorySwapMax", RF_SYSTEMD_INFINITY);
  expect_t (p, n, "CPUQuotaPerSecUSec", RF_SYSTEMD_INFINITY);
  expect_t (p, n, "TasksMax", RF_SYSTEMD_INFINITY);
  rf_unit_props_free (p, n);
  rf_resources_clear (&res);

  /* A quota without a period is per the default 100 ms; nothing set gives
     nothing. */
  parse ("{\"cpu\": {\"quota\": 50000}}", &res);
  assert_int_equal (rf_systemd_resource_props (&res, true, 252, &p, &n, &err), 0);
  assert_int_equal (n, 1);
  expect_t (p, n, "CPUQuotaPerSecUSec", 500000);
  rf_unit_props_free (p, n);
  rf_resources_clear (&res);
  parse ("{}", &res);
  assert_int_equal (rf_systemd_resource_props (&res, true, 252, &p, &n, &err), 0);
  assert_int_equal (n, 0);
  rf_unit_props_free (p, n);
  rf_resources_clear (&res);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_unit_names),
    cmocka_unit_test (test_cpu_masks),
    cmocka_unit_test (test_versions),
    cmocka_unit_test (test_props),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
