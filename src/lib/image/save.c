#include "save.h"

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
#include "digest.h"
#include "fsops.h"
#include "image.h"
#include "reference.h"
#include "text.h"

int
rf_save_format_parse (const char *s, rf_save_format_t *out, rf_error_t *err)
{
  if (strcmp (s, "docker-archive") == 0)
    *out = RF_SAVE_DOCKER_ARCHIVE;
  else if (strcmp (s, "oci-archive") == 0)
    *out = RF_SAVE_OCI_ARCHIVE;
  else if (strcmp (s, "oci-dir") == 0 || strcmp (s, "oci") == 0)
    *out = RF_SAVE_OCI_DIR;
  else
    {
      cleanup_free char *shown = rf_printable (s, 40);
      return rf_error_make (err, 0, "--format `%s`: expected docker-archive, oci-archive or oci-dir", shown);
    }
  return 0;
}

char *
rf_familiar_name (const char *name)
{
  if (strncmp (name, "docker.io/library/", 18) == 0 && strchr (name + 18, '/') == NULL)
    return xstrdup (name + 18);
  if (strncmp (name, "docker.io/", 10) == 0)
    return xstrdup (name + 10);
  return xstrdup (name);
}

/* Where the entries go: a tar, or files below a directory. */
typedef struct
{
  struct archive *a;
  int dir_fd;
  json_t *written; /* blob digests already out */
} sink_t;

static int
archive_fail (struct archive *a, const char *what, rf_error_t *err)
{
  return rf_error_make (err, archive_errno (a) > 0 ? archive_errno (a) : 0, "write %s: %s", what,
                        archive_error_string (a) ? archive_error_string (a) : "failed");
}

static int
add_dir (sink_t *k, const char *path, rf_error_t *err)
{
  if (k->a)
    {
      struct archive_entry *e = archive_entry_new ();
      int r;
      archive_entry_set_pathname (e, path);
      archive_entry_set_filetype (e, AE_IFDIR);
      archive_entry_set_perm (e, 0755);
      archive_entry_set_mtime (e, 0, 0);
      r = archive_write_header (k->a, e);
      archive_entry_free (e);
      return r == ARCHIVE_OK ? 0 : archive_fail (k->a, path, err);
    }
  if (mkdirat (k->dir_fd, path, 0755) < 0 && errno != EEXIST)
    return rf_error_sys (err, "mkdir `%s`", path);
  return 0;
}

/* A file from memory, or (fd >= 0) from a blob, hashed on the way when
   digest is given. */
