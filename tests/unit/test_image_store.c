/* The store: blobs verified before they are named, names, scratch sweep. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "image/fsops.h"
#include "image/store.h"

static char dir[] = "/tmp/runf-unit-store.XXXXXX";

static int
setup (void **state)
{
  return mkdtemp (dir) ? 0 : -1;
}

static int
teardown (void **state)
{
  return rf_rm_tree_at (AT_FDCWD, dir, NULL);
}

static size_t
count_entries (const char *path)
{
  cleanup_free char *cmd = xasprintf ("ls -A %s | wc -l", path);
  FILE *p = popen (cmd, "r");
  size_t n = 0;
  assert_non_null (p);
  assert_int_equal (fscanf (p, "%zu", &n), 1);
  pclose (p);
  return n;
}

static void
test_blobs (void **state)
{
  cleanup_free char *root = xasprintf ("%s/s1", dir);
  rf_store_t *s = NULL;
  rf_error_t err = NULL;
  rf_blob_writer_t *w;
  char digest[RF_DIGEST_MAX], want[RF_DIGEST_MAX];
  cleanup_free char *back = NULL;
  size_t len;

  assert_int_equal (rf_store_open (root, RF_STORE_WRITE, true, &s, &err), 0);
  rf_digest_buffer ("hello", 5, want);

  /* A wrong digest: nothing enters blobs/. */
  w = rf_blob_writer_new (s, &err);
  assert_int_equal (rf_blob_writer_write (w, "hellO", 5, &err), 0);
  assert_int_equal (rf_blob_writer_finish (w, want, 5, &err), -1);
  assert_non_null (strstr (err->msg, "digest mismatch"));
  rf_error_free (&err);
  rf_blob_writer_free (w);
  assert_false (rf_store_has_blob (s, want));

  /* A wrong size. */
  w = rf_blob_writer_new (s, &err);
  assert_int_equal (rf_blob_writer_write (w, "hello", 5, &err), 0);
  assert_int_equal (rf_blob_writer_finish (w, want, 4, &err), -1);
  rf_error_free (&err);
  rf_blob_writer_free (w);

  /* Restarted after a failed attempt, then right. */
  w = rf_blob_writer_new (s, &err);
  assert_int_equal (rf_blob_writer_write (w, "garbage", 7, &err), 0);
  assert_int_equal (rf_blob_writer_restart (w, &err), 0);
  assert_int_equal (rf_blob_writer_write (w, "hello", 5, &err), 0);
  assert_int_equal (rf_blob_writer_finish (w, want, 5, &err), 0);
  assert_int_equal (rf_blob_writer_install (w, &err), 0);
  rf_blob_writer_free (w);
  assert_true (rf_store_has_blob (s, want));
  assert_int_equal (rf_store_read_blob (s, want, 0, &back, &len, &err), 0);
  assert_int_equal (len, 5);

  assert_int_equal (rf_store_put_blob (s, "hello", 5, digest, &err), 0);
  assert_string_equal (digest, want);

  /* A blob changed on disk is caught when read. */
  {
    cleanup_free char *path = xasprintf ("%s/blobs/sha256/%s", root, want + 7);
    cleanup_free char *again = NULL;
    assert_int_equal (rf_write_file_atomic (path, "HELLO", 5, 0644, NULL), 0);
    assert_int_equal (rf_store_read_blob (s, want, 0, &again, &len, &err), -1);
    assert_non_null (strstr (err->msg, "corrupt"));
    rf_error_free (&err);
  }
  rf_store_close (s);
  {
    cleanup_free char *tmp = xasprintf ("%s/tmp", root);
    assert_int_equal (count_entries (tmp), 0);
  }
}

static void
test_refs (void **state)
{
  cleanup_free char *root = xasprintf ("%s/s2", dir);
  const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  rf_store_t *s = NULL, *r = NULL;
  rf_error_t err = NULL;
  json_t *refs = NULL;

  /* A store that does not exist reads as empty and is not created. */
  assert_int_equal (rf_store_open (root, RF_STORE_READ, true, &r, &err), 0);
  assert_int_equal (rf_store_refs_load (r, &refs, &err), 0);
  assert_int_equal (json_object_size (refs), 0);
  json_decref (refs);
  rf_store_close (r);
  assert_int_equal (access (root, F_OK), -1);

  assert_int_equal (rf_store_open (root, RF_STORE_WRITE, true, &s, &err), 0);
  assert_int_equal (rf_store_ref_set (s, "docker.io/library/a:1", d, &err), 0);
  assert_int_equal (rf_store_refs_load (s, &refs, &err), 0);
  assert_string_equal (json_string_value (json_object_get (refs, "docker.io/library/a:1")), d);
  json_decref (refs);
  rf_store_close (s);
}

static void
test_sweep (void **state)
{
  cleanup_free char *root = xasprintf ("%s/s3", dir);
  cleanup_free char *tmp = xasprintf ("%s/tmp", root);
  rf_store_t *s = NULL, *live = NULL;
  rf_error_t err = NULL;
  pid_t pid;
  int status;

  /* A runfctl that died (here: a child that exits without closing) leaves
     its scratch directory behind, unlocked. */
  pid = fork ();
  if (pid == 0)
    {
      rf_store_t *dead = NULL;
      if (rf_store_open (root, RF_STORE_WRITE, true, &dead, NULL) < 0)
        _exit (1);
      if (rf_blob_writer_new (dead, NULL) == NULL)
        _exit (1);
      _exit (0);
    }
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_int_equal (status, 0);
  assert_int_equal (count_entries (tmp), 1);

  /* A live one keeps its own. */
  assert_int_equal (rf_store_open (root, RF_STORE_WRITE, true, &live, &err), 0);
  assert_int_equal (count_entries (tmp), 1);
  assert_int_equal (rf_store_open (root, RF_STORE_WRITE, true, &s, &err), 0);
  assert_int_equal (count_entries (tmp), 2);
  rf_store_close (s);
  rf_store_close (live);
  assert_int_equal (count_entries (tmp), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_blobs),
    cmocka_unit_test (test_refs),
    cmocka_unit_test (test_sweep),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
