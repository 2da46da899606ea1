#include "import.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "ingest.h"
#include "reference.h"
#include "tarpath.h"
#include "text.h"

#define READ_BLOCK (1 << 20)
#define SMALL_FILE_MAX (16 * 1024 * 1024)

typedef struct
{
  char *path;           /* clean name in the archive */
  char *link;           /* a symlink's target, joined to the member's directory */
  rf_blob_writer_t *w;  /* the content (hard links share their target's) */
  bool shared;          /* w belongs to another member */
  char *in_store;       /* skipped: the store has this digest already */
} member_t;

typedef struct
{
  rf_store_t *s;
  const rf_import_opts_t *opts;
  int dir_fd; /* an OCI layout directory, else -1 */
  member_t *members;
  size_t n_members;
  rf_blob_writer_t **owned; /* copies made from a layout directory */
  size_t n_owned;
  char *label;
  size_t n_imported;
} layout_t;

static void
layout_clear (layout_t *l)
{
  for (size_t i = 0; i < l->n_members; i++)
    {
      if (!l->members[i].shared)
        rf_blob_writer_free (l->members[i].w);
      free (l->members[i].path);
      free (l->members[i].link);
      free (l->members[i].in_store);
    }
  free (l->members);
  for (size_t i = 0; i < l->n_owned; i++)
    rf_blob_writer_free (l->owned[i]);
  free (l->owned);
  free (l->label);
  if (l->dir_fd >= 0)
    close (l->dir_fd);
}

static member_t *
find_member (layout_t *l, const char *path)
{
  cleanup_free char *cur = xstrdup (path);
  for (int hops = 0; hops < 16; hops++)
    {
      member_t *m = NULL;
      for (size_t i = 0; i < l->n_members; i++)
        if (strcmp (l->members[i].path, cur) == 0)
          m = &l->members[i];
      if (m == NULL || m->link == NULL)
        return m;
      free (cur);
      cur = xstrdup (m->link);
    }
  return NULL;
}

/* Files named by a manifest.json or index.json: relative, clean, inside. */
static int
clean_name (const char *raw, char **out, rf_error_t *err)
{
  if (rf_tar_path_clean (raw, out, err) < 0)
    return rf_error_wrap (err, "archive");
  return 0;
}

