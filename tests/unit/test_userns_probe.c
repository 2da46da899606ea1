/* The rootless probe: uid_map's text, and the answer in a fresh user
 * namespace whose root is one mapped uid (as under `unshare -r`). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/userns_probe.h"

static void
test_uid_map_text (void **state)
{
  assert_true (rf_uid_map_initial_p ("         0          0 4294967295\n"));
  assert_true (rf_uid_map_initial_p ("0 0 4294967295"));
  assert_false (rf_uid_map_initial_p ("         0       1000          1\n"));
  assert_false (rf_uid_map_initial_p ("         0     100000      65536\n"));
  assert_false (rf_uid_map_initial_p ("0 0 65536\n"));
  assert_false (rf_uid_map_initial_p (""));
  assert_false (rf_uid_map_initial_p ("garbage"));
}

/* In a child: a new user namespace, its root mapped to our uid alone.
   Exit 0 when the probe says rootless there though geteuid() is 0; 77
   when user namespaces cannot be made here. */
static void
test_nested_root_is_rootless (void **state)
{
  uid_t uid = geteuid ();
  gid_t gid = getegid ();
  pid_t pid = fork ();
  int status;

  assert_true (pid >= 0);
  if (pid == 0)
    {
      char map[64];
      if (unshare (CLONE_NEWUSER) < 0)
        _exit (77);
      if (rf_write_file_at (AT_FDCWD, "/proc/self/setgroups", "deny", 4, NULL) < 0)
        _exit (3);
      snprintf (map, sizeof map, "0 %u 1", (unsigned) uid);
      if (rf_write_file_at (AT_FDCWD, "/proc/self/uid_map", map, strlen (map), NULL) < 0)
        _exit (4);
      snprintf (map, sizeof map, "0 %u 1", (unsigned) gid);
      if (rf_write_file_at (AT_FDCWD, "/proc/self/gid_map", map, strlen (map), NULL) < 0)
        _exit (5);
      if (geteuid () != 0)
        _exit (6);
      _exit (rf_userns_nested_p () && rf_rootless_p () ? 0 : 1);
    }
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  if (WEXITSTATUS (status) == 77)
    skip ();
  assert_int_equal (WEXITSTATUS (status), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_uid_map_text),
    cmocka_unit_test (test_nested_root_is_rootless),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
