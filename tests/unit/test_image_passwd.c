/* The image's User against its /etc/passwd and /etc/group. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "image/passwd.h"

static const char passwd[] =
  "root:x:0:0:root:/root:/bin/sh\n"
  "# a comment\n"
  "broken line\n"
  "app:x:1000:1001:App:/home/app:/bin/sh\n"
  "nobody:x:65534:65534::/nonexistent:/bin/false\n";
static const char group[] =
  "root:x:0:\n"
  "wheel:x:10:app,other\n"
  "app:x:1001:\n"
  "audio:x:29:app\n"
  "staff:x:50:\n";

static void
test_resolve (void **state)
{
  rf_exec_user_t u;
  rf_error_t err = NULL;

  assert_int_equal (rf_user_resolve ("", passwd, group, &u, &err), 0);
  assert_int_equal (u.uid, 0);
  assert_string_equal (u.home, "/root");
  rf_exec_user_clear (&u);

  assert_int_equal (rf_user_resolve ("app", passwd, group, &u, &err), 0);
  assert_int_equal (u.uid, 1000);
  assert_int_equal (u.gid, 1001);
  assert_string_equal (u.home, "/home/app");
  assert_int_equal (u.n_groups, 2);
  assert_int_equal (u.groups[0], 10);
  assert_int_equal (u.groups[1], 29);
  rf_exec_user_clear (&u);

  assert_int_equal (rf_user_resolve ("1000:staff", passwd, group, &u, &err), 0);
  assert_int_equal (u.uid, 1000);
  assert_int_equal (u.gid, 50);
  rf_exec_user_clear (&u);

  assert_int_equal (rf_user_resolve ("4242:4343", passwd, group, &u, &err), 0);
  assert_int_equal (u.uid, 4242);
  assert_int_equal (u.gid, 4343);
  assert_null (u.home);
  rf_exec_user_clear (&u);

  assert_int_equal (rf_user_resolve ("4242", NULL, NULL, &u, &err), 0);
  assert_int_equal (u.gid, 0);
  rf_exec_user_clear (&u);
}

static void
test_errors (void **state)
{
  rf_exec_user_t u;
  rf_error_t err = NULL;
  assert_int_equal (rf_user_resolve ("ghost", passwd, group, &u, &err), -1);
  assert_non_null (strstr (err->msg, "no such user"));
  rf_error_free (&err);
  assert_int_equal (rf_user_resolve ("app:ghosts", passwd, group, &u, &err), -1);
  assert_non_null (strstr (err->msg, "no such group"));
  rf_error_free (&err);
  assert_int_equal (rf_user_resolve ("app:", passwd, group, &u, &err), -1);
  rf_error_free (&err);
  assert_int_equal (rf_user_resolve ("root", NULL, NULL, &u, &err), -1);
  rf_error_free (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_resolve),
    cmocka_unit_test (test_errors),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