static int
layout_open (layout_t *l, const char *raw, rf_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_free char *shown = rf_printable (raw, 120);
  if (clean_name (raw, &path, err) < 0)
    return -1;
  if (l->dir_fd >= 0)
    {
      int fd = openat (l->dir_fd, path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return errno == ENOENT ? rf_error_make (err, 0, "`%s` is missing", shown)
                               : rf_error_sys (err, "open `%s`", shown);
      return fd;
    }
  {
    member_t *m = find_member (l, path);
    if (m == NULL || (m->w == NULL && m->in_store == NULL))
      return rf_error_make (err, 0, "`%s` is missing from the archive", shown);
    if (m->w == NULL)
      return rf_store_open_blob (l->s, m->in_store, err);
    return rf_blob_writer_open (m->w, err);
  }
}

static int
layout_read (layout_t *l, const char *path, char **buf, size_t *len, rf_error_t *err)
{
  cleanup_close int fd = layout_open (l, path, err);
  cleanup_free char *shown = rf_printable (path, 120);
  if (fd < 0)
    return -1;
  if (rf_read_fd (fd, SMALL_FILE_MAX, buf, len, err) < 0)
    return rf_error_wrap (err, "`%s`", shown);
  return 0;
}

static bool
layout_has (layout_t *l, const char *path)
{
  struct stat st;
  if (l->dir_fd >= 0)
    return fstatat (l->dir_fd, path, &st, 0) == 0;
  return find_member (l, path) != NULL;
}

static char *
blob_path (const char *digest)
{
  return xasprintf ("blobs/sha256/%s", rf_digest_hex (digest));
}

static int
copy_into (int fd, rf_blob_writer_t *w, rf_error_t *err)
{
  cleanup_free char *buf = xmalloc (READ_BLOCK);
  for (;;)
    {
      ssize_t n = read (fd, buf, READ_BLOCK);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return rf_error_sys (err, "read");
      if (n == 0)
        return 0;
      if (rf_blob_writer_write (w, buf, n, err) < 0)
        return -1;
    }
}

static int
layout_fetch (void *ctx, const rf_descriptor_t *d, const char *what, rf_blob_writer_t **out,
              rf_error_t *err)
{
  layout_t *l = ctx;
  cleanup_free char *path = blob_path (d->digest);
  rf_blob_writer_t *w = NULL;

  *out = NULL;
  if (l->dir_fd >= 0)
    {
      cleanup_close int fd = openat (l->dir_fd, path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return errno == ENOENT ? rf_error_make (err, 0, "%s: blob %s is missing", what, d->digest)
                               : rf_error_sys (err, "%s: open `%s`", what, path);
      w = rf_blob_writer_new (l->s, err);
      if (w == NULL)
        return -1;
      l->owned = xrealloc (l->owned, (l->n_owned + 1) * sizeof *l->owned);
      l->owned[l->n_owned++] = w;
      if (copy_into (fd, w, err) < 0 || rf_blob_writer_finish (w, d->digest, d->size, err) < 0)
        return rf_error_wrap (err, "%s", what);
      *out = w;
      return 0;
    }
  {
    member_t *m = find_member (l, path);
    /* docker save names blobs its own way; the manifest built for it
       carries their digests. */
    for (size_t i = 0; m == NULL && i < l->n_members; i++)
      if (l->members[i].w && strcmp (rf_blob_writer_digest (l->members[i].w), d->digest) == 0)
        m = &l->members[i];
    if (m == NULL || m->w == NULL)
      return rf_error_make (err, 0, "%s: blob %s is missing", what, d->digest);
    w = m->w;
    if (strcmp (rf_blob_writer_digest (w), d->digest) != 0)
      return rf_error_make (err, 0, "%s: blob %s: digest mismatch (the content is %s)", what,
                            d->digest, rf_blob_writer_digest (w));
    if (rf_blob_writer_size (w) != d->size)
      return rf_error_make (err, 0, "%s: blob %s: %lld bytes where the manifest says %lld",
                            what, d->digest, (long long) rf_blob_writer_size (w),
                            (long long) d->size);
    *out = w;
    return 0;
  }
}

static void
add_member (layout_t *l, member_t m)
{
  l->members = xrealloc (l->members, (l->n_members + 1) * sizeof *l->members);
  l->members[l->n_members++] = m;
}

static int
archive_error (struct archive *a, const char *what, rf_error_t *err)
{
  const char *msg = archive_error_string (a);
  cleanup_free char *shown = rf_printable (msg ? msg : "unreadable archive", 200);
  return rf_error_make (err, 0, "%s: %s", what, shown);
}

static char *
join_link (const char *member, const char *target)
{
  const char *slash = strrchr (member, '/');
  if (target[0] == '/')
    return xstrdup (target + 1);
  if (slash == NULL)
    return xstrdup (target);
  return xasprintf ("%.*s/%s", (int) (slash - member), member, target);
}

/* Read every member of the archive into scratch. */
static int
read_archive (layout_t *l, int fd, rf_error_t *err)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *e;
  int r, ret = -1;

  archive_read_support_format_tar (a);
  archive_read_support_filter_gzip (a);
  archive_read_support_filter_zstd (a);
  if (archive_read_open_fd (a, fd, READ_BLOCK) != ARCHIVE_OK)
    {
      archive_error (a, "archive", err);
      goto out;
    }
  while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    {
      member_t m = { 0 };
      const char *raw = archive_entry_pathname (e);
      const void *buf;
      size_t size;
      la_int64_t offset;

      if (raw == NULL || clean_name (raw, &m.path, err) < 0)
        {
          if (raw == NULL)
            rf_error_make (err, 0, "archive: a member has no name");
          goto out;
        }
      if (archive_entry_hardlink (e))
        {
          cleanup_free char *target = NULL;
          member_t *t;
          if (clean_name (archive_entry_hardlink (e), &target, err) < 0)
            {
              free (m.path);
              goto out;
            }
          t = find_member (l, target);
          if (t)
            {
              m.w = t->w;
              m.shared = true;
              m.in_store = t->in_store ? xstrdup (t->in_store) : NULL;
            }
          add_member (l, m);
          continue;
        }
      if (archive_entry_filetype (e) == AE_IFLNK)
        {
          m.link = join_link (m.path, archive_entry_symlink (e) ? archive_entry_symlink (e) : "");
          {
            cleanup_free char *raw_link = m.link;
            if (rf_tar_path_clean (raw_link, &m.link, NULL) < 0)
              m.link = xstrdup ("");
          }
          add_member (l, m);
          continue;
        }
      if (archive_entry_filetype (e) != AE_IFREG)
        {
          free (m.path);
          continue;
        }
      /* A blob the store has need not be copied again. */
      if (strncmp (m.path, "blobs/sha256/", 13) == 0)
        {
          cleanup_free char *digest = xasprintf ("sha256:%s", m.path + 13);
          if (rf_digest_valid_p (digest) && rf_store_has_blob (l->s, digest)
              && rf_store_blob_size (l->s, digest) == archive_entry_size (e))
            {
              m.in_store = steal_pointer (&digest);
              add_member (l, m);
              continue;
            }
        }
      m.w = rf_blob_writer_new (l->s, err);
      if (m.w == NULL)
        {
          free (m.path);
          goto out;
        }
      add_member (l, m);
      while ((r = archive_read_data_block (a, &buf, &size, &offset)) == ARCHIVE_OK)
        if (rf_blob_writer_write (l->members[l->n_members - 1].w, buf, size, err) < 0)
          goto out;
      if (r != ARCHIVE_EOF)
        {
          archive_error (a, "archive", err);
          goto out;
        }
      if (rf_blob_writer_finish (l->members[l->n_members - 1].w, NULL, -1, err) < 0)
        goto out;
    }
  if (r != ARCHIVE_EOF)
    {
      archive_error (a, "archive", err);
      goto out;
    }
  ret = 0;
out:
  archive_read_free (a);
  return ret;
}

char *
rf_import_name (const char *image_name, const char *ref_name, const char *label)
{
  rf_ref_t ref;
  cleanup_free char *text = NULL;
  char *out;

  if (image_name && *image_name)
    text = xstrdup (image_name);
  else if (ref_name && *ref_name)
    text = strpbrk (ref_name, "/:@") ? xstrdup (ref_name)
                                     : xasprintf ("localhost/%s:%s", label, ref_name);
  else
    return NULL;
  if (rf_ref_parse (text, &ref, NULL) < 0)
    return NULL;
  out = rf_ref_string (&ref);
  rf_ref_clear (&ref);
  return out;
}

static int
import_one (layout_t *l, const char *manifest, size_t len, char **names, rf_error_t *err)
{
  char digest[RF_DIGEST_MAX];
  rf_blob_source_t src = { .fetch = layout_fetch, .ctx = l };
  bool existed;

  if (rf_ingest_image (l->s, manifest, len, &src, names, l->opts->check_layers, digest, &existed,
                       err) < 0)
    {
      if (names && names[0])
        {
          cleanup_free char *shown = rf_printable (names[0], 120);
          rf_error_wrap (err, "image `%s`", shown);
        }
      return -1;
    }
  l->n_imported++;
  if (l->opts->imported)
    l->opts->imported (l->opts->ctx, digest, names, existed);
  return 0;
}

static char **
names_for (layout_t *l, const char *one)
{
  char **names = xzalloc (2 * sizeof *names);
  if (l->opts->name)
    names[0] = xstrdup (l->opts->name);
  else if (one)
    names[0] = xstrdup (one);
  return names;
}

/* One manifest an OCI index points at (directly, or through a nested
   index: then `own` is the chosen entry), with the name its descriptor
   gives. */
typedef struct
{
  const rf_descriptor_t *desc;
  rf_descriptor_t own;
  char *name;
} candidate_t;

static int
read_verified (layout_t *l, const rf_descriptor_t *d, char **buf, size_t *len, rf_error_t *err)
{
  cleanup_free char *path = blob_path (d->digest);
  char got[RF_DIGEST_MAX];
  if (layout_read (l, path, buf, len, err) < 0)
    return -1;
  rf_digest_buffer (*buf, *len, got);
  if (strcmp (got, d->digest) != 0)
    {
      free (*buf);
      *buf = NULL;
      return rf_error_make (err, 0, "blob %s: digest mismatch (the content is %s)", d->digest,
                            got);
    }
  return 0;
}

static int
import_oci (layout_t *l, rf_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t len;
  rf_index_t idx = { 0 }, nested = { 0 };
  candidate_t *cands = NULL;
  size_t n = 0, skipped = 0;
  int ret = -1;

  if (layout_read (l, "index.json", &text, &len, err) < 0
      || rf_index_parse (text, len, &idx, err) < 0)
    return rf_error_wrap (err, "OCI layout");
  cands = xzalloc ((idx.n_manifests + 1) * sizeof *cands);
  for (size_t i = 0; i < idx.n_manifests; i++)
    {
      const rf_descriptor_t *d = &idx.manifests[i];
      rf_manifest_kind_t kind = RF_KIND_UNKNOWN;
      cleanup_free char *name = rf_import_name (d->image_name, d->ref_name, l->label);

      if (strcmp (d->media_type, RF_MT_OCI_MANIFEST) == 0
          || strcmp (d->media_type, RF_MT_DOCKER_MANIFEST) == 0)
        kind = RF_KIND_MANIFEST;
      else if (strcmp (d->media_type, RF_MT_OCI_INDEX) == 0
               || strcmp (d->media_type, RF_MT_DOCKER_LIST) == 0)
        kind = RF_KIND_INDEX;
      else
        {
          cleanup_free char *shown = rf_printable (d->media_type, 100);
          rf_error_make (err, 0, "OCI layout: index.json: manifests[%zu]: unknown media type `%s`",
                         i, shown);
          goto out;
        }
      if (kind == RF_KIND_MANIFEST)
        {
          if (d->has_platform && !rf_platform_match_p (l->opts->platform, &d->platform))
            {
              skipped++;
              continue;
            }
          cands[n].desc = d;
          cands[n++].name = steal_pointer (&name);
          continue;
        }
      {
        cleanup_free char *itext = NULL;
        size_t ilen;
        const rf_descriptor_t *chosen;
        rf_index_clear (&nested);
        if (read_verified (l, d, &itext, &ilen, err) < 0
            || rf_index_parse (itext, ilen, &nested, err) < 0
            || rf_index_select (&nested, l->opts->platform, &chosen, err) < 0)
          goto out;
        cands[n].own.digest = xstrdup (chosen->digest);
        cands[n].own.media_type = xstrdup (chosen->media_type);
        cands[n].own.size = chosen->size;
        cands[n].desc = &cands[n].own;
        cands[n++].name = steal_pointer (&name);
      }
    }
  if (n == 0)
    {
      if (skipped)
        {
          cleanup_free char *want = rf_platform_string (l->opts->platform);
          rf_error_make (err, 0, "OCI layout: no manifest for platform %s", want);
        }
      else
        rf_error_make (err, 0, "OCI layout: index.json lists no image");
      goto out;
    }
  if (l->opts->name && n > 1)
    {
      rf_error_make (err, 0, "--name: the layout holds %zu images; name them in it instead", n);
      goto out;
    }
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *mtext = NULL;
      cleanup_strv char **names = names_for (l, cands[i].name);
      size_t mlen;
      if (read_verified (l, cands[i].desc, &mtext, &mlen, err) < 0
          || import_one (l, mtext, mlen, names, err) < 0)
        goto out;
    }
  ret = 0;

out:
  for (size_t i = 0; cands && i < n; i++)
    {
      rf_descriptor_clear (&cands[i].own);
      free (cands[i].name);
    }
  free (cands);
  rf_index_clear (&nested);
  rf_index_clear (&idx);
  return ret;
}

