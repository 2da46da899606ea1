#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "fsops.h"
#include "ingest.h"
#include "layer.h"
#include "reference.h"
#include "remote.h"
#include "text.h"

#define MIN_PREFIX 12

static bool
hex_prefix_p (const char *s)
{
  size_t n = strspn (s, "0123456789abcdef");
  return n >= MIN_PREFIX && n <= RF_DIGEST_HEX_LEN && s[n] == '\0';
}

int
rf_image_resolve (rf_store_t *s, const char *ref, char digest[RF_DIGEST_MAX], rf_error_t *err)
{
  cleanup_json json_t *refs = NULL;
  cleanup_free char *shown = rf_printable (ref, 120);
  rf_ref_t parsed;
  const char *hex, *key;
  json_t *value;
  const char *found = NULL;

  if (rf_store_refs_load (s, &refs, err) < 0)
    return -1;
  if (rf_ref_parse (ref, &parsed, NULL) == 0)
    {
      cleanup_free char *name = rf_ref_string (&parsed);
      json_t *d = json_object_get (refs, name);
      rf_ref_clear (&parsed);
      if (d)
        {
          snprintf (digest, RF_DIGEST_MAX, "%s", json_string_value (d));
          return 0;
        }
    }
  if (rf_digest_valid_p (ref))
    {
      if (!rf_store_has_blob (s, ref))
        return rf_error_make (err, 0, "image `%s` is not in the store", shown);
      snprintf (digest, RF_DIGEST_MAX, "%s", ref);
      return 0;
    }
  hex = strncmp (ref, "sha256:", 7) == 0 ? ref + 7 : ref;
  if (hex_prefix_p (hex))
    json_object_foreach (refs, key, value)
      {
        const char *d = json_string_value (value);
        if (strncmp (d + 7, hex, strlen (hex)) != 0)
          continue;
        if (found && strcmp (found, d) != 0)
          return rf_error_make (err, 0, "`%s` names more than one image", shown);
        found = d;
      }
  if (found == NULL)
    return rf_error_make (err, 0, "image `%s` is not in the store", shown);
  snprintf (digest, RF_DIGEST_MAX, "%s", found);
  return 0;
}

void
rf_image_clear (rf_image_t *img)
{
  rf_manifest_clear (&img->manifest);
  rf_image_config_clear (&img->config);
  if (img->config_json)
    json_decref (img->config_json);
  memset (img, 0, sizeof *img);
}

int
rf_image_load (rf_store_t *s, const char *digest, rf_image_t *out, rf_error_t *err)
{
  cleanup_free char *mtext = NULL, *ctext = NULL;
  size_t mlen, clen;

  memset (out, 0, sizeof *out);
  snprintf (out->digest, RF_DIGEST_MAX, "%s", digest);
  if (rf_store_read_blob (s, digest, RF_MANIFEST_MAX, &mtext, &mlen, err) < 0
      || rf_manifest_parse (mtext, mlen, &out->manifest, err) < 0
      || rf_store_read_blob (s, out->manifest.config.digest, RF_CONFIG_MAX, &ctext, &clen, err) < 0
      || rf_image_config_parse (ctext, clen, &out->config, err) < 0)
    {
      rf_image_clear (out);
      return rf_error_wrap (err, "image %.19s", digest);
    }
  out->config_json = json_loadb (ctext, clen, 0, NULL);
  return 0;
}

int64_t
rf_image_size (rf_store_t *s, const rf_image_t *img)
{
  int64_t total = 0, n;
  if ((n = rf_store_blob_size (s, img->digest)) > 0)
    total += n;
  if ((n = rf_store_blob_size (s, img->manifest.config.digest)) > 0)
    total += n;
  for (size_t i = 0; i < img->manifest.n_layers; i++)
    if ((n = rf_store_blob_size (s, img->manifest.layers[i].digest)) > 0)
      total += n;
  return total;
}

char **
rf_image_names (json_t *refs, const char *digest)
{
  const char *key;
  json_t *value;
  size_t n = 0;
  char **names = xzalloc ((json_object_size (refs) + 1) * sizeof *names);
  json_object_foreach (refs, key, value)
    if (strcmp (json_string_value (value), digest) == 0)
      names[n++] = xstrdup (key);
  return names;
}

