/* The pure parts of the systemd cgroup driver: which unit and slice a
 * cgroupsPath names, the properties systemd gets for linux.resources (the
 * names and values runc sets, by cgroup version and systemd version), the
 * AllowedCPUs bit mask, systemd's version number, the properties of
 * org.systemd.property.* annotations (GVariant's text form).  Talking to systemd is
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
  /* A slice of its own: the prefix unused, the slice its Wants=. */
  expect_unit ("kubepods-burstable.slice:p:kubepods-burstable-pod1.slice", false,
               "kubepods-burstable.slice", "kubepods-burstable-pod1.slice");
  expect_unit ("::solo.slice", true, "user.slice", "solo.slice");

  expect_bad_unit ("/a/b", "slice:prefix:name");
  expect_bad_unit ("a/b", "slice:prefix:name");
  expect_bad_unit ("a.slice:b", "slice:prefix:name");
  expect_bad_unit ("a.slice:p:n:x", "slice:prefix:name");
  expect_bad_unit ("a.slice:p:-.slice", "the root slice");
  expect_bad_unit ("a.slice:p:a--b.slice", "`a--b.slice` is not a systemd slice name");
  expect_bad_unit ("a.slice:p:b-.slice", "`b-.slice` is not a systemd slice name");
  expect_bad_unit ("a.slice:p:x+y.slice", "`x+y.slice` is not a valid systemd unit name");
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
  assert_string_equal (q->sig, "t");
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
  assert_string_equal (cpus->sig, "ay");
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

/* One value in GVariant's text form, of signature sig. */
static rf_unit_prop_t
parsed (const char *text, const char *sig)
{
  rf_unit_prop_t v;
  const char *why = NULL;
  size_t at = 0;
  if (rf_gvariant_parse (text, &v, &why, &at) < 0)
    fail_msg ("`%s`: %s at %zu", text, why, at);
  assert_string_equal (v.sig, sig);
  return v;
}

static void
expect_bad_value (const char *text, const char *words, size_t where)
{
  rf_unit_prop_t v;
  const char *why = NULL;
  size_t at = 0;
  assert_int_equal (rf_gvariant_parse (text, &v, &why, &at), -1);
  assert_null (v.s_owned);
  assert_null (v.strv);
  if (strstr (why, words) == NULL)
    fail_msg ("`%s`: `%s` not in `%s`", text, words, why);
  if (at != where)
    fail_msg ("`%s`: at %zu, not %zu (%s)", text, at, where, why);
}

static void
test_gvariant (void **state)
{
  rf_unit_prop_t v;
  (void) state;

  assert_true (parsed ("true", "b").b);
  assert_false (parsed (" false ", "b").b);
  assert_true (parsed ("boolean true", "b").b);
  v = parsed ("'inactive-or-failed'", "s");
  assert_string_equal (v.s, "inactive-or-failed");
  rf_unit_props_free_values (&v, 1);
  v = parsed ("\"it's \\\\ \\\"q\\\" \\n\"", "s");
  assert_string_equal (v.s, "it's \\ \"q\" \n");
  rf_unit_props_free_values (&v, 1);
  v = parsed ("string 'x'", "s");
  rf_unit_props_free_values (&v, 1);
  /* Numbers: int32 unless typed; double with a point or an exponent. */
  assert_int_equal (parsed ("42", "i").x, 42);
  assert_int_equal (parsed ("-7", "i").x, -7);
  assert_int_equal (parsed ("0x10", "i").x, 16);
  assert_true (parsed ("1.5", "d").d == 1.5);
  assert_true (parsed ("2e3", "d").d == 2000);
  assert_int_equal (parsed ("uint64 123456789", "t").t, 123456789);
  assert_int_equal (parsed ("@t 18446744073709551615", "t").t, UINT64_MAX);
  assert_int_equal (parsed ("int64 -9223372036854775808", "x").x, INT64_MIN);
  assert_int_equal (parsed ("uint32 4294967295", "u").t, UINT32_MAX);
  assert_int_equal (parsed ("byte 255", "y").t, 255);
  assert_int_equal (parsed ("int16 -32768", "n").x, -32768);
  assert_int_equal (parsed ("@q 65535", "q").t, 65535);
  assert_true (parsed ("double 3", "d").d == 3);
  v = parsed ("['a.service', \"b.service\"]", "as");
  assert_string_equal (v.strv[0], "a.service");
  assert_string_equal (v.strv[1], "b.service");
  assert_null (v.strv[2]);
  rf_unit_props_free_values (&v, 1);
  v = parsed ("@as []", "as");
  assert_null (v.strv[0]);
  rf_unit_props_free_values (&v, 1);

  expect_bad_value ("", "not a value", 0);
  expect_bad_value ("yes", "not a value", 0);
  expect_bad_value ("'open", "closing quote", 5);
  expect_bad_value ("'a\\qb'", "escape", 2);
  expect_bad_value ("uint64 -1", "range", 7);
  expect_bad_value ("byte 256", "range", 5);
  expect_bad_value ("int32 2147483648", "range", 6);
  expect_bad_value ("uint64 1.5", "fraction", 7);
  expect_bad_value ("uint64 'x'", "a string where", 7);
  expect_bad_value ("string 5", "not a value of the type", 7);
  expect_bad_value ("@au [1]", "type runf does not take", 1);
  expect_bad_value ("[1, 2]", "something else than strings", 1);
  expect_bad_value ("['a' 'b']", "commas", 5);
  expect_bad_value ("['a'", "closing `]`", 4);
  expect_bad_value ("[", "closing `]`", 1);
  expect_bad_value ("5 6", "after the value", 2);
  expect_bad_value ("1e999", "not a double", 0);
}