static const char *
sniff_layer (layout_t *l, const char *path)
{
  cleanup_close int fd = layout_open (l, path, NULL);
  unsigned char magic[4] = { 0 };
  if (fd >= 0 && read (fd, magic, 4) == 4)
    {
      if (magic[0] == 0x1f && magic[1] == 0x8b)
        return RF_MT_OCI_LAYER_GZIP;
      if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
        return RF_MT_OCI_LAYER_ZSTD;
    }
  return RF_MT_OCI_LAYER;
}

static int
describe (layout_t *l, const char *raw, const char *media_type, rf_descriptor_t *d,
          rf_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_free char *shown = rf_printable (raw, 120);
  member_t *m;
  if (clean_name (raw, &path, err) < 0)
    return -1;
  m = find_member (l, path);
  if (m == NULL || (m->w == NULL && m->in_store == NULL))
    return rf_error_make (err, 0, "`%s` is missing from the archive", shown);
  d->media_type = xstrdup (media_type ? media_type : sniff_layer (l, path));
  if (m->w)
    {
      d->digest = xstrdup (rf_blob_writer_digest (m->w));
      d->size = rf_blob_writer_size (m->w);
    }
  else
    {
      d->digest = xstrdup (m->in_store);
      d->size = rf_store_blob_size (l->s, m->in_store);
    }
  return 0;
}

