/* Ids, signals, the state file and resolving paths inside a rootfs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runtime/container.h"
#include "common/inroot.h"
#include "runtime/state.h"

static void
test_ids (void **state)
{
  assert_true (rf_id_valid_p ("abc"));
  assert_true (rf_id_valid_p ("a.b-c_d+e"));
  assert_true (rf_id_valid_p ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
  assert_false (rf_id_valid_p (""));
  assert_false (rf_id_valid_p ("."));
  assert_false (rf_id_valid_p (".."));
  assert_false (rf_id_valid_p ("../x"));
  assert_false (rf_id_valid_p ("a/b"));
  assert_false (rf_id_valid_p ("a b"));
  assert_false (rf_id_valid_p ("a\nb"));
  assert_false (rf_id_valid_p (NULL));
}

static void
test_id_error_is_one_line (void **state)
{
  rf_error_t err = NULL;
  assert_int_equal (rf_id_check ("a\nb", &err), -1);
  assert_null (strchr (err->msg, '\n'));
  rf_error_free (&err);
}

static void
test_signals (void **state)
{
  assert_int_equal (rf_signal_parse ("KILL"), SIGKILL);
  assert_int_equal (rf_signal_parse ("SIGKILL"), SIGKILL);
  assert_int_equal (rf_signal_parse ("sigterm"), SIGTERM);
  assert_int_equal (rf_signal_parse ("9"), 9);
  assert_int_equal (rf_signal_parse ("RTMIN+2"), SIGRTMIN + 2);
  assert_int_equal (rf_signal_parse ("SIGRTMAX-1"), SIGRTMAX - 1);
  assert_int_equal (rf_signal_parse ("0"), -1);
  assert_int_equal (rf_signal_parse ("99"), -1);
  assert_int_equal (rf_signal_parse ("NOPE"), -1);
  assert_int_equal (rf_signal_parse (""), -1);
}

static void
test_state_roundtrip (void **state)
{
  char dir[] = "/tmp/runf-unit.XXXXXX";
  rf_error_t err = NULL;
  char *ann[] = { "k", "v", NULL };
  rf_state_t st = { .id = "c1", .pid = getpid (), .bundle = "/b", .rootfs = "/b/r",
                    .created = "2024-01-01T00:00:00Z", .owner = 0, .annotations = ann,
                    .own_pidns = true };
  rf_state_t back;
  cleanup_free char *cdir = NULL;

  assert_non_null (mkdtemp (dir));
  cdir = rf_state_dir (dir, "c1");
  assert_int_equal (mkdir (cdir, 0700), 0);
  st.start_time = rf_proc_start_time (getpid (), NULL);
  st.mnt_ns = rf_proc_mnt_ns (getpid ());
  assert_int_equal (rf_state_write (cdir, &st, &err), 0);
  assert_int_equal (rf_state_read (dir, "c1", &back, &err), 0);
  assert_int_equal (back.pid, getpid ());
  assert_string_equal (back.bundle, "/b");
  assert_string_equal (back.annotations[1], "v");
  assert_true (back.own_pidns);
  assert_true (rf_state_alive_p (&back));
  assert_int_equal (rf_state_status (dir, &back), RF_STATUS_RUNNING);
  back.start_time++;
  assert_false (rf_state_alive_p (&back));
  assert_int_equal (rf_state_status (dir, &back), RF_STATUS_STOPPED);
  /* No unit: made through cgroupfs. */
  assert_null (back.cgroup.unit);
  rf_state_clear (&back);

  /* A cgroup systemd made: later commands find its unit and manager. */
  st.cgroup.unit = (char *) "runf-c1.scope";
  st.cgroup.unit_user = true;
  assert_int_equal (rf_state_write (cdir, &st, &err), 0);
  assert_int_equal (rf_state_read (dir, "c1", &back, &err), 0);
  assert_string_equal (back.cgroup.unit, "runf-c1.scope");
  assert_true (back.cgroup.unit_user);
  rf_state_clear (&back);
  assert_int_equal (rf_state_read (dir, "nope", &back, &err), -1);
  assert_non_null (strstr (err->msg, "does not exist"));
  rf_error_free (&err);
  assert_int_equal (rf_rm_rf (dir, &err), 0);
}

static void
check_resolve (int root, const char *path, const char *want)
{
  rf_error_t err = NULL;
  cleanup_free char *got = rf_inroot_resolve (root, path, &err);
  assert_non_null (got);
  assert_string_equal (got, want);
}

static void
test_resolve_stays_in_root (void **state)
{
  char dir[] = "/tmp/runf-unit.XXXXXX";
  rf_error_t err = NULL;
  int root;

  assert_non_null (mkdtemp (dir));
  root = open (dir, O_PATH | O_DIRECTORY);
  assert_true (root >= 0);
  assert_int_equal (mkdirat (root, "etc", 0755), 0);
  assert_int_equal (symlinkat ("/etc", root, "abs"), 0);
  assert_int_equal (symlinkat ("../../../../etc", root, "up"), 0);
  assert_int_equal (symlinkat ("etc/../etc", root, "rel"), 0);
  assert_int_equal (symlinkat ("loop2", root, "loop1"), 0);
  assert_int_equal (symlinkat ("loop1", root, "loop2"), 0);

  check_resolve (root, "/etc/passwd", "etc/passwd");
  check_resolve (root, "/abs/passwd", "etc/passwd");
  check_resolve (root, "/up/passwd", "etc/passwd");
  check_resolve (root, "/rel/passwd", "etc/passwd");
  check_resolve (root, "/../../x", "x");
  check_resolve (root, "/./etc/./", "etc");
  check_resolve (root, "/", "");
  assert_null (rf_inroot_resolve (root, "/loop1/x", &err));
  rf_error_free (&err);

  /* The same, through the fallback opener and mkpath. */
  rf_inroot_force_fallback (true);
  {
    int fd = rf_inroot_mkpath (root, "/abs/new/dir", true, &err);
    struct stat st;
    assert_true (fd >= 0);
    close (fd);
    assert_int_equal (fstatat (root, "etc/new/dir", &st, 0), 0);
    fd = rf_inroot_mkpath (root, "/up/file", false, &err);
    assert_true (fd >= 0);
    close (fd);
    assert_int_equal (fstatat (root, "etc/file", &st, 0), 0);
    assert_true (S_ISREG (st.st_mode));
  }
  rf_inroot_force_fallback (false);
  {
    int fd = rf_inroot_mkpath (root, "/abs/other", true, &err);
    struct stat st;
    assert_true (fd >= 0);
    close (fd);
    assert_int_equal (fstatat (root, "etc/other", &st, 0), 0);
  }
  close (root);
  assert_int_equal (rf_rm_rf (dir, &err), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_ids),
    cmocka_unit_test (test_id_error_is_one_line),
    cmocka_unit_test (test_signals),
    cmocka_unit_test (test_state_roundtrip),
    cmocka_unit_test (test_resolve_stays_in_root),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
