/* rf_inroot_open, rf_inroot_resolve and rf_inroot_mkpath: a tree with
 * symlinks that point out of the root (through ".." and absolute targets),
 * loops and missing components, each case opened through openat2, through
 * the walk by hand (forced), and through the walk under a seccomp filter
 * that makes openat2 fail with ENOSYS as a kernel without it does.  Every
 * case must land on the same file (or fail with the same errno) all three
 * ways. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/inroot.h"

static char top[] = "/tmp/runf-inroot.XXXXXX";
static int root_fd = -1;
static char *outside;

struct expect
{
  const char *path;
  int flags;
  rf_inroot_how_t how;
  const char *lands; /* relative to the root ("." for itself); NULL: fails */
  int err;           /* the errno when it fails */
};

/* top/root is the root; top/outside, beside it, holds what no open below
   the root may reach. */
static int
setup (void **state)
{
  cleanup_free char *root = NULL;
  cleanup_free char *secret = NULL;

  assert_non_null (mkdtemp (top));
  root = xasprintf ("%s/root", top);
  outside = xasprintf ("%s/outside", top);
  secret = xasprintf ("%s/secret", outside);
  assert_int_equal (mkdir (root, 0755), 0);
  assert_int_equal (mkdir (outside, 0755), 0);
  assert_int_equal (rf_write_file_atomic (secret, "s", 1, 0644, NULL), 0);
  root_fd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  assert_true (root_fd >= 0);

  assert_int_equal (mkdirat (root_fd, "etc", 0755), 0);
  assert_int_equal (mkdirat (root_fd, "etc/sub", 0755), 0);
  {
    int fd = openat (root_fd, "etc/passwd", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true (fd >= 0);
    close (fd);
  }
  assert_int_equal (symlinkat ("/etc", root_fd, "abs"), 0);
  assert_int_equal (symlinkat ("../../../../etc", root_fd, "up"), 0);
  assert_int_equal (symlinkat ("sub/../passwd", root_fd, "etc/rel"), 0);
  assert_int_equal (symlinkat ("../outside", root_fd, "dotdot_out"), 0);
  assert_int_equal (symlinkat (outside, root_fd, "abs_out"), 0);
  assert_int_equal (symlinkat ("/etc/passwd", root_fd, "etc/sub/to_file"), 0);
  assert_int_equal (symlinkat ("loop2", root_fd, "loop1"), 0);
  assert_int_equal (symlinkat ("loop1", root_fd, "loop2"), 0);
  assert_int_equal (symlinkat ("self", root_fd, "self"), 0);
  assert_int_equal (symlinkat ("nothing/here", root_fd, "dangling"), 0);
  return 0;
}

static int
teardown (void **state)
{
  close (root_fd);
  free (outside);
  return rf_rm_rf (top, NULL);
}

static const struct expect cases[] = {
  /* Plain paths, and the root itself. */
  { "/etc/passwd", O_RDONLY, RF_INROOT_FOLLOW, "etc/passwd", 0 },
  { "etc/passwd", O_RDONLY, RF_INROOT_FOLLOW, "etc/passwd", 0 },
  { "/", O_RDONLY | O_DIRECTORY, RF_INROOT_FOLLOW, ".", 0 },
  { "", O_RDONLY | O_DIRECTORY, RF_INROOT_FOLLOW, ".", 0 },
  { "/./etc/./sub/", O_PATH | O_DIRECTORY, RF_INROOT_FOLLOW, "etc/sub", 0 },
  /* An absolute target starts again at the root, not the host's "/". */
  { "/abs/passwd", O_RDONLY, RF_INROOT_FOLLOW, "etc/passwd", 0 },
  { "/abs", O_PATH | O_DIRECTORY, RF_INROOT_FOLLOW, "etc", 0 },
  { "/etc/sub/to_file", O_RDONLY, RF_INROOT_FOLLOW, "etc/passwd", 0 },
  /* ".." stops at the root, in the path and in a target. */
  { "/up/passwd", O_RDONLY, RF_INROOT_FOLLOW, "etc/passwd", 0 },
  { "/../../../etc/passwd", O_RDONLY, RF_INROOT_FOLLOW, "etc/passwd", 0 },
  { "/etc/rel", O_RDONLY, RF_INROOT_FOLLOW, "etc/passwd", 0 },
  { "/etc/sub/../../etc/passwd", O_RDONLY, RF_INROOT_FOLLOW, "etc/passwd", 0 },
  /* Targets that point out of the root find nothing inside it. */
  { "/dotdot_out/secret", O_RDONLY, RF_INROOT_FOLLOW, NULL, ENOENT },
  { "/abs_out/secret", O_RDONLY, RF_INROOT_FOLLOW, NULL, ENOENT },
  { "/../outside/secret", O_RDONLY, RF_INROOT_FOLLOW, NULL, ENOENT },
  /* Loops, missing components, a file taken for a directory. */
  { "/loop1/x", O_RDONLY, RF_INROOT_FOLLOW, NULL, ELOOP },
  { "/self", O_PATH, RF_INROOT_FOLLOW, NULL, ELOOP },
  { "/etc/nothing", O_RDONLY, RF_INROOT_FOLLOW, NULL, ENOENT },
  { "/nothing/passwd", O_RDONLY, RF_INROOT_FOLLOW, NULL, ENOENT },
  { "/dangling", O_RDONLY, RF_INROOT_FOLLOW, NULL, ENOENT },
  { "/etc/passwd/x", O_RDONLY, RF_INROOT_FOLLOW, NULL, ENOTDIR },
  { "/etc/passwd", O_RDONLY | O_DIRECTORY, RF_INROOT_FOLLOW, NULL, ENOTDIR },
  /* No symlink at all, and nothing above the root. */
  { "etc/sub", O_RDONLY | O_DIRECTORY, RF_INROOT_NO_SYMLINKS, "etc/sub", 0 },
  { "etc/sub/../passwd", O_RDONLY, RF_INROOT_NO_SYMLINKS, "etc/passwd", 0 },
  { "", O_RDONLY | O_DIRECTORY, RF_INROOT_NO_SYMLINKS, ".", 0 },
  { "abs/passwd", O_RDONLY, RF_INROOT_NO_SYMLINKS, NULL, ELOOP },
  { "etc/rel", O_RDONLY, RF_INROOT_NO_SYMLINKS, NULL, ELOOP },
  { "abs", O_PATH, RF_INROOT_NO_SYMLINKS, NULL, ELOOP },
  { "../outside", O_RDONLY | O_DIRECTORY, RF_INROOT_NO_SYMLINKS, NULL, EXDEV },
  { "etc/../../outside", O_RDONLY | O_DIRECTORY, RF_INROOT_NO_SYMLINKS, NULL, EXDEV },
  { "/etc", O_RDONLY | O_DIRECTORY, RF_INROOT_NO_SYMLINKS, NULL, EXDEV },
  { "etc/nothing", O_RDONLY, RF_INROOT_NO_SYMLINKS, NULL, ENOENT },
};

/* Checks every case; the first one that differs is reported (and fails,
   in the test runner or through a child's exit status). */
static const char *
first_wrong (char *why, size_t size)
{
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      const struct expect *c = &cases[i];
      int fd = rf_inroot_open (root_fd, c->path, c->flags, c->how);
      int saved = errno;
      struct stat got, want;

      if (c->lands == NULL)
        {
          if (fd >= 0 || saved != c->err)
            {
              snprintf (why, size, "`%s`: expected errno %d, got fd %d errno %d", c->path, c->err, fd,
                        fd >= 0 ? 0 : saved);
              if (fd >= 0)
                close (fd);
              return why;
            }
          continue;
        }
      if (fd < 0)
        {
          snprintf (why, size, "`%s`: %s", c->path, strerror (saved));
          return why;
        }
      if (fstat (fd, &got) < 0 || fstatat (root_fd, c->lands, &want, AT_SYMLINK_NOFOLLOW) < 0
          || got.st_ino != want.st_ino || got.st_dev != want.st_dev
          || (fcntl (fd, F_GETFD) & FD_CLOEXEC) == 0)
        {
          snprintf (why, size, "`%s`: not %s (or not close-on-exec)", c->path, c->lands);
          close (fd);
          return why;
        }
      close (fd);
    }
  return NULL;
}

