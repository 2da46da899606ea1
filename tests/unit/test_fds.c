/* rf_fds_close_except and rf_fds_cloexec_from: with close_range, and with
 * the fallbacks, forced by a seccomp filter that refuses close_range with
 * EPERM (as container profiles older than the call do). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fds.h"

static bool
open_p (int fd)
{
  return fcntl (fd, F_GETFD) >= 0;
}

/* Runs body in a child (so closing fds costs the test runner nothing);
   with filtered, under a filter that makes close_range fail. */
static void
in_child (void (*body) (void), bool filtered)
{
  pid_t pid = fork ();
  int status;
  assert_true (pid >= 0);
  if (pid == 0)
    {
      if (filtered)
        {
          scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
          if (ctx == NULL || seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (close_range), 0) < 0
              || seccomp_load (ctx) < 0)
            _exit (3);
          if (syscall (SYS_close_range, 1000, 1000, 0) == 0 || errno != EPERM)
            _exit (4);
        }
      body ();
      _exit (0);
    }
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
}

static int fds[6];

static void
open_six (void)
{
  for (int i = 0; i < 6; i++)
    {
      fds[i] = open ("/dev/null", O_RDONLY);
      if (fds[i] < 0)
        _exit (5);
    }
}

static void
close_keep_two (void)
{
  int keep[] = { 0, 1, 2, -1, 0, 0 };
  open_six ();
  keep[4] = fds[1];
  keep[5] = fds[4];
  rf_fds_close_except (keep, 6);
  for (int i = 0; i < 6; i++)
    if (open_p (fds[i]) != (i == 1 || i == 4))
      _exit (10 + i);
  if (!open_p (0) || !open_p (1) || !open_p (2))
    _exit (20);
}

static void
cloexec_from (void)
{
  open_six ();
  if (rf_fds_cloexec_from (fds[3]) < 0)
    _exit (6);
  for (int i = 0; i < 6; i++)
    if (((fcntl (fds[i], F_GETFD) & FD_CLOEXEC) != 0) != (i >= 3))
      _exit (30 + i);
}

static void
test_close_except (void **state)
{
  in_child (close_keep_two, false);
}

static void
test_close_except_filtered (void **state)
{
  in_child (close_keep_two, true);
}

static void
test_cloexec (void **state)
{
  in_child (cloexec_from, false);
}

static void
test_cloexec_filtered (void **state)
{
  in_child (cloexec_from, true);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_close_except),
    cmocka_unit_test (test_close_except_filtered),
    cmocka_unit_test (test_cloexec),
    cmocka_unit_test (test_cloexec_filtered),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
