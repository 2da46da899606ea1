/* Sizes and durations as runc reads them (docker's RAMInBytes, Go's
 * ParseDuration), and the cgroup pieces that are pure logic: runc's v1 to
 * v2 conversions and the stats JSON with numbers past INT64_MAX. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "runtime/cgroup.h"
#include "runtime/resources.h"

static int64_t
bytes (const char *s)
{
  int64_t v = -42;
  if (rf_parse_ram_bytes (s, &v) < 0)
    return -1;
  return v;
}

static int64_t
duration (const char *s)
{
  int64_t v = -42;
  if (rf_parse_duration_ns (s, &v) < 0)
    return INT64_MIN;
  return v;
}

static void
test_ram_bytes (void **state)
{
  assert_int_equal (bytes ("0"), 0);
  assert_int_equal (bytes ("100"), 100);
  assert_int_equal (bytes ("1k"), 1024);
  assert_int_equal (bytes ("1K"), 1024);
  assert_int_equal (bytes ("64m"), 64 << 20);
  assert_int_equal (bytes ("64M"), 64 << 20);
  assert_int_equal (bytes ("64mb"), 64 << 20);
  assert_int_equal (bytes ("64MiB"), 64 << 20);
  assert_int_equal (bytes ("64 m"), 64 << 20);
  assert_int_equal (bytes ("2g"), 2LL << 30);
  assert_int_equal (bytes ("1t"), 1LL << 40);
  assert_int_equal (bytes ("1p"), 1LL << 50);
  assert_int_equal (bytes ("1.5k"), 1536);
  assert_int_equal (bytes ("0.5g"), 1LL << 29);
  assert_int_equal (bytes ("10b"), 10);
  /* Not sizes. */
  assert_int_equal (bytes (""), -1);
  assert_int_equal (bytes ("-1"), -1);
  assert_int_equal (bytes ("-5m"), -1);
  assert_int_equal (bytes ("m"), -1);
  assert_int_equal (bytes ("12x"), -1);
  assert_int_equal (bytes ("1kk"), -1);
  assert_int_equal (bytes ("1  m"), -1);
  assert_int_equal (bytes ("99999999999p"), -1);
  assert_int_equal (errno, ERANGE);
  assert_int_equal (bytes ("99999999999999999999999"), -1);
  /* What runfd's deploy once read with strtod and runf update refused: one
     grammar now, for both. */
  assert_int_equal (bytes ("512 KiB"), 512 << 10);
  assert_int_equal (bytes ("0x10m"), -1);
  assert_int_equal (bytes ("1e3m"), -1);
  assert_int_equal (bytes ("nan"), -1);
  assert_int_equal (bytes ("inf"), -1);
  assert_int_equal (bytes (" 1m"), -1);
}

static void
test_duration (void **state)
{
  assert_int_equal (duration ("0"), 0);
  assert_int_equal (duration ("1s"), 1000000000LL);
  assert_int_equal (duration ("500ms"), 500000000LL);
  assert_int_equal (duration ("2m"), 120000000000LL);
  assert_int_equal (duration ("1h30m"), 5400000000000LL);
  assert_int_equal (duration ("1.5s"), 1500000000LL);
  assert_int_equal (duration ("100us"), 100000LL);
  assert_int_equal (duration ("100\xc2\xb5s"), 100000LL);
  assert_int_equal (duration ("7ns"), 7);
  assert_int_equal (duration ("-1s"), -1000000000LL);
  assert_int_equal (duration ("+2s"), 2000000000LL);
  assert_int_equal (duration (".5s"), 500000000LL);
  /* Not durations. */
  assert_true (duration ("") == INT64_MIN);
  assert_true (duration ("5") == INT64_MIN);
  assert_true (duration ("s") == INT64_MIN);
  assert_true (duration ("1x") == INT64_MIN);
  assert_true (duration ("1s2") == INT64_MIN);
  assert_true (duration ("-") == INT64_MIN);
  assert_true (duration ("99999999999h") == INT64_MIN);
}

static int64_t
seconds (const char *s)
{
  int64_t v = -42;
  if (rf_parse_seconds_ns (s, &v) < 0)
    return INT64_MIN;
  return v;
}

static void
test_seconds (void **state)
{
  /* The duration grammar, and a bare number of seconds. */
  assert_int_equal (seconds ("2"), 2000000000LL);
  assert_int_equal (seconds ("2.5"), 2500000000LL);
  assert_int_equal (seconds ("0"), 0);
  assert_int_equal (seconds ("500ms"), 500000000LL);
  assert_int_equal (seconds ("1m30s"), 90000000000LL);
  assert_true (seconds ("nan") == INT64_MIN);
  assert_true (seconds ("inf") == INT64_MIN);
  assert_true (seconds ("1e3") == INT64_MIN);
  assert_true (seconds ("0x10") == INT64_MIN);
  assert_true (seconds ("") == INT64_MIN);
  assert_true (seconds ("soon") == INT64_MIN);
  assert_true (seconds ("3 s") == INT64_MIN);
  assert_true (seconds ("99999999999999999999") == INT64_MIN);
  assert_int_equal (errno, ERANGE);
  assert_int_equal (seconds ("-1s"), -1000000000LL);
}

static void
test_conversions (void **state)
{
  /* runc's: shares 2..262144 onto weight 1..10000, blkio 10..1000 onto
     io.weight 1..10000; 1024 shares (the default) is weight 39. */
  assert_int_equal (rf_cpu_shares_to_weight (2), 1);
  assert_int_equal (rf_cpu_shares_to_weight (1024), 39);
  assert_int_equal (rf_cpu_shares_to_weight (262144), 10000);
  assert_int_equal (rf_cpu_shares_to_weight (0), 0);
  assert_int_equal (rf_blkio_weight_to_io_weight (10), 1);
  assert_int_equal (rf_blkio_weight_to_io_weight (500), 4950);
  assert_int_equal (rf_blkio_weight_to_io_weight (1000), 10000);
}

static void
test_stats_dump (void **state)
{
  rf_cgroup_t empty = { 0 };
  rf_error_t err = NULL;
  json_t *doc;
  char *text;

  /* An unlimited v2 limit is UINT64_MAX, a number in runc's JSON. */
  doc = json_pack ("{s:s, s:I}", "limit", "\x01u64:18446744073709551615", "usage", (json_int_t) 5);
  text = rf_cgroup_json_dumps (doc);
  assert_string_equal (text, "{\"limit\":18446744073709551615,\"usage\":5}");
  free (text);
  json_decref (doc);

  assert_null (rf_cgroup_stats (&empty, &err));
  assert_non_null (err);
  rf_error_free (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_ram_bytes),
    cmocka_unit_test (test_duration),
    cmocka_unit_test (test_seconds),
    cmocka_unit_test (test_conversions),
    cmocka_unit_test (test_stats_dump),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