/* The annotations as rf_spec_t has them. */
static void
test_annotation_props (void **state)
{
  char *good[] = { "org.opencontainers.image.title", "ignored",
                   "org.systemd.property.TimeoutStopUSec", "uint64 123456789",
                   "org.systemd.property.CollectMode", "'inactive-or-failed'",
                   "org.systemd.property.TimeoutStopSec", "2.5",
                   "org.systemd.property.RuntimeMaxSec", "uint64 7",
                   "org.systemd.property.Wants", "['a.service']",
                   NULL };
  rf_unit_prop_t *p;
  size_t n;
  rf_error_t err = NULL;
  (void) state;

  assert_int_equal (rf_systemd_annotation_props (good, &p, &n, &err), 0);
  assert_int_equal (n, 5);
  assert_string_equal (p[0].name, "TimeoutStopUSec");
  assert_string_equal (p[0].sig, "t");
  assert_int_equal (p[0].t, 123456789);
  assert_string_equal (p[1].name, "CollectMode");
  assert_string_equal (p[1].s, "inactive-or-failed");
  /* NAMESec: seconds, as NAMEUSec in microseconds. */
  assert_string_equal (p[2].name, "TimeoutStopUSec");
  assert_string_equal (p[2].sig, "t");
  assert_int_equal (p[2].t, 2500000);
  assert_string_equal (p[3].name, "RuntimeMaxUSec");
  assert_int_equal (p[3].t, 7000000);
  assert_string_equal (p[4].sig, "as");
  rf_unit_props_free (p, n);

  assert_int_equal (rf_systemd_annotation_props (NULL, &p, &n, &err), 0);
  assert_int_equal (n, 0);

  {
    char *bad_name[] = { "org.systemd.property.Time-Out", "1", NULL };
    char *bad_value[] = { "org.systemd.property.CollectMode", "inactive", NULL };
    char *bad_sec[] = { "org.systemd.property.TimeoutStopSec", "'soon'", NULL };
    char *negative_sec[] = { "org.systemd.property.TimeoutStopSec", "-1", NULL };
    char *empty[] = { "org.systemd.property.", "1", NULL };
    struct { char **a; const char *words; } cases[] = {
      { bad_name, "`Time-Out` is not a systemd property name" },
      { bad_value, "annotations.org.systemd.property.CollectMode: value `inactive`, at byte 0" },
      { bad_sec, "seconds" },
      { negative_sec, "seconds" },
      { empty, "is not a systemd property name" },
    };
    for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
      {
        p = (rf_unit_prop_t *) 1;
        assert_int_equal (rf_systemd_annotation_props (cases[i].a, &p, &n, &err), -1);
        assert_null (p);
        assert_int_equal (n, 0);
        if (strstr (err->msg, cases[i].words) == NULL)
          fail_msg ("`%s`: `%s` not in `%s`", cases[i].a[1], cases[i].words, err->msg);
        rf_error_free (&err);
      }
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_unit_names),
    cmocka_unit_test (test_cpu_masks),
    cmocka_unit_test (test_versions),
    cmocka_unit_test (test_props),
    cmocka_unit_test (test_gvariant),
    cmocka_unit_test (test_annotation_props),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
