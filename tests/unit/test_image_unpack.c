/* Layers applied on disk: whiteouts, opaque directories, hard links,
 * replacements, metadata, and every way an entry could leave the root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/inroot.h"
#include "image/digest.h"
#include "image/fsops.h"
#include "image/layer.h"
#include "image/layertree.h"
#include "image/unpack.h"

typedef struct
{
  const char *name;
  char type; /* f file, d dir, l symlink, h hard link, p fifo, c char device */
  const char *arg; /* content, or link target */
  int mode;        /* 0: 0644 / 0755 */
} ent_t;
#define END { NULL, 0, NULL, 0 }

static char dir[] = "/tmp/runf-unit-unpack.XXXXXX";
static int counter;

/* A layer tar (gzip-compressed when asked) in a file; returns its path. */
static char *
make_layer (const ent_t *ents, bool gzip)
{
  char *path = xasprintf ("%s/layer-%d.tar", dir, ++counter);
  struct archive *a = archive_write_new ();
  archive_write_set_format_pax_restricted (a);
  if (gzip)
    archive_write_add_filter_gzip (a);
  assert_int_equal (archive_write_open_filename (a, path), ARCHIVE_OK);
  for (const ent_t *e = ents; e->name; e++)
    {
      struct archive_entry *ae = archive_entry_new ();
      size_t len = e->type == 'f' && e->arg ? strlen (e->arg) : 0;
      archive_entry_set_pathname (ae, e->name);
      archive_entry_set_mtime (ae, 1600000000, 0);
      switch (e->type)
        {
        case 'f': archive_entry_set_filetype (ae, AE_IFREG); break;
        case 'd': archive_entry_set_filetype (ae, AE_IFDIR); break;
        case 'l':
          archive_entry_set_filetype (ae, AE_IFLNK);
          archive_entry_set_symlink (ae, e->arg);
          break;
        case 'h':
          archive_entry_set_filetype (ae, AE_IFREG);
          archive_entry_set_hardlink (ae, e->arg);
          break;
        case 'p': archive_entry_set_filetype (ae, AE_IFIFO); break;
        case 'c':
          archive_entry_set_filetype (ae, AE_IFCHR);
          archive_entry_set_rdev (ae, makedev (1, 3));
          break;
        }
      archive_entry_set_perm (ae, e->mode ? e->mode : e->type == 'd' ? 0755 : 0644);
      archive_entry_set_size (ae, len);
      assert_int_equal (archive_write_header (a, ae), ARCHIVE_OK);
      if (len)
        assert_int_equal (archive_write_data (a, e->arg, len), (la_ssize_t) len);
      archive_entry_free (ae);
    }
  archive_write_close (a);
  archive_write_free (a);
  return path;
}

static int
setup (void **state)
{
  if (mkdtemp (dir) == NULL)
    return -1;
  return 0;
}

static int
teardown (void **state)
{
  return rf_rm_tree_at (AT_FDCWD, dir, NULL);
}

/* Unpack layers (NULL-terminated list of entry lists) into a fresh root;
   returns the unpack's result and the root's path in *root. */
static int
unpack (const ent_t *const *layers, bool rootless, char **root, rf_error_t *err)
{
  char *r = xasprintf ("%s/root-%d", dir, ++counter);
  rf_unpacker_t *u;
  int fd, ret = 0;

  assert_int_equal (mkdir (r, 0755), 0);
  fd = open (r, O_RDONLY | O_DIRECTORY);
  u = rf_unpacker_new (fd, rootless ? RF_UNPACK_ROOTLESS : 0);
  for (size_t i = 0; layers[i] && ret == 0; i++)
    {
      cleanup_free char *path = make_layer (layers[i], i % 2 == 1);
      int lfd = open (path, O_RDONLY);
      ret = rf_unpacker_apply (u, lfd, "layer", NULL, err);
      close (lfd);
    }
  if (ret == 0)
    ret = rf_unpacker_finish (u, err);
  rf_unpacker_free (u);
  close (fd);
  *root = r;
  return ret;
}

static bool
exists (const char *root, const char *path)
{
  cleanup_free char *full = xasprintf ("%s/%s", root, path);
  struct stat st;
  return lstat (full, &st) == 0;
}

static mode_t
mode_of (const char *root, const char *path)
{
  cleanup_free char *full = xasprintf ("%s/%s", root, path);
  struct stat st;
  assert_int_equal (lstat (full, &st), 0);
  return st.st_mode;
}

static char *
content (const char *root, const char *path)
{
  cleanup_free char *full = xasprintf ("%s/%s", root, path);
  char *buf = NULL;
  assert_int_equal (rf_read_file_at (AT_FDCWD, full, 0, &buf, NULL, NULL), 0);
  return buf;
}