static int
add_file (sink_t *k, const char *path, const char *buf, size_t len, int fd, const char *digest,
          rf_error_t *err)
{
  cleanup_sha256 rf_sha256_t *h = digest ? rf_sha256_new () : NULL;
  cleanup_close int out = -1;
  char chunk[65536], got[RF_DIGEST_MAX];
  int64_t total = 0;
  struct stat st;

  if (fd >= 0)
    {
      if (fstat (fd, &st) < 0)
        return rf_error_sys (err, "stat blob %s", digest);
      len = (size_t) st.st_size;
    }
  if (k->a)
    {
      struct archive_entry *e = archive_entry_new ();
      int r;
      archive_entry_set_pathname (e, path);
      archive_entry_set_filetype (e, AE_IFREG);
      archive_entry_set_perm (e, 0644);
      archive_entry_set_size (e, (la_int64_t) len);
      archive_entry_set_mtime (e, 0, 0);
      r = archive_write_header (k->a, e);
      archive_entry_free (e);
      if (r != ARCHIVE_OK)
        return archive_fail (k->a, path, err);
    }
  else
    {
      out = openat (k->dir_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (out < 0)
        return rf_error_sys (err, "create `%s`", path);
    }
  for (;;)
    {
      const char *data;
      size_t n;
      if (fd >= 0)
        {
          ssize_t r = read (fd, chunk, sizeof chunk);
          if (r < 0)
            return rf_error_sys (err, "read blob %s", digest);
          data = chunk;
          n = (size_t) r;
        }
      else
        {
          data = buf + total;
          n = len - (size_t) total < sizeof chunk ? len - (size_t) total : sizeof chunk;
        }
      if (n == 0)
        break;
      if ((int64_t) n + total > (int64_t) len)
        return rf_error_make (err, 0, "blob %s grew while it was saved", digest);
      if (h)
        rf_sha256_update (h, data, n);
      if (k->a ? archive_write_data (k->a, data, n) != (la_ssize_t) n : rf_write_all (out, data, n) < 0)
        return k->a ? archive_fail (k->a, path, err) : rf_error_sys (err, "write `%s`", path);
      total += (int64_t) n;
    }
  if (total != (int64_t) len)
    return rf_error_make (err, 0, "blob %s shrank while it was saved", digest);
  if (h)
    {
      rf_sha256_final (h, got);
      if (strcmp (got, digest) != 0)
        return rf_error_make (err, 0, "blob %s in the store is corrupt (its content is %s)", digest, got);
    }
  return 0;
}

static int
add_blob (sink_t *k, rf_store_t *s, const char *digest, rf_error_t *err)
{
  cleanup_free char *path = xasprintf ("blobs/sha256/%s", rf_digest_hex (digest));
  cleanup_close int fd = -1;
  if (json_object_get (k->written, digest))
    return 0;
  fd = rf_store_open_blob (s, digest, err);
  if (fd < 0 || add_file (k, path, NULL, 0, fd, digest, err) < 0)
    return -1;
  json_object_set_new (k->written, digest, json_true ());
  return 0;
}

static int
add_json (sink_t *k, const char *path, json_t *doc, rf_error_t *err)
{
  cleanup_free char *text = json_dumps (doc, JSON_COMPACT);
  return add_file (k, path, text, strlen (text), -1, NULL, err);
}

typedef struct
{
  char digest[RF_DIGEST_MAX];
  char *name; /* the name given, normalized; NULL for a digest */
} chosen_t;

/* Which name of the store a REF on the command line means: the name
   itself, or for a digest the image's names (none is fine). */
static int
choose (rf_store_t *s, json_t *refs, const char *ref, chosen_t *c, rf_error_t *err)
{
  rf_ref_t parsed;
  memset (c, 0, sizeof *c);
  if (rf_image_resolve (s, ref, c->digest, err) < 0)
    return -1;
  if (rf_ref_parse (ref, &parsed, NULL) == 0)
    {
      cleanup_free char *name = rf_ref_string (&parsed);
      rf_ref_clear (&parsed);
      if (json_object_get (refs, name))
        c->name = steal_pointer (&name);
    }
  return 0;
}

static int
write_all_entries (sink_t *k, rf_store_t *s, chosen_t *chosen, size_t n, rf_save_format_t format,
                   rf_error_t *err)
{
  cleanup_json json_t *index = json_pack ("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType",
                                          RF_MT_OCI_INDEX, "manifests");
  cleanup_json json_t *docker = json_array ();
  cleanup_json json_t *layout = json_pack ("{s:s}", "imageLayoutVersion", "1.0.0");
  json_t *manifests = json_object_get (index, "manifests");

  if (add_json (k, "oci-layout", layout, err) < 0 || add_dir (k, "blobs", err) < 0
      || add_dir (k, "blobs/sha256", err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      rf_image_t img;
      json_t *desc, *layers;
      int r = 0;
      if (rf_image_load (s, chosen[i].digest, &img, err) < 0)
        return -1;
      for (size_t l = 0; l < img.manifest.n_layers && r == 0; l++)
        r = add_blob (k, s, img.manifest.layers[l].digest, err);
      if (r == 0)
        r = add_blob (k, s, img.manifest.config.digest, err);
      if (r == 0)
        r = add_blob (k, s, img.digest, err);
      if (r < 0)
        {
          rf_image_clear (&img);
          return -1;
        }
      desc = json_pack ("{s:s, s:s, s:I}", "mediaType", img.manifest.media_type, "digest", img.digest,
                        "size", (json_int_t) rf_store_blob_size (s, img.digest));
      if (chosen[i].name)
        {
          rf_ref_t ref;
          if (rf_ref_parse (chosen[i].name, &ref, NULL) == 0)
            {
              json_object_set_new (desc, "annotations",
                                   json_pack ("{s:s, s:s}", "io.containerd.image.name", chosen[i].name,
                                              "org.opencontainers.image.ref.name", ref.tag ? ref.tag : "latest"));
              rf_ref_clear (&ref);
            }
        }
      json_array_append_new (manifests, desc);
      layers = json_array ();
      for (size_t l = 0; l < img.manifest.n_layers; l++)
        json_array_append_new (layers, json_sprintf ("blobs/sha256/%s", rf_digest_hex (img.manifest.layers[l].digest)));
      {
        cleanup_free char *familiar = chosen[i].name ? rf_familiar_name (chosen[i].name) : NULL;
        json_t *entry = json_object ();
        json_object_set_new (entry, "Config",
                             json_sprintf ("blobs/sha256/%s", rf_digest_hex (img.manifest.config.digest)));
        json_object_set_new (entry, "RepoTags", familiar ? json_pack ("[s]", familiar) : json_array ());
        json_object_set_new (entry, "Layers", layers);
        json_array_append_new (docker, entry);
      }
      rf_image_clear (&img);
    }
  if (add_json (k, "index.json", index, err) < 0)
    return -1;
  if (format == RF_SAVE_DOCKER_ARCHIVE && add_json (k, "manifest.json", docker, err) < 0)
    return -1;
  return 0;
}

/* A new name beside path: "<dir>/.<base>.XXXXXX". */
static char *
temp_beside (const char *path)
{
  cleanup_free char *d = xstrdup (path), *b = xstrdup (path);
  return xasprintf ("%s/.%s.XXXXXX", dirname (d), basename (b));
}

int
rf_save (rf_store_t *s, char *const *refs_given, size_t n, rf_save_format_t format, const char *out,
         rf_error_t *err)
{
  cleanup_json json_t *refs = NULL;
  cleanup_json json_t *written = json_object ();
  cleanup_free char *tmp = NULL;
  cleanup_close int fd = -1;
  chosen_t *chosen = xzalloc ((n + 1) * sizeof *chosen);
  sink_t k = { .dir_fd = -1, .written = written };
  bool to_stdout = strcmp (out, "-") == 0;
  struct stat st;
  int ret = -1;

  if (rf_store_refs_load (s, &refs, err) < 0)
    goto out;
  for (size_t i = 0; i < n; i++)
    if (choose (s, refs, refs_given[i], &chosen[i], err) < 0)
      goto out;
  if (to_stdout && format == RF_SAVE_OCI_DIR)
    {
      rf_error_make (err, 0, "oci-dir writes a directory: give it with -o DIR");
      goto out;
    }
  /* An archive replaces a file of that name (by a rename, once whole),
     as docker save -o does; a directory is never replaced. */
  if (!to_stdout && lstat (out, &st) == 0 && (format == RF_SAVE_OCI_DIR || !S_ISREG (st.st_mode)))
    {
      cleanup_free char *shown = rf_printable (out, 200);
      rf_error_make (err, 0, "`%s` exists; remove it first", shown);
      goto out;
    }
  if (format == RF_SAVE_OCI_DIR)
    {
      tmp = temp_beside (out);
      if (mkdtemp (tmp) == NULL)
        {
          rf_error_sys (err, "mkdir beside `%s`", out);
          free (tmp);
          tmp = NULL;
          goto out;
        }
      k.dir_fd = open (tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (k.dir_fd < 0 || fchmod (k.dir_fd, 0755) < 0)
        {
          rf_error_sys (err, "open `%s`", tmp);
          goto out;
        }
    }
  else
    {
      if (to_stdout)
        fd = dup (STDOUT_FILENO);
      else
        {
          tmp = temp_beside (out);
          fd = mkostemp (tmp, O_CLOEXEC);
          if (fd < 0)
            {
              rf_error_sys (err, "create a file beside `%s`", out);
              free (tmp);
              tmp = NULL;
              goto out;
            }
          fchmod (fd, 0644);
        }
      k.a = archive_write_new ();
      archive_write_set_format_pax_restricted (k.a);
      archive_write_set_bytes_in_last_block (k.a, 1);
      if (archive_write_open_fd (k.a, fd) != ARCHIVE_OK)
        {
          archive_fail (k.a, "the archive", err);
          goto out;
        }
    }
  if (write_all_entries (&k, s, chosen, n, format, err) < 0)
    goto out;
  if (k.a)
    {
      if (archive_write_close (k.a) != ARCHIVE_OK)
        {
          archive_fail (k.a, "the archive", err);
          goto out;
        }
      if (!to_stdout && fsync (fd) < 0)
        {
          rf_error_sys (err, "sync `%s`", tmp);
          goto out;
        }
    }
  else if (syncfs (k.dir_fd) < 0)
    {
      rf_error_sys (err, "sync `%s`", tmp);
      goto out;
    }
  if (tmp && rename (tmp, out) < 0)
    {
      rf_error_sys (err, "rename `%s` to `%s`", tmp, out);
      goto out;
    }
  free (tmp);
  tmp = NULL;
  ret = 0;

out:
  if (k.a)
    archive_write_free (k.a);
  if (k.dir_fd >= 0)
    close (k.dir_fd);
  if (tmp)
    {
      if (format == RF_SAVE_OCI_DIR)
        rf_rm_tree_at (AT_FDCWD, tmp, NULL);
      else
        unlink (tmp);
    }
  for (size_t i = 0; i < n; i++)
    free (chosen[i].name);
  free (chosen);
  return ret;
}