int
rf_image_unpack (rf_store_t *s, const rf_image_t *img, int root_fd, unsigned flags,
                 rf_unpack_stats_t *stats, rf_error_t *err)
{
  rf_unpacker_t *u;
  int ret = 0;

  if (img->config.n_diff_ids != img->manifest.n_layers)
    return rf_error_make (err, 0, "the image config lists %zu layers (rootfs.diff_ids), the manifest %zu",
                          img->config.n_diff_ids, img->manifest.n_layers);
  u = rf_unpacker_new (root_fd, flags);
  for (size_t i = 0; i < img->manifest.n_layers && ret == 0; i++)
    {
      const char *digest = img->manifest.layers[i].digest;
      cleanup_free char *what = rf_layer_what (i, digest);
      cleanup_close int fd = rf_store_open_blob (s, digest, err);
      ret = fd < 0 ? rf_error_wrap (err, "%s", what)
                   : rf_unpacker_apply (u, fd, what,
                                        rf_layer_diff_id_to_check (fd, digest, img->config.diff_ids[i]),
                                        err);
    }
  if (ret == 0)
    ret = rf_unpacker_finish (u, err);
  if (stats)
    *stats = *rf_unpacker_stats (u);
  rf_unpacker_free (u);
  return ret;
}

/* A runtime mounts proc, sysfs and a /dev tmpfs; where the image lacks the
   directories it would have to make them, in a rootfs meant to be only
   read. */
static int
add_mount_points (int root_fd, rf_error_t *err)
{
  static const char *const dirs[] = { "proc", "sys", "dev" };
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    if (mkdirat (root_fd, dirs[i], 0755) < 0 && errno != EEXIST)
      return rf_error_sys (err, "mkdir `/%s` in the rootfs", dirs[i]);
  return 0;
}