static void
test_openat2 (void **state)
{
  char why[PATH_MAX + 200];
  const char *wrong = first_wrong (why, sizeof why);
  if (wrong)
    fail_msg ("%s", wrong);
}

static void
test_forced_fallback (void **state)
{
  char why[PATH_MAX + 200];
  const char *wrong;

  rf_inroot_force_fallback (true);
  wrong = first_wrong (why, sizeof why);
  rf_inroot_force_fallback (false);
  if (wrong)
    fail_msg ("%s", wrong);
}

/* As on a kernel without openat2: the call itself fails with ENOSYS (a
   seccomp filter, in a child so the runner keeps the call). */
static void
test_without_openat2 (void **state)
{
  int pipefd[2];
  pid_t pid;
  int status;
  char why[PATH_MAX + 200] = "";

  assert_int_equal (pipe2 (pipefd, O_CLOEXEC), 0);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
      const char *wrong;
      close (pipefd[0]);
      if (ctx == NULL || seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (openat2), 0) < 0
          || seccomp_load (ctx) < 0)
        _exit (2);
      wrong = first_wrong (why, sizeof why);
      if (wrong)
        (void) rf_write_all (pipefd[1], wrong, strlen (wrong));
      _exit (wrong ? 1 : 0);
    }
  close (pipefd[1]);
  (void) rf_read_all (pipefd[0], why, sizeof why - 1);
  close (pipefd[0]);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    fail_msg ("under the filter: %s (status %d)", why, status);
}