static int
import_docker (layout_t *l, rf_error_t *err)
{
  cleanup_free char *text = NULL;
  cleanup_json json_t *doc = NULL;
  json_t *item;
  size_t len, i;

  if (layout_read (l, "manifest.json", &text, &len, err) < 0)
    return rf_error_wrap (err, "docker archive");
  doc = rf_json_load_buffer ("manifest.json", text, len, err);
  if (doc == NULL)
    return -1;
  if (!json_is_array (doc) || json_array_size (doc) == 0)
    return rf_error_make (err, 0, "manifest.json: expected a non-empty array");
  if (l->opts->name && json_array_size (doc) > 1)
    return rf_error_make (err, 0, "--name: the archive holds %zu images; it names them itself",
                          json_array_size (doc));
  json_array_foreach (doc, i, item)
    {
      char where[48];
      const char *config = NULL;
      cleanup_strv char **layers = NULL;
      cleanup_strv char **tags = NULL;
      cleanup_strv char **names = NULL;
      rf_descriptor_t cdesc = { 0 };
      rf_descriptor_t *ldesc = NULL;
      size_t n_layers, n_names = 0;
      cleanup_free char *manifest = NULL;
      size_t mlen;
      int r = -1;

      snprintf (where, sizeof where, "manifest.json[%zu]", i);
      if (!json_is_object (item))
        return rf_error_make (err, 0, "%s: expected an object", where);
      if (rf_json_get_string (item, where, "Config", &config, err) < 0
          || rf_json_get_strv (item, where, "Layers", &layers, err) < 0
          || rf_json_get_strv (item, where, "RepoTags", &tags, err) < 0)
        return -1;
      if (config == NULL || layers == NULL)
        return rf_error_make (err, 0, "%s: Config and Layers are required", where);
      n_layers = strv_len (layers);
      names = xzalloc ((strv_len (tags) + 2) * sizeof *names);
      if (l->opts->name)
        names[n_names++] = xstrdup (l->opts->name);
      else
        for (size_t t = 0; tags && tags[t]; t++)
          {
            rf_ref_t ref;
            if (rf_ref_parse (tags[t], &ref, err) < 0)
              return rf_error_wrap (err, "%s.RepoTags[%zu]", where, t);
            names[n_names++] = rf_ref_string (&ref);
            rf_ref_clear (&ref);
          }
      ldesc = xzalloc ((n_layers + 1) * sizeof *ldesc);
      if (describe (l, config, RF_MT_OCI_CONFIG, &cdesc, err) < 0)
        goto next;
      for (size_t k = 0; k < n_layers; k++)
        if (describe (l, layers[k], NULL, &ldesc[k], err) < 0)
          goto next;
      manifest = rf_manifest_build (&cdesc, ldesc, n_layers, &mlen);
      r = import_one (l, manifest, mlen, names, err);
    next:
      rf_descriptor_clear (&cdesc);
      for (size_t k = 0; k < n_layers; k++)
        rf_descriptor_clear (&ldesc[k]);
      free (ldesc);
      if (r < 0)
        return rf_error_wrap (err, "%s", where);
    }
  return 0;
}