static void
expect_refused (const ent_t *const *layers, const char *why)
{
  rf_error_t err = NULL;
  cleanup_free char *root = NULL;
  assert_int_equal (unpack (layers, true, &root, &err), -1);
  if (strstr (err->msg, why) == NULL)
    fail_msg ("expected `%s` in `%s`", why, err->msg);
  assert_null (strchr (err->msg, '\n'));
  rf_error_free (&err);
}

static void
test_basic (void **state)
{
  const ent_t l1[] = { { "bin/", 'd', NULL, 0 }, { "bin/tool", 'f', "#!/bin/sh\n", 04755 },
                       { "etc/motd", 'f', "hi", 0600 }, { "lib", 'l', "usr/lib", 0 },
                       { "bin/same", 'h', "bin/tool", 0 }, { "run/fifo", 'p', NULL, 0600 },
                       { "dev/null", 'c', NULL, 0666 }, { "./", 'd', NULL, 0750 }, END };
  const ent_t *layers[] = { l1, NULL };
  cleanup_free char *root = NULL;
  cleanup_free char *motd = NULL;
  rf_error_t err = NULL;
  struct stat a, b;
  char target[64];

  if (unpack (layers, true, &root, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (mode_of (root, "bin/tool") & 07777, 04755);
  assert_int_equal (mode_of (root, "etc/motd") & 07777, 0600);
  assert_true (S_ISDIR (mode_of (root, "etc")));
  assert_int_equal (mode_of (root, "") & 07777, 0750);
  motd = content (root, "etc/motd");
  assert_string_equal (motd, "hi");
  {
    cleanup_free char *l = xasprintf ("%s/lib", root);
    ssize_t n = readlink (l, target, sizeof target - 1);
    assert_true (n > 0);
    target[n] = '\0';
    assert_string_equal (target, "usr/lib");
  }
  {
    cleanup_free char *p1 = xasprintf ("%s/bin/tool", root);
    cleanup_free char *p2 = xasprintf ("%s/bin/same", root);
    assert_int_equal (stat (p1, &a), 0);
    assert_int_equal (stat (p2, &b), 0);
    assert_int_equal (a.st_ino, b.st_ino);
    assert_int_equal (a.st_mtime, 1600000000);
  }
  assert_true (S_ISFIFO (mode_of (root, "run/fifo")));
  /* Rootless: the device node is skipped, not faked. */
  assert_false (exists (root, "dev/null"));
}

static void
test_whiteouts (void **state)
{
  const ent_t l1[] = { { "a/x", 'f', "x", 0 }, { "a/y", 'f', "y", 0 }, { "b/c/d", 'f', "d", 0 },
                       { "keep", 'f', "k", 0 }, END };
  const ent_t l2[] = { { "a/.wh.x", 'f', NULL, 0 }, { ".wh.b", 'f', NULL, 0 },
                       { "new", 'f', "n", 0 }, { ".wh.new", 'f', NULL, 0 },
                       { "a/.wh.ghost", 'f', NULL, 0 }, END };
  const ent_t *layers[] = { l1, l2, NULL };
  cleanup_free char *root = NULL;
  rf_error_t err = NULL;

  if (unpack (layers, true, &root, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_false (exists (root, "a/x"));
  assert_true (exists (root, "a/y"));
  assert_false (exists (root, "b"));
  assert_true (exists (root, "keep"));
  /* A whiteout does not hide an entry of its own layer. */
  assert_true (exists (root, "new"));
  assert_false (exists (root, "a/.wh.x"));
  assert_false (exists (root, ".wh.b"));
}

static void
test_opaque (void **state)
{
  const ent_t l1[] = { { "d/1", 'f', "1", 0 }, { "d/sub/2", 'f', "2", 0 }, { "e/3", 'f', "3", 0 },
                       END };
  const ent_t l2[] = { { "d/", 'd', NULL, 0 }, { "d/early", 'f', "e", 0 },
                       { "d/.wh..wh..opq", 'f', NULL, 0 }, { "d/late", 'f', "l", 0 }, END };
  const ent_t l3[] = { { "d/.wh..wh..opq", 'f', NULL, 0 }, END };
  const ent_t *layers[] = { l1, l2, NULL };
  const ent_t *layers3[] = { l1, l2, l3, NULL };
  cleanup_free char *root = NULL, *root3 = NULL;
  rf_error_t err = NULL;

  if (unpack (layers, true, &root, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_false (exists (root, "d/1"));
  assert_false (exists (root, "d/sub"));
  assert_true (exists (root, "d/early"));
  assert_true (exists (root, "d/late"));
  assert_true (exists (root, "e/3"));
  assert_false (exists (root, "d/.wh..wh..opq"));
  if (unpack (layers3, true, &root3, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_true (exists (root3, "d"));
  assert_false (exists (root3, "d/early"));
  assert_false (exists (root3, "d/late"));
}

static void
test_hardlinks_across_layers (void **state)
{
  const ent_t l1[] = { { "usr/bin/a", 'f', "data", 0755 }, END };
  const ent_t l2[] = { { "usr/bin/b", 'h', "usr/bin/a", 0 }, { "c", 'h', "usr/bin/b", 0 }, END };
  const ent_t l3[] = { { "usr/bin/.wh.a", 'f', NULL, 0 }, END };
  const ent_t *layers[] = { l1, l2, l3, NULL };
  cleanup_free char *root = NULL;
  cleanup_free char *b = NULL;
  rf_error_t err = NULL;

  if (unpack (layers, true, &root, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_false (exists (root, "usr/bin/a"));
  b = content (root, "usr/bin/b");
  assert_string_equal (b, "data");
  assert_true (exists (root, "c"));
}

static void
test_replacements (void **state)
{
  const ent_t l1[] = { { "x/1", 'f', "1", 0 }, { "x/deep/2", 'f', "2", 0 }, { "y", 'f', "y", 0 },
                       { "z", 'l', "/etc", 0 }, END };
  const ent_t l2[] = { { "x", 'f', "now a file", 0 }, { "y/", 'd', NULL, 0700 },
                       { "y/2", 'f', "2", 0 }, { "z/", 'd', NULL, 0 }, { "z/in", 'f', "in", 0 },
                       END };
  const ent_t *layers[] = { l1, l2, NULL };
  cleanup_free char *root = NULL;
  cleanup_free char *x = NULL;
  rf_error_t err = NULL;

  if (unpack (layers, true, &root, &err) < 0)
    fail_msg ("%s", err->msg);
  x = content (root, "x");
  assert_string_equal (x, "now a file");
  assert_true (S_ISDIR (mode_of (root, "y")));
  assert_int_equal (mode_of (root, "y") & 0777, 0700);
  assert_true (exists (root, "y/2"));
  /* The symlink was replaced by a directory, not followed. */
  assert_true (S_ISDIR (mode_of (root, "z")));
  assert_true (exists (root, "z/in"));
}

static void
test_read_only_dirs (void **state)
{
  const ent_t l1[] = { { "ro/", 'd', NULL, 0555 }, { "ro/f", 'f', "f", 0444 }, END };
  const ent_t l2[] = { { "ro/g", 'f', "g", 0 }, { "ro/.wh.f", 'f', NULL, 0 }, END };
  const ent_t *layers[] = { l1, l2, NULL };
  cleanup_free char *root = NULL;
  rf_error_t err = NULL;

  if (unpack (layers, true, &root, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (mode_of (root, "ro") & 0777, 0555);
  assert_true (exists (root, "ro/g"));
  assert_false (exists (root, "ro/f"));
}

static void
test_escapes (void **state)
{
  cleanup_free char *outside = xasprintf ("%s/outside", dir);
  cleanup_free char *abs_link = NULL;
  ent_t dotdot[] = { { "../../etc/passwd", 'f', "x", 0 }, END };
  ent_t absolute[] = { { "/etc/passwd", 'f', "x", 0 }, END };
  ent_t through[] = { { "l", 'l', NULL, 0 }, { "l/passwd", 'f', "x", 0 }, END };
  ent_t rel_through[] = { { "l", 'l', "../../../../../..", 0 }, { "l/tmp/x", 'f', "x", 0 }, END };
  ent_t plant[] = { { "l", 'l', NULL, 0 }, END };
  ent_t later[] = { { "l/passwd", 'f', "x", 0 }, END };
  ent_t link_out[] = { { "h", 'h', "l/secret", 0 }, END };
  ent_t link_up[] = { { "h", 'h', "../secret", 0 }, END };
  ent_t link_dir[] = { { "d/", 'd', NULL, 0 }, { "h", 'h', "d", 0 }, END };
  ent_t wh_through[] = { { "l/.wh.secret", 'f', NULL, 0 }, END };
  const ent_t *l_dotdot[] = { dotdot, NULL }, *l_abs[] = { absolute, NULL };
  const ent_t *l_through[] = { through, NULL }, *l_rel[] = { rel_through, NULL };
  const ent_t *l_later[] = { plant, later, NULL }, *l_link[] = { plant, link_out, NULL };
  const ent_t *l_up[] = { link_up, NULL }, *l_ldir[] = { link_dir, NULL };
  const ent_t *l_wh[] = { plant, wh_through, NULL };
  struct stat st;

  assert_int_equal (mkdir (outside, 0755), 0);
  {
    cleanup_free char *secret = xasprintf ("%s/secret", outside);
    assert_int_equal (rf_write_file_atomic (secret, "s", 1, 0644, NULL), 0);
  }
  abs_link = xstrdup (outside);
  through[0].arg = abs_link;
  plant[0].arg = abs_link;

  for (int fallback = 0; fallback < 2; fallback++)
    {
      rf_inroot_force_fallback (fallback);
      expect_refused (l_dotdot, "`..` component");
      expect_refused (l_abs, "absolute path");
      expect_refused (l_through, "goes through the symlink `l`");
      expect_refused (l_rel, "goes through the symlink `l`");
      expect_refused (l_later, "goes through the symlink `l`");
      expect_refused (l_link, "goes through the symlink `l`");
      expect_refused (l_up, "`..` component");
      expect_refused (l_ldir, "a directory");
      expect_refused (l_wh, "goes through the symlink `l`");
    }
  rf_inroot_force_fallback (false);
  {
    cleanup_free char *passwd = xasprintf ("%s/passwd", outside);
    cleanup_free char *secret = xasprintf ("%s/secret", outside);
    assert_int_equal (stat (passwd, &st), -1);
    assert_int_equal (stat (secret, &st), 0);
  }
}

static void
test_fallback_unpack (void **state)
{
  const ent_t l1[] = { { "a/b/c/d", 'f', "deep", 0 }, { "a/b/e", 'f', "e", 0 }, END };
  const ent_t l2[] = { { "a/b/.wh.c", 'f', NULL, 0 }, END };
  const ent_t *layers[] = { l1, l2, NULL };
  cleanup_free char *root = NULL;
  rf_error_t err = NULL;
  rf_inroot_force_fallback (true);
  if (unpack (layers, true, &root, &err) < 0)
    fail_msg ("%s", err->msg);
  rf_inroot_force_fallback (false);
  assert_false (exists (root, "a/b/c"));
  assert_true (exists (root, "a/b/e"));
}

/* The check at ingest: compression, whole tars, diff_ids. */
static void
test_check (void **state)
{
  const ent_t l1[] = { { "f", 'f', "content", 0 }, END };
  cleanup_free char *plain = make_layer (l1, false);
  cleanup_free char *gz = make_layer (l1, true);
  cleanup_free char *corrupt = xasprintf ("%s/corrupt.gz", dir);
  cleanup_free char *truncated = xasprintf ("%s/truncated.tar", dir);
  cleanup_free char *data = NULL;
  char diff_id[RF_DIGEST_MAX];
  size_t len;
  rf_error_t err = NULL;
  int fd;

  assert_int_equal (rf_read_file_at (AT_FDCWD, plain, 0, &data, &len, NULL), 0);
  rf_digest_buffer (data, len, diff_id);
  {
    rf_layer_tree_t *t = rf_layer_tree_new (NULL);
    fd = open (gz, O_RDONLY);
    assert_int_equal (rf_layer_apply (t, fd, "layer", diff_id, NULL, &err), 0);
    close (fd);
    fd = open (gz, O_RDONLY);
    assert_int_equal (rf_layer_apply (t, fd, "layer", "sha256:0000000000000000000000000000000000000000000000000000000000000000", NULL, &err), -1);
    assert_non_null (strstr (err->msg, "the image config says"));
    rf_error_free (&err);
    close (fd);
    rf_layer_tree_free (t);
  }
  {
    cleanup_free char *gzdata = NULL;
    size_t gzlen;
    assert_int_equal (rf_read_file_at (AT_FDCWD, gz, 0, &gzdata, &gzlen, NULL), 0);
    memset (gzdata + 20, 0x55, gzlen - 28);
    assert_int_equal (rf_write_file_atomic (corrupt, gzdata, gzlen, 0644, NULL), 0);
    assert_int_equal (rf_write_file_atomic (truncated, data, 700, 0644, NULL), 0);
  }
  for (int k = 0; k < 2; k++)
    {
      rf_layer_tree_t *t = rf_layer_tree_new (NULL);
      fd = open (k ? truncated : corrupt, O_RDONLY);
      assert_int_equal (rf_layer_apply (t, fd, "layer 1", k ? NULL : diff_id, NULL, &err), -1);
      assert_non_null (strstr (err->msg, "layer 1: "));
      assert_null (strchr (err->msg, '\n'));
      rf_error_free (&err);
      close (fd);
      rf_layer_tree_free (t);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_basic),
    cmocka_unit_test (test_whiteouts),
    cmocka_unit_test (test_opaque),
    cmocka_unit_test (test_hardlinks_across_layers),
    cmocka_unit_test (test_replacements),
    cmocka_unit_test (test_read_only_dirs),
    cmocka_unit_test (test_escapes),
    cmocka_unit_test (test_fallback_unpack),
    cmocka_unit_test (test_check),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
