/* rf_send_fds and rf_recv_fds: a message and its fds arrive together;
 * fds beyond what the receiver takes are closed, not leaked; a message
 * larger than the buffer is refused whole. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdpass.h"

static int pair[2];

static int
setup (void **state)
{
  (void) state;
  return socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair);
}

static int
teardown (void **state)
{
  (void) state;
  close (pair[0]);
  close (pair[1]);
  return 0;
}

/* The same open file: same inode. */
static void
assert_same_file (int a, int b)
{
  struct stat sa, sb;
  assert_int_equal (fstat (a, &sa), 0);
  assert_int_equal (fstat (b, &sb), 0);
  assert_true (sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev);
}

static void
test_roundtrip (void **state)
{
  int fds[2] = { pair[0], STDERR_FILENO }, got[3];
  char buf[16];
  (void) state;
  assert_int_equal (rf_send_fds (pair[0], "hello", 5, fds, 2), 0);
  assert_int_equal (rf_recv_fds (pair[1], buf, sizeof buf, got, 3), 5);
  assert_memory_equal (buf, "hello", 5);
  assert_true (got[0] >= 0 && got[1] >= 0);
  assert_int_equal (got[2], -1);
  assert_same_file (got[0], pair[0]);
  assert_same_file (got[1], STDERR_FILENO);
  assert_true (fcntl (got[0], F_GETFD) & FD_CLOEXEC);
  close (got[0]);
  close (got[1]);
  /* No fds: a plain message. */
  assert_int_equal (rf_send_fds (pair[0], "x", 1, NULL, 0), 0);
  assert_int_equal (rf_recv_fds (pair[1], buf, sizeof buf, got, 1), 1);
  assert_int_equal (got[0], -1);
  /* Nothing waiting: EAGAIN, never a block. */
  assert_int_equal (rf_recv_fds (pair[1], buf, sizeof buf, got, 1), -1);
  assert_int_equal (errno, EAGAIN);
}

static void
test_extra_fds_closed (void **state)
{
  int p[2], got[1];
  char buf[4], c;
  (void) state;
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  {
    int fds[2] = { p[0], p[1] };
    assert_int_equal (rf_send_fds (pair[0], "ab", 2, fds, 2), 0);
  }
  assert_int_equal (rf_recv_fds (pair[1], buf, sizeof buf, got, 1), 2);
  assert_true (got[0] >= 0);
  /* The write end that came second was closed by the receiver: with ours
     closed too, the read end sees EOF. */
  close (p[1]);
  close (p[0]);
  fcntl (got[0], F_SETFL, O_NONBLOCK); /* a leaked write end: EAGAIN, not a hang */
  assert_int_equal (read (got[0], &c, 1), 0);
  close (got[0]);
}

static void
test_truncated_refused (void **state)
{
  int fd = STDOUT_FILENO, got[1];
  char buf[4];
  (void) state;
  assert_int_equal (rf_send_fds (pair[0], "too long", 8, &fd, 1), 0);
  assert_int_equal (rf_recv_fds (pair[1], buf, sizeof buf, got, 1), -1);
  assert_int_equal (errno, EMSGSIZE);
  assert_int_equal (got[0], -1);
  /* More than the most fds a message carries. */
  {
    int many[RF_FDPASS_MAX + 1];
    for (size_t i = 0; i < RF_FDPASS_MAX + 1; i++)
      many[i] = STDOUT_FILENO;
    assert_int_equal (rf_send_fds (pair[0], "x", 1, many, RF_FDPASS_MAX + 1), -1);
    assert_int_equal (errno, EINVAL);
  }
}

static void
test_eof (void **state)
{
  int got[1];
  char buf[4];
  (void) state;
  close (pair[0]);
  pair[0] = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_int_equal (rf_recv_fds (pair[1], buf, sizeof buf, got, 1), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_roundtrip, setup, teardown),
    cmocka_unit_test_setup_teardown (test_extra_fds_closed, setup, teardown),
    cmocka_unit_test_setup_teardown (test_truncated_refused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_eof, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
