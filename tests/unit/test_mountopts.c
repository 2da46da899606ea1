/* Mount options to flags, propagation and file-system data. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/mount.h>
#include <string.h>
#include <sys/mount.h>

#include "runtime/spec.h"

static void
parse (rf_mount_t *m, char **opts)
{
  rf_error_t err = NULL;
  memset (m, 0, sizeof *m);
  assert_int_equal (rf_mount_parse_options (m, opts, "mounts[0]", &err), 0);
  assert_null (err);
}

static void
test_flags_and_data (void **state)
{
  rf_mount_t m;
  char *opts[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", "ro", NULL };
  parse (&m, opts);
  assert_int_equal (m.flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY);
  assert_string_equal (m.data, "mode=1777,size=65536k");
  assert_false (m.bind);
  free (m.data);
}

static void
test_later_options_win (void **state)
{
  rf_mount_t m;
  char *opts[] = { "ro", "rw", "nosuid", "suid", "noexec", NULL };
  parse (&m, opts);
  assert_int_equal (m.flags, MS_NOEXEC);
  assert_int_equal (m.clear_flags & (MS_RDONLY | MS_NOSUID), MS_RDONLY | MS_NOSUID);
  assert_null (m.data);
}

static void
test_bind_and_propagation (void **state)
{
  rf_mount_t m;
  char *opts[] = { "rbind", "rslave", NULL };
  char *opts2[] = { "bind", "shared", NULL };
  parse (&m, opts);
  assert_true (m.bind);
  assert_true (m.recursive);
  assert_int_equal (m.propagation, MS_SLAVE | MS_REC);
  parse (&m, opts2);
  assert_true (m.bind);
  assert_false (m.recursive);
  assert_int_equal (m.propagation, MS_SHARED);
}

static void
test_recursive_attributes (void **state)
{
  rf_mount_t m;
  char *opts[] = { "rro", "rnosuid", "rnoatime", NULL };
  parse (&m, opts);
  assert_int_equal (m.attr_set & MOUNT_ATTR_RDONLY, MOUNT_ATTR_RDONLY);
  assert_int_equal (m.attr_set & MOUNT_ATTR_NOSUID, MOUNT_ATTR_NOSUID);
  assert_int_equal (m.attr_set & MOUNT_ATTR__ATIME, MOUNT_ATTR_NOATIME);
  assert_int_equal (m.attr_clr & MOUNT_ATTR__ATIME, MOUNT_ATTR__ATIME);
  assert_int_equal (m.flags, 0);
}

static void
test_bad_options (void **state)
{
  rf_mount_t m;
  rf_error_t err = NULL;
  char *idmap[] = { "idmap", NULL };
  char *comma[] = { "ro,nosuid", NULL };
  memset (&m, 0, sizeof m);
  assert_int_equal (rf_mount_parse_options (&m, idmap, "mounts[3]", &err), -1);
  assert_non_null (strstr (err->msg, "mounts[3].options: `idmap`"));
  rf_error_free (&err);
  assert_int_equal (rf_mount_parse_options (&m, comma, "mounts[1]", &err), -1);
  assert_non_null (strstr (err->msg, "one option per entry"));
  rf_error_free (&err);
}

/* What `runf features` lists: every name is an option runf applies, none
   goes to the file system as data. */
static void
test_every_named_option_is_known (void **state)
{
  size_t i;
  for (i = 0; rf_mount_option_name (i); i++)
    {
      rf_mount_t m;
      char *opts[] = { (char *) rf_mount_option_name (i), NULL };
      parse (&m, opts);
      if (m.data != NULL)
        fail_msg ("`%s` went to the data string", opts[0]);
    }
  assert_true (i > 50);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_every_named_option_is_known),
    cmocka_unit_test (test_flags_and_data),
    cmocka_unit_test (test_later_options_win),
    cmocka_unit_test (test_bind_and_propagation),
    cmocka_unit_test (test_recursive_attributes),
    cmocka_unit_test (test_bad_options),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
