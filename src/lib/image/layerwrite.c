#include "layerwrite.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "text.h"

typedef struct
{
  rf_blob_writer_t *w;
  rf_sha256_t *diff;
  z_stream z;
  unsigned char out[65536];
  rf_error_t err; /* why a write failed */
} gz_t;

static int
drain (gz_t *g, int flush)
{
  int r;
  do
    {
      g->z.next_out = g->out;
      g->z.avail_out = sizeof g->out;
      r = deflate (&g->z, flush);
      if (r == Z_STREAM_ERROR)
        return rf_error_make (&g->err, 0, "gzip: deflate failed");
      if (sizeof g->out - g->z.avail_out > 0
          && rf_blob_writer_write (g->w, g->out, sizeof g->out - g->z.avail_out, &g->err) < 0)
        return -1;
    }
  while (g->z.avail_out == 0 || (flush == Z_FINISH && r != Z_STREAM_END));
  return 0;
}

static la_ssize_t
on_tar (struct archive *a, void *ctx, const void *buf, size_t len)
{
  gz_t *g = ctx;
  rf_sha256_update (g->diff, buf, len);
  g->z.next_in = (Bytef *) buf;
  g->z.avail_in = (uInt) len;
  if (drain (g, Z_NO_FLUSH) < 0)
    {
      archive_set_error (a, EIO, "%s", g->err->msg);
      return -1;
    }
  return (la_ssize_t) len;
}

typedef struct
{
  struct archive *a;
  const rf_layer_opts_t *opts;
  const char *top; /* the directory, for messages */
  json_t *inodes;  /* "dev:ino" of files with several links -> their first name */
  uint64_t entries;
} walk_t;

static int
archive_fail (walk_t *w, const char *rel, rf_error_t *err)
{
  return rf_error_make (err, 0, "`%s/%s`: %s", w->top, rel,
                        archive_error_string (w->a) ? archive_error_string (w->a) : "tar failed");
}

