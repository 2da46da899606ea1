#include "push.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "digest.h"
#include "image.h"
#include "ingest.h"
#include "reference.h"
#include "text.h"

/* The blob as stored is hashed again before it leaves: a store whose file
   rotted must not put bad bytes under a good digest in a registry. */
static int
check_blob (int fd, const char *digest, int64_t size, rf_error_t *err)
{
  cleanup_sha256 rf_sha256_t *h = rf_sha256_new ();
  char buf[65536], got[RF_DIGEST_MAX];
  int64_t total = 0;
  for (;;)
    {
      ssize_t n = pread (fd, buf, sizeof buf, total);
      if (n < 0)
        return rf_error_sys (err, "read blob %s", digest);
      if (n == 0)
        break;
      rf_sha256_update (h, buf, (size_t) n);
      total += n;
    }
  rf_sha256_final (h, got);
  if (strcmp (got, digest) != 0 || total != size)
    return rf_error_make (err, 0, "blob %s in the store is corrupt (its content is %s, %lld bytes)",
                          digest, got, (long long) total);
  return 0;
}

static int
push_blob (rf_store_t *s, rf_registry_t *r, const rf_descriptor_t *d, const char *what,
           rf_progress_t *progress, rf_error_t *err)
{
  cleanup_close int fd = -1;
  int has = rf_registry_blob_exists (r, d->digest, err);
  int ret;
  if (has < 0)
    return rf_error_wrap (err, "%s", what);
  if (has)
    {
      rf_progress_line (progress, "%s: already in the registry", what);
      return 0;
    }
  fd = rf_store_open_blob (s, d->digest, err);
  if (fd < 0 || check_blob (fd, d->digest, d->size, err) < 0)
    return rf_error_wrap (err, "%s", what);
  rf_progress_start (progress, what, d->size);
  ret = rf_registry_blob_upload (r, d->digest, fd, d->size, err);
  rf_progress_done (progress, ret == 0);
  return ret;
}

int
rf_push (rf_store_t *s, const char *src, const char *dest, const rf_registry_opts_t *opts,
         char digest[RF_DIGEST_MAX], char **name, rf_error_t *err)
{
  rf_registry_opts_t ropts = *opts;
  rf_registry_t *r = NULL;
  rf_image_t img = { 0 };
  rf_ref_t ref = { 0 };
  cleanup_free char *manifest = NULL;
  cleanup_free char *shown = rf_printable (dest ? dest : src, 120);
  size_t len;
  int ret = -1;

  *name = NULL;
  if (rf_image_resolve (s, src, digest, err) < 0 || rf_image_load (s, digest, &img, err) < 0)
    return -1;
  if (rf_ref_parse (dest ? dest : src, &ref, err) < 0)
    {
      if (dest == NULL)
        rf_error_wrap (err, "give the registry's name for it");
      goto out;
    }
  if (ref.digest && strcmp (ref.digest, digest) != 0)
    {
      rf_error_make (err, 0, "the image is %s, not %s", digest, ref.digest);
      goto out;
    }
  if (rf_store_read_blob (s, digest, RF_MANIFEST_MAX, &manifest, &len, err) < 0)
    goto out;
  ropts.push = true;
  r = rf_registry_new (&ref, &ropts);
  for (size_t i = 0; i < img.manifest.n_layers; i++)
    {
      cleanup_free char *what = rf_layer_what (i, img.manifest.layers[i].digest);
      if (push_blob (s, r, &img.manifest.layers[i], what, opts->progress, err) < 0)
        goto out;
    }
  if (push_blob (s, r, &img.manifest.config, "config", opts->progress, err) < 0
      || rf_registry_manifest_put (r, ref.tag ? ref.tag : ref.digest, manifest, len,
                                   img.manifest.media_type, err) < 0)
    goto out;
  *name = rf_ref_string (&ref);
  ret = 0;

out:
  rf_registry_free (r);
  rf_image_clear (&img);
  rf_ref_clear (&ref);
  if (ret < 0)
    rf_error_wrap (err, "`%s`", shown);
  return ret;
}
