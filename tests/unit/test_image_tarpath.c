/* Tar entry names and whiteouts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "image/tarpath.h"

static void
clean (const char *in, const char *want)
{
  cleanup_free char *out = NULL;
  rf_error_t err = NULL;
  if (rf_tar_path_clean (in, &out, &err) < 0)
    fail_msg ("%s: %s", in, err->msg);
  assert_string_equal (out, want);
}

static void
refuse (const char *in, const char *why)
{
  char *out = NULL;
  rf_error_t err = NULL;
  assert_int_equal (rf_tar_path_clean (in, &out, &err), -1);
  assert_null (out);
  if (strstr (err->msg, why) == NULL)
    fail_msg ("%s: expected `%s` in `%s`", in, why, err->msg);
  rf_error_free (&err);
}

static void
test_clean (void **state)
{
  clean ("a", "a");
  clean ("./a/b/", "a/b");
  clean ("a//b///c", "a/b/c");
  clean ("./", "");
  clean (".", "");
  clean ("a/./b/.", "a/b");
  clean ("...", "...");
  clean ("a/..b", "a/..b");
  clean ("a/b..", "a/b..");
}

static void
test_refuse (void **state)
{
  refuse ("../../etc/passwd", "`..` component");
  refuse ("a/../../b", "`..` component");
  refuse ("a/..", "`..` component");
  refuse ("/etc/passwd", "absolute path");
  refuse ("//x", "absolute path");
  refuse ("", "empty name");
  {
    char *long_comp = xmalloc (300);
    memset (long_comp, 'a', 299);
    long_comp[299] = '\0';
    refuse (long_comp, "longer than 255");
    free (long_comp);
  }
  {
    char *long_path = xmalloc (5000);
    for (int i = 0; i < 4999; i++)
      long_path[i] = i % 2 ? '/' : 'a';
    long_path[4999] = '\0';
    refuse (long_path, "too long");
    free (long_path);
  }
}

static void
whiteout (const char *clean_path, rf_whiteout_t want_kind, const char *want_target)
{
  rf_whiteout_t kind;
  cleanup_free char *target = NULL;
  rf_error_t err = NULL;
  assert_int_equal (rf_tar_whiteout (clean_path, &kind, &target, &err), 0);
  assert_int_equal (kind, want_kind);
  if (want_target)
    assert_string_equal (target, want_target);
  else
    assert_null (target);
}

static void
test_whiteouts (void **state)
{
  rf_whiteout_t kind;
  char *target;
  rf_error_t err = NULL;

  whiteout ("a/b", RF_WHITEOUT_NONE, NULL);
  whiteout ("a/.wh.b", RF_WHITEOUT_FILE, "a/b");
  whiteout (".wh.b", RF_WHITEOUT_FILE, "b");
  whiteout ("a/.wh..wh..opq", RF_WHITEOUT_OPAQUE, "a");
  whiteout (".wh..wh..opq", RF_WHITEOUT_OPAQUE, "");
  whiteout ("a/.wh..wh.plnk", RF_WHITEOUT_META, NULL);
  whiteout ("a/.whx", RF_WHITEOUT_NONE, NULL);
  assert_int_equal (rf_tar_whiteout ("a/.wh.", &kind, &target, &err), -1);
  rf_error_free (&err);
  assert_int_equal (rf_tar_whiteout ("a/.wh...", &kind, &target, &err), -1);
  rf_error_free (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_clean),
    cmocka_unit_test (test_refuse),
    cmocka_unit_test (test_whiteouts),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