/* One entry: name is its path in the layer, rel below the directory. */
static int
add_entry (walk_t *w, int dfd, const char *base, const char *rel, const char *name,
           const struct stat *st, rf_error_t *err)
{
  struct archive_entry *e = archive_entry_new ();
  cleanup_close int fd = -1;
  int ret = -1;

  archive_entry_copy_stat (e, st);
  archive_entry_set_pathname (e, name);
  archive_entry_set_uid (e, w->opts->uid);
  archive_entry_set_gid (e, w->opts->gid);
  archive_entry_set_nlink (e, 1);
  /* Whole seconds, clamped: the same tree makes the same bytes. */
  if (w->opts->clamp_mtime >= 0 && st->st_mtime > w->opts->clamp_mtime)
    archive_entry_set_mtime (e, w->opts->clamp_mtime, 0);
  else
    archive_entry_set_mtime (e, st->st_mtime, 0);
  archive_entry_unset_atime (e);
  archive_entry_unset_ctime (e);
  archive_entry_unset_birthtime (e);

  if (S_ISLNK (st->st_mode))
    {
      char target[4096];
      ssize_t n = readlinkat (dfd, base, target, sizeof target - 1);
      if (n < 0)
        {
          rf_error_sys (err, "readlink `%s/%s`", w->top, rel);
          goto out;
        }
      target[n] = '\0';
      archive_entry_set_symlink (e, target);
    }
  else if (S_ISREG (st->st_mode) && st->st_nlink > 1)
    {
      cleanup_free char *key = xasprintf ("%lu:%lu", (unsigned long) st->st_dev, (unsigned long) st->st_ino);
      const char *first = json_string_value (json_object_get (w->inodes, key));
      if (first)
        {
          archive_entry_set_size (e, 0);
          archive_entry_set_hardlink (e, first);
          if (archive_write_header (w->a, e) != ARCHIVE_OK)
            archive_fail (w, rel, err);
          else
            ret = 0;
          goto out;
        }
      json_object_set_new (w->inodes, key, json_string (name));
    }
  else if (!S_ISREG (st->st_mode) && !S_ISDIR (st->st_mode) && !S_ISFIFO (st->st_mode))
    {
      rf_error_make (err, 0, "`%s/%s`: %s cannot go into a layer", w->top, rel,
                     S_ISSOCK (st->st_mode) ? "a socket" : "a device node");
      goto out;
    }
  if (S_ISREG (st->st_mode))
    {
      fd = openat (dfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        {
          rf_error_sys (err, "open `%s/%s`", w->top, rel);
          goto out;
        }
    }
  if (archive_write_header (w->a, e) != ARCHIVE_OK)
    {
      archive_fail (w, rel, err);
      goto out;
    }
  if (fd >= 0)
    {
      char buf[65536];
      int64_t left = st->st_size;
      while (left > 0)
        {
          ssize_t n = read (fd, buf, left < (int64_t) sizeof buf ? (size_t) left : sizeof buf);
          if (n < 0)
            {
              rf_error_sys (err, "read `%s/%s`", w->top, rel);
              goto out;
            }
          if (n == 0)
            {
              rf_error_make (err, 0, "`%s/%s` shrank while it was read", w->top, rel);
              goto out;
            }
          if (archive_write_data (w->a, buf, (size_t) n) != n)
            {
              archive_fail (w, rel, err);
              goto out;
            }
          left -= n;
        }
    }
  w->entries++;
  ret = 0;
out:
  archive_entry_free (e);
  return ret;
}

static int
walk (walk_t *w, int dfd, const char *rel, const char *name, rf_error_t *err)
{
  struct dirent **list = NULL;
  int n, ret = 0;

  n = scandirat (dfd, ".", &list, NULL, alphasort);
  if (n < 0)
    return rf_error_sys (err, "read the directory `%s/%s`", w->top, rel);
  for (int i = 0; i < n; i++)
    {
      const char *base = list[i]->d_name;
      cleanup_free char *crel = NULL, *cname = NULL;
      struct stat st;
      if (ret < 0 || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
        continue;
      crel = *rel ? xasprintf ("%s/%s", rel, base) : xstrdup (base);
      cname = *name ? xasprintf ("%s/%s", name, base) : xstrdup (base);
      if (fstatat (dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        ret = rf_error_sys (err, "stat `%s/%s`", w->top, crel);
      else if (add_entry (w, dfd, base, crel, cname, &st, err) < 0)
        ret = -1;
      else if (S_ISDIR (st.st_mode))
        {
          cleanup_close int sub = openat (dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub < 0)
            ret = rf_error_sys (err, "open `%s/%s`", w->top, crel);
          else
            ret = walk (w, sub, crel, cname, err);
        }
    }
  for (int i = 0; i < n; i++)
    free (list[i]);
  free (list);
  return ret;
}

/* The directories above dest, made 0755 and root's, as a runtime would
   make them: the layer must not depend on the base having them. */
static int
add_parents (walk_t *w, const char *dest, rf_error_t *err)
{
  cleanup_free char *path = xstrdup (dest);
  for (char *slash = strchr (path, '/'); slash; slash = strchr (slash + 1, '/'))
    {
      struct archive_entry *e = archive_entry_new ();
      int r;
      *slash = '\0';
      archive_entry_set_pathname (e, path);
      archive_entry_set_filetype (e, AE_IFDIR);
      archive_entry_set_perm (e, 0755);
      archive_entry_set_mtime (e, w->opts->clamp_mtime >= 0 ? w->opts->clamp_mtime : 0, 0);
      r = archive_write_header (w->a, e);
      archive_entry_free (e);
      *slash = '/';
      if (r != ARCHIVE_OK)
        return archive_fail (w, path, err);
      w->entries++;
    }
  return 0;
}

int
rf_layer_from_dir (rf_store_t *s, const char *dir, const rf_layer_opts_t *opts,
                   rf_layer_result_t *out, rf_error_t *err)
{
  cleanup_close int top = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_json json_t *inodes = json_object ();
  cleanup_free char *shown = rf_printable (dir, 200);
  gz_t g = { 0 };
  walk_t w = { .opts = opts, .top = shown, .inodes = inodes };
  struct stat st;
  int ret = -1;

  memset (out, 0, sizeof *out);
  if (top < 0 || fstat (top, &st) < 0)
    return rf_error_sys (err, "open the directory `%s`", shown);
  g.w = rf_blob_writer_new (s, err);
  if (g.w == NULL)
    return -1;
  g.diff = rf_sha256_new ();
  if (deflateInit2 (&g.z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    {
      rf_error_make (err, 0, "gzip: deflateInit2 failed");
      goto out_nozlib;
    }
  w.a = archive_write_new ();
  archive_write_set_format_pax_restricted (w.a);
  archive_write_set_bytes_per_block (w.a, 10240);
  archive_write_set_bytes_in_last_block (w.a, 1);
  if (archive_write_open2 (w.a, &g, NULL, on_tar, NULL, NULL) != ARCHIVE_OK)
    {
      archive_fail (&w, "", err);
      goto out;
    }
  if (*opts->dest)
    {
      if (add_parents (&w, opts->dest, err) < 0
          || add_entry (&w, top, ".", "", opts->dest, &st, err) < 0)
        goto out;
    }
  if (walk (&w, top, "", opts->dest, err) < 0)
    goto out;
  if (archive_write_close (w.a) != ARCHIVE_OK)
    {
      if (g.err)
        rf_error_make (err, g.err->code, "%s", g.err->msg);
      else
        archive_fail (&w, "", err);
      goto out;
    }
  g.z.avail_in = 0;
  if (drain (&g, Z_FINISH) < 0)
    {
      rf_error_make (err, g.err->code, "%s", g.err->msg);
      goto out;
    }
  rf_sha256_final (g.diff, out->diff_id);
  if (rf_blob_writer_finish (g.w, NULL, -1, err) < 0)
    goto out;
  snprintf (out->digest, sizeof out->digest, "%s", rf_blob_writer_digest (g.w));
  out->size = rf_blob_writer_size (g.w);
  out->entries = w.entries;
  if (!rf_store_has_blob (s, out->digest) && rf_blob_writer_install (g.w, err) < 0)
    goto out;
  ret = 0;

out:
  deflateEnd (&g.z);
out_nozlib:
  if (w.a)
    archive_write_free (w.a);
  rf_sha256_free (g.diff);
  rf_blob_writer_free (g.w);
  rf_error_free (&g.err);
  return ret;
}