int
rf_image_rootfs (rf_store_t *s, const rf_image_t *img, char **path, bool *made,
                 rf_unpack_stats_t *stats, rf_error_t *err)
{
  cleanup_free char *final = rf_store_rootfs_path (s, img->digest);
  cleanup_free char *tmp = NULL;
  cleanup_close int lock = -1;
  cleanup_close int fd = -1;
  cleanup_close int rootfs_dir = -1;
  struct stat st;

  *made = false;
  if (stat (final, &st) == 0 && S_ISDIR (st.st_mode))
    goto done;
  lock = rf_store_lock_image (s, img->digest, err);
  if (lock < 0)
    return -1;
  /* Another runfctl may have unpacked it while this one waited. */
  if (stat (final, &st) == 0 && S_ISDIR (st.st_mode))
    goto done;
  tmp = rf_store_tmp_name (s, "rootfs");
  if (mkdirat (s->tmp_fd, tmp, 0755) < 0)
    return rf_error_sys (err, "mkdir a scratch rootfs");
  fd = openat (s->tmp_fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return rf_error_sys (err, "open a scratch rootfs");
  if (rf_image_unpack (s, img, fd, RF_UNPACK_SHARED | (s->rootless ? RF_UNPACK_ROOTLESS : 0), stats, err) < 0
      || add_mount_points (fd, err) < 0)
    return -1;
  /* The rootfs is renamed into place only once its files are on disk. */
  if (syncfs (fd) < 0)
    return rf_error_sys (err, "sync the rootfs");
  rootfs_dir = openat (s->root_fd, "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfs_dir < 0)
    return rf_error_sys (err, "open `%s/rootfs`", s->root);
  if (renameat (s->tmp_fd, tmp, rootfs_dir, rf_digest_hex (img->digest)) < 0)
    return rf_error_sys (err, "rename the rootfs into `%s`", final);
  *made = true;

done:
  *path = steal_pointer (&final);
  return 0;
}

json_t *
rf_image_inspect (rf_store_t *s, const rf_image_t *img, json_t *refs)
{
  cleanup_strv char **names = rf_image_names (refs, img->digest);
  cleanup_free char *rootfs = rf_store_rootfs_path (s, img->digest);
  json_t *doc, *jnames = json_array ();
  struct stat st;

  for (size_t i = 0; names[i]; i++)
    json_array_append_new (jnames, json_string (names[i]));
  doc = rf_inspect_doc (img->digest, &img->manifest, &img->config, img->config_json,
                        rf_image_size (s, img));
  json_object_set_new (doc, "names", jnames);
  json_object_set_new (doc, "rootfs", stat (rootfs, &st) == 0 ? json_string (rootfs) : json_null ());
  return doc;
}

typedef struct
{
  const char *name;   /* remove this name... */
  const char *digest; /* ...or every name of this image */
  char **removed;
  size_t n;
} remove_t;

static int
remove_fn (json_t *refs, void *ctx, rf_error_t *err)
{
  remove_t *r = ctx;
  const char *key;
  json_t *value;
  void *tmp;

  json_object_foreach_safe (refs, tmp, key, value)
    {
      bool hit = r->name ? strcmp (key, r->name) == 0
                         : strcmp (json_string_value (value), r->digest) == 0;
      if (!hit)
        continue;
      r->removed = xrealloc (r->removed, (r->n + 2) * sizeof *r->removed);
      r->removed[r->n++] = xstrdup (key);
      r->removed[r->n] = NULL;
      json_object_del (refs, key);
    }
  return 0;
}

int
rf_image_remove (rf_store_t *s, const char *ref, char ***removed, rf_error_t *err)
{
  cleanup_json json_t *refs = NULL;
  char digest[RF_DIGEST_MAX];
  remove_t r = { 0 };
  rf_ref_t parsed;
  cleanup_free char *name = NULL;

  *removed = NULL;
  if (rf_store_refs_load (s, &refs, err) < 0 || rf_image_resolve (s, ref, digest, err) < 0)
    return -1;
  if (rf_ref_parse (ref, &parsed, NULL) == 0)
    {
      name = rf_ref_string (&parsed);
      rf_ref_clear (&parsed);
      if (json_object_get (refs, name) == NULL)
        {
          free (name);
          name = NULL;
        }
    }
  r.name = name;
  r.digest = digest;
  if (rf_store_refs_update (s, remove_fn, &r, err) < 0)
    {
      strv_free (r.removed);
      return -1;
    }
  if (r.n == 0)
    {
      cleanup_free char *shown = rf_printable (ref, 120);
      return rf_error_make (err, 0, "image `%s` has no name to remove", shown);
    }
  *removed = r.removed;
  return 0;
}

/* The digests every name reaches: manifests, configs, layers. */
static int
reachable (rf_store_t *s, json_t *refs, json_t *keep, rf_error_t *err)
{
  const char *key;
  json_t *value;
  cleanup_json json_t *roots = json_deep_copy (refs);
  json_t *pinned = json_object ();

  /* Pinned images (a function's, run by digest) are roots as names are. */
  if (rf_store_pins (s, pinned, err) < 0)
    {
      json_decref (pinned);
      return -1;
    }
  json_object_foreach (pinned, key, value)
    json_object_set_new (roots, key, json_string (key));
  json_decref (pinned);
  json_object_foreach (roots, key, value)
    {
      rf_image_t img;
      const char *d = json_string_value (value);
      json_object_set_new (keep, d, json_true ());
      if (rf_image_load (s, d, &img, NULL) < 0)
        continue; /* a broken image keeps what it has; its blobs stay */
      json_object_set_new (keep, img.manifest.config.digest, json_true ());
      for (size_t i = 0; i < img.manifest.n_layers; i++)
        json_object_set_new (keep, img.manifest.layers[i].digest, json_true ());
      rf_image_clear (&img);
    }
  return 0;
}

static int
prune_dir (rf_store_t *s, const char *dir, json_t *keep, bool rootfs, rf_prune_stats_t *st,
           rf_error_t *err)
{
  cleanup_close int dfd = openat (s->root_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d;
  struct dirent *de;
  int ret = 0;

  if (dfd < 0)
    return errno == ENOENT ? 0 : rf_error_sys (err, "open `%s/%s`", s->root, dir);
  d = fdopendir (dfd);
  if (d == NULL)
    return rf_error_sys (err, "open `%s/%s`", s->root, dir);
  dfd = -1;
  while ((de = readdir (d)) != NULL)
    {
      cleanup_free char *digest = NULL;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      digest = xasprintf ("sha256:%s", de->d_name);
      if (rf_digest_valid_p (digest) && json_object_get (keep, digest))
        continue;
      if (rootfs)
        st->bytes += rf_tree_disk_usage_at (dirfd (d), de->d_name);
      else
        {
          struct stat sb;
          if (fstatat (dirfd (d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
            st->bytes += sb.st_size;
        }
      if (rf_rm_tree_at (dirfd (d), de->d_name, err) < 0)
        {
          ret = -1;
          break;
        }
      if (!rf_digest_valid_p (digest))
        st->other++;
      else if (rootfs)
        st->rootfs++;
      else
        st->blobs++;
    }
  closedir (d);
  return ret;
}

int
rf_image_prune (rf_store_t *s, rf_prune_stats_t *stats, rf_error_t *err)
{
  cleanup_json json_t *refs = NULL;
  cleanup_json json_t *keep = json_object ();
  cleanup_close int locks = -1;

  memset (stats, 0, sizeof *stats);
  if (rf_store_refs_load (s, &refs, err) < 0 || reachable (s, refs, keep, err) < 0)
    return -1;
  /* Root filesystems first: a crash half-way leaves blobs, which the next
     prune finds, never a rootfs of an image whose layers are gone. */
  if (prune_dir (s, "rootfs", keep, true, stats, err) < 0
      || prune_dir (s, "blobs/sha256", keep, false, stats, err) < 0)
    return -1;
  /* Under the exclusive lock nobody holds an image lock. */
  locks = openat (s->root_fd, "locks", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (locks >= 0)
    {
      DIR *d = fdopendir (locks);
      struct dirent *de;
      if (d)
        {
          locks = -1;
          while ((de = readdir (d)) != NULL)
            {
              cleanup_free char *digest = xasprintf ("sha256:%s", de->d_name);
              if (rf_digest_valid_p (digest) && !json_object_get (keep, digest))
                unlinkat (dirfd (d), de->d_name, 0);
            }
          closedir (d);
        }
    }
  return 0;
}
