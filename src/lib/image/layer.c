#include "layer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "digest.h"
#include "tarpath.h"
#include "text.h"

#define READ_BLOCK (1 << 20)

static void
cleanup_archivep (struct archive **a)
{
  if (*a)
    archive_read_free (*a);
}
#define cleanup_archive __attribute__ ((cleanup (cleanup_archivep)))

/* The uncompressing stage when the uncompressed bytes are hashed: a "raw"
   archive whose single entry is the decompressed stream, read by the tar
   stage through this callback. */
typedef struct
{
  struct archive *raw;
  rf_sha256_t *hash;
  char *buf;
  int64_t total;
} tee_t;

static la_ssize_t
tee_read (struct archive *a, void *data, const void **out)
{
  tee_t *t = data;
  la_ssize_t n = archive_read_data (t->raw, t->buf, READ_BLOCK);
  if (n < 0)
    {
      archive_set_error (a, archive_errno (t->raw), "%s", archive_error_string (t->raw));
      return -1;
    }
  rf_sha256_update (t->hash, t->buf, n);
  t->total += n;
  *out = t->buf;
  return n;
}

static int
archive_fail (struct archive *a, const char *what, rf_error_t *err)
{
  const char *msg = archive_error_string (a);
  cleanup_free char *shown = rf_printable (msg ? msg : "unreadable archive", 200);
  return rf_error_make (err, 0, "%s: %s", what, shown);
}

static int
open_compressed (struct archive *a, int fd, const char *what, rf_error_t *err)
{
  archive_read_support_filter_gzip (a);
  archive_read_support_filter_zstd (a);
  if (archive_read_open_fd (a, fd, READ_BLOCK) != ARCHIVE_OK)
    return archive_fail (a, what, err);
  return 0;
}

const char *
rf_layer_diff_id_to_check (int fd, const char *digest, const char *diff_id)
{
  unsigned char m[4] = { 0 };
  bool compressed = pread (fd, m, sizeof m, 0) == (ssize_t) sizeof m
                    && ((m[0] == 0x1f && m[1] == 0x8b)
                        || (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd));
  return !compressed && strcmp (digest, diff_id) == 0 ? NULL : diff_id;
}

static int
entry_type (struct archive_entry *e, rf_node_type_t *type)
{
  if (archive_entry_hardlink (e))
    {
      *type = RF_NODE_OTHER;
      return 0;
    }
  switch (archive_entry_filetype (e))
    {
    case AE_IFDIR: *type = RF_NODE_DIR; return 0;
    case AE_IFLNK: *type = RF_NODE_SYMLINK; return 0;
    case AE_IFREG:
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: *type = RF_NODE_OTHER; return 0;
    default: return -1; /* sockets and the unknown: not part of an image */
    }
}

static int
one_entry (rf_layer_tree_t *tree, struct archive *a, struct archive_entry *e,
           const rf_layer_sink_t *sink, rf_error_t *err)
{
  const char *raw = archive_entry_pathname (e);
  cleanup_free char *path = NULL, *target = NULL, *link = NULL;
  rf_whiteout_t wh;
  rf_node_type_t type;
  rf_tree_action_t action;
  rf_node_t *node;

  if (raw == NULL)
    return rf_error_make (err, 0, "an entry has no name");
  if (rf_tar_path_clean (raw, &path, err) < 0
      || rf_tar_whiteout (path, &wh, &target, err) < 0)
    return -1;
  switch (wh)
    {
    case RF_WHITEOUT_FILE: return rf_layer_tree_whiteout (tree, target, err);
    case RF_WHITEOUT_OPAQUE: return rf_layer_tree_opaque (tree, target, err);
    case RF_WHITEOUT_META: return 0;
    case RF_WHITEOUT_NONE: break;
    }
  if (entry_type (e, &type) < 0)
    return 0;
  if (archive_entry_hardlink (e))
    {
      if (rf_tar_path_clean (archive_entry_hardlink (e), &link, err) < 0)
        return rf_error_wrap (err, "hard link `%s`", path);
      if (strcmp (link, path) == 0)
        return 0; /* a link to itself changes nothing */
      if (rf_layer_tree_link_target (tree, link, err) < 0)
        return -1;
    }
  if (rf_layer_tree_enter (tree, path, type, &action, &node, err) < 0)
    return -1;
  if (sink)
    return sink->entry (sink->ctx, a, e, path, link, node, action, err);
  return 0;
}

int
rf_layer_apply (rf_layer_tree_t *tree, int fd, const char *what, const char *diff_id,
                const rf_layer_sink_t *sink, rf_error_t *err)
{
  cleanup_archive struct archive *raw = NULL;
  cleanup_archive struct archive *a = NULL;
  cleanup_sha256 rf_sha256_t *hash = NULL;
  cleanup_free char *buf = NULL;
  tee_t tee = { 0 };
  struct archive_entry *e;
  int r;

  rf_layer_tree_next_layer (tree);
  a = archive_read_new ();
  archive_read_support_format_tar (a);
  if (diff_id)
    {
      struct archive_entry *re;
      raw = archive_read_new ();
      archive_read_support_format_raw (raw);
      if (open_compressed (raw, fd, what, err) < 0)
        return -1;
      if (archive_read_next_header (raw, &re) != ARCHIVE_OK)
        return archive_fail (raw, what, err);
      hash = rf_sha256_new ();
      buf = xmalloc (READ_BLOCK);
      tee = (tee_t){ .raw = raw, .hash = hash, .buf = buf };
      if (archive_read_open (a, &tee, NULL, tee_read, NULL) != ARCHIVE_OK)
        return archive_fail (a, what, err);
    }
  else if (open_compressed (a, fd, what, err) < 0)
    return -1;

  while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    {
      if (one_entry (tree, a, e, sink, err) < 0)
        return rf_error_wrap (err, "%s", what);
      if (sink == NULL && archive_read_data_skip (a) != ARCHIVE_OK)
        return archive_fail (a, what, err);
    }
  if (r != ARCHIVE_EOF)
    return archive_fail (a, what, err);

  if (diff_id)
    {
      char got[RF_DIGEST_MAX];
      /* What follows the end-of-archive blocks is part of the layer too. */
      for (;;)
        {
          la_ssize_t n = archive_read_data (raw, buf, READ_BLOCK);
          if (n < 0)
            return archive_fail (raw, what, err);
          if (n == 0)
            break;
          rf_sha256_update (hash, buf, n);
        }
      rf_sha256_final (hash, got);
      if (strcmp (got, diff_id) != 0)
        return rf_error_make (err, 0, "%s: uncompressed content is %s, the image config says %s",
                              what, got, diff_id);
    }
  return 0;
}