/* A magic link is never followed as one: /proc/self/fd/N of a pipe is
   not the pipe, with the kernel's resolution or by hand. */
static void
test_magic_link (void **state)
{
  int slash = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int pipefd[2];
  char path[64];

  assert_true (slash >= 0);
  assert_int_equal (pipe2 (pipefd, O_CLOEXEC), 0);
  snprintf (path, sizeof path, "/proc/self/fd/%d", pipefd[0]);
  for (int fallback = 0; fallback < 2; fallback++)
    {
      int fd;
      rf_inroot_force_fallback (fallback);
      fd = rf_inroot_open (slash, path, O_RDONLY, RF_INROOT_FOLLOW);
      rf_inroot_force_fallback (false);
      if (fd >= 0)
        fail_msg ("%s opened%s", path, fallback ? " by hand" : "");
    }
  close (pipefd[0]);
  close (pipefd[1]);
  close (slash);
}

static void
check_resolve (const char *path, const char *want)
{
  rf_error_t err = NULL;
  cleanup_free char *got = rf_inroot_resolve (root_fd, path, &err);
  if (got == NULL)
    fail_msg ("resolve `%s`: %s", path, err->msg);
  assert_string_equal (got, want);
}

/* What is missing is kept as written (and ".." after it undoes it). */
static void
test_resolve (void **state)
{
  rf_error_t err = NULL;

  check_resolve ("/abs/new/dir", "etc/new/dir");
  check_resolve ("/up/new/../sub", "etc/sub");
  check_resolve ("/missing/../etc/rel", "etc/passwd");
  check_resolve ("/dangling", "nothing/here");
  check_resolve ("/etc/sub/to_file/x", "etc/passwd/x");
  {
    cleanup_free char *inside = xasprintf ("%s/secret", outside + 1);
    check_resolve ("/abs_out/secret", inside);
  }
  check_resolve ("/", "");
  assert_null (rf_inroot_resolve (root_fd, "/loop1/x", &err));
  assert_int_equal (err->code, ELOOP);
  rf_error_free (&err);
}

/* Lands on `want` (relative to the root), which is of the kind asked for. */
static void
check_mkpath (const char *path, bool dir, const char *want)
{
  rf_error_t err = NULL;
  struct stat got, there;
  int fd = rf_inroot_mkpath (root_fd, path, dir, &err);
  if (fd < 0)
    fail_msg ("mkpath `%s`: %s", path, err->msg);
  assert_int_equal (fstat (fd, &got), 0);
  close (fd);
  assert_int_equal (fstatat (root_fd, want, &there, AT_SYMLINK_NOFOLLOW), 0);
  assert_int_equal (got.st_ino, there.st_ino);
  assert_true (dir ? S_ISDIR (there.st_mode) : S_ISREG (there.st_mode));
  if (!dir)
    assert_int_equal (there.st_size, 0);
}

/* What is missing is made inside the root, where the path resolves;
   targets that point out of it make their components inside. */
static void
mkpath_cases (void)
{
  rf_error_t err = NULL;
  cleanup_free char *inside = xasprintf ("%s/made_out", outside + 1);
  cleanup_free char *host_side = xasprintf ("%s/made_out", outside);

  check_mkpath ("/etc/passwd", false, "etc/passwd");
  check_mkpath ("/abs/made/dir", true, "etc/made/dir");
  check_mkpath ("/up/made/file", false, "etc/made/file");
  check_mkpath ("/etc/sub/../made/deeper/", true, "etc/made/deeper");
  check_mkpath ("/abs_out/made_out", true, inside);
  assert_int_equal (access (host_side, F_OK), -1);
  assert_int_equal (rf_inroot_mkpath (root_fd, "/loop1/made", true, &err), -1);
  assert_int_equal (err->code, ELOOP);
  rf_error_free (&err);
  /* A file where a directory is asked for on the way. */
  assert_int_equal (rf_inroot_mkpath (root_fd, "/etc/passwd/made", true, &err), -1);
  rf_error_free (&err);
}

static void
test_mkpath (void **state)
{
  mkpath_cases ();
  /* Again by hand: what exists now is found, the rest made. */
  rf_inroot_force_fallback (true);
  check_mkpath ("/abs/made/dir", true, "etc/made/dir");
  check_mkpath ("/abs/made/again", false, "etc/made/again");
  rf_inroot_force_fallback (false);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_openat2),
    cmocka_unit_test (test_forced_fallback),
    cmocka_unit_test (test_without_openat2),
    cmocka_unit_test (test_magic_link),
    cmocka_unit_test (test_resolve),
    cmocka_unit_test (test_mkpath),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