static char *
label_of (const char *path)
{
  cleanup_free char *copy = xstrdup (path);
  char *base = basename (copy), *dot;
  char *out;
  size_t n = 0;

  if (strcmp (path, "-") == 0)
    return xstrdup ("import");
  while ((dot = strrchr (base, '.')) && dot != base
         && (strcmp (dot, ".tar") == 0 || strcmp (dot, ".gz") == 0 || strcmp (dot, ".tgz") == 0
             || strcmp (dot, ".zst") == 0 || strcmp (dot, ".oci") == 0))
    *dot = '\0';
  out = xmalloc (strlen (base) + 8);
  for (char *p = base; *p; p++)
    {
      char c = *p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p;
      bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      if (ok)
        out[n++] = c;
      else if (n > 0 && out[n - 1] != '-' && p[1])
        out[n++] = '-';
    }
  while (n > 0 && out[n - 1] == '-')
    n--;
  out[n] = '\0';
  if (n == 0)
    {
      free (out);
      return xstrdup ("import");
    }
  return out;
}

int
rf_import (rf_store_t *s, const char *path, const rf_import_opts_t *opts, rf_error_t *err)
{
  layout_t l = { .s = s, .opts = opts, .dir_fd = -1 };
  cleanup_free char *shown = rf_printable (path, 200);
  struct stat st;
  int ret = -1;

  l.label = label_of (path);
  if (strcmp (path, "-") == 0)
    {
      if (read_archive (&l, STDIN_FILENO, err) < 0)
        goto out;
    }
  else if (stat (path, &st) < 0)
    {
      rf_error_sys (err, "`%s`", shown);
      goto out;
    }
  else if (S_ISDIR (st.st_mode))
    {
      l.dir_fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (l.dir_fd < 0)
        {
          rf_error_sys (err, "open `%s`", shown);
          goto out;
        }
    }
  else
    {
      cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          rf_error_sys (err, "open `%s`", shown);
          goto out;
        }
      if (read_archive (&l, fd, err) < 0)
        goto out;
    }

  /* Newer docker writes an OCI layout and a manifest.json side by side:
     the layout keeps the registry's digests, so it wins. */
  if (layout_has (&l, "index.json"))
    ret = import_oci (&l, err);
  else if (layout_has (&l, "manifest.json"))
    ret = import_docker (&l, err);
  else
    rf_error_make (err, 0, "neither a docker save archive (manifest.json) "
                                "nor an OCI layout (index.json)");

out:
  layout_clear (&l);
  if (ret < 0)
    rf_error_wrap (err, "`%s`", shown);
  return ret;
}
