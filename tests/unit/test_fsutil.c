/* The one reader of whole files (rf_read_fd, rf_read_file_at): a file
 * larger than the first buffer read whole, the size limit at its byte,
 * and the errors naming the file where there is one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"

static char dir[] = "/tmp/test_fsutil.XXXXXX";
static char path[sizeof dir + 16];

/* A file of n bytes, byte i being 'a' + i % 26. */
static void
write_file (size_t n)
{
  cleanup_free char *buf = xmalloc (n);
  for (size_t i = 0; i < n; i++)
    buf[i] = (char) ('a' + i % 26);
  assert_int_equal (rf_write_file_atomic (path, buf, n, 0600, NULL), 0);
}

static int
setup (void **state)
{
  if (mkdtemp (dir) == NULL)
    return -1;
  snprintf (path, sizeof path, "%s/file", dir);
  return 0;
}

static int
teardown (void **state)
{
  return rf_rm_rf (dir, NULL);
}

static void
test_whole_file (void **state)
{
  /* Several times the first buffer, and one byte short of a doubling. */
  size_t sizes[] = { 0, 1, 8191, 8192, 100000 };
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
    {
      cleanup_free char *text = NULL;
      cleanup_free char *again = NULL;
      cleanup_close int fd = -1;
      size_t len = 1;
      write_file (sizes[k]);
      assert_int_equal (rf_read_file_at (AT_FDCWD, path, 0, &text, &len, NULL), 0);
      assert_int_equal (len, sizes[k]);
      assert_int_equal (text[len], '\0');
      for (size_t i = 0; i < len; i++)
        assert_int_equal (text[i], 'a' + i % 26);
      fd = open (path, O_RDONLY | O_CLOEXEC);
      assert_true (fd >= 0);
      assert_int_equal (rf_read_fd (fd, 0, &again, NULL, NULL), 0);
      assert_memory_equal (again, text, len + 1);
    }
}

static void
test_what_is_left_of_fd (void **state)
{
  cleanup_free char *text = NULL;
  cleanup_close int fd = -1;
  size_t len;
  write_file (30);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  assert_int_equal (lseek (fd, 26, SEEK_SET), 26);
  assert_int_equal (rf_read_fd (fd, 0, &text, &len, NULL), 0);
  assert_int_equal (len, 4);
  assert_string_equal (text, "abcd");
}

static void
test_limit (void **state)
{
  cleanup_free char *text = NULL;
  cleanup_free char *line = NULL;
  cleanup_close int fd = -1;
  cleanup_error rf_error_t err = NULL;
  cleanup_error rf_error_t fd_err = NULL;
  cleanup_free char *expected = NULL;

  write_file (10000);
  /* At the limit it is read; one byte over, refused, nothing returned. */
  assert_int_equal (rf_read_file_at (AT_FDCWD, path, 10000, &text, NULL, NULL), 0);
  free (text);
  text = NULL;
  assert_int_equal (rf_read_file_at (AT_FDCWD, path, 9999, &text, NULL, &err), -1);
  assert_null (text);
  assert_int_equal (err->code, EFBIG);
  expected = xasprintf ("read `%s`: larger than 9999 bytes", path);
  assert_string_equal (err->msg, expected);

  fd = open (path, O_RDONLY | O_CLOEXEC);
  assert_int_equal (rf_read_fd (fd, 9999, &text, NULL, &fd_err), -1);
  assert_null (text);
  line = rf_error_text (fd_err);
  assert_string_equal (line, "larger than 9999 bytes");
}

static void
test_errors_name_the_file (void **state)
{
  cleanup_free char *text = NULL;
  cleanup_free char *missing = xasprintf ("%s/missing", dir);
  cleanup_free char *expected = xasprintf ("open `%s`", missing);
  cleanup_error rf_error_t err = NULL;
  cleanup_error rf_error_t dir_err = NULL;
  cleanup_error rf_error_t fd_err = NULL;
  cleanup_close int fd = -1;

  assert_int_equal (rf_read_file_at (AT_FDCWD, missing, 0, &text, NULL, &err), -1);
  assert_int_equal (err->code, ENOENT);
  assert_string_equal (err->msg, expected);

  /* A directory opens, and fails at the read. */
  free (expected);
  expected = xasprintf ("read `%s`", dir);
  assert_int_equal (rf_read_file_at (AT_FDCWD, dir, 0, &text, NULL, &dir_err), -1);
  assert_int_equal (dir_err->code, EISDIR);
  assert_string_equal (dir_err->msg, expected);

  fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_int_equal (rf_read_fd (fd, 0, &text, NULL, &fd_err), -1);
  assert_int_equal (fd_err->code, EISDIR);
  assert_string_equal (fd_err->msg, "read");
  assert_null (text);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_whole_file),
    cmocka_unit_test (test_what_is_left_of_fd),
    cmocka_unit_test (test_limit),
    cmocka_unit_test (test_errors_name_the_file),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
