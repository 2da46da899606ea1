#include "ingest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "layer.h"
#include "layertree.h"

typedef struct
{
  rf_store_t *s;
  const rf_blob_source_t *src;
  rf_blob_writer_t **staged; /* per blob of the manifest: config, then layers */
  size_t n;
} ingest_t;

char *
rf_layer_what (size_t index, const char *digest)
{
  return xasprintf ("layer %zu (%.19s)", index + 1, digest);
}

static int
stage (ingest_t *in, size_t slot, const rf_descriptor_t *d, const char *what, rf_error_t *err)
{
  if (rf_store_has_blob (in->s, d->digest))
    return 0;
  if (in->src == NULL || in->src->fetch == NULL)
    return rf_error_make (err, 0, "%s: blob %s is missing", what, d->digest);
  if (in->src->fetch (in->src->ctx, d, what, &in->staged[slot], err) < 0)
    return -1;
  return 0;
}

static int
open_blob (ingest_t *in, size_t slot, const char *digest, rf_error_t *err)
{
  if (in->staged[slot])
    return rf_blob_writer_open (in->staged[slot], err);
  return rf_store_open_blob (in->s, digest, err);
}

static int
all_blobs_p (rf_store_t *s, const rf_manifest_t *m)
{
  if (!rf_store_has_blob (s, m->config.digest))
    return 0;
  for (size_t i = 0; i < m->n_layers; i++)
    if (!rf_store_has_blob (s, m->layers[i].digest))
      return 0;
  return 1;
}

static int
verify_layers (ingest_t *in, const rf_manifest_t *m, const rf_image_config_t *config,
               rf_error_t *err)
{
  rf_layer_tree_t *tree = rf_layer_tree_new (NULL);
  int ret = 0;

  for (size_t i = 0; i < m->n_layers && ret == 0; i++)
    {
      cleanup_free char *what = rf_layer_what (i, m->layers[i].digest);
      cleanup_close int fd = open_blob (in, i + 1, m->layers[i].digest, err);
      if (fd < 0)
        ret = rf_error_wrap (err, "%s", what);
      else
        ret = rf_layer_apply (tree, fd, what,
                              rf_layer_diff_id_to_check (fd, m->layers[i].digest, config->diff_ids[i]),
                              NULL, err);
    }
  rf_layer_tree_free (tree);
  return ret;
}

static int
set_names (json_t *refs, void *ctx, rf_error_t *err)
{
  char *const *names = ((char *const *const *) ctx)[0];
  const char *digest = ((const char *const *) ctx)[1];
  for (size_t i = 0; names && names[i]; i++)
    json_object_set_new (refs, names[i], json_string (digest));
  return 0;
}

int
rf_ingest_image (rf_store_t *s, const char *buf, size_t len, const rf_blob_source_t *src,
                 char *const *names, bool check_layers, char digest[RF_DIGEST_MAX], bool *existed,
                 rf_error_t *err)
{
  rf_manifest_t m = { 0 };
  rf_image_config_t config = { 0 };
  ingest_t in = { .s = s, .src = src };
  cleanup_free char *config_text = NULL;
  size_t config_len = 0;
  int ret = -1;

  rf_digest_buffer (buf, len, digest);
  *existed = false;
  if (rf_manifest_parse (buf, len, &m, err) < 0)
    return -1;
  in.n = m.n_layers + 1;
  in.staged = xzalloc (in.n * sizeof *in.staged);

  /* A manifest enters the store last, after every check: one that is
     there with all its blobs was verified before. */
  if (rf_store_has_blob (s, digest) && all_blobs_p (s, &m))
    {
      *existed = true;
      goto names;
    }

  if (stage (&in, 0, &m.config, "config", err) < 0)
    goto out;
  {
    cleanup_close int fd = open_blob (&in, 0, m.config.digest, err);
    if (fd < 0 || rf_read_fd (fd, RF_CONFIG_MAX, &config_text, &config_len, err) < 0)
      {
        rf_error_wrap (err, "config %s", m.config.digest);
        goto out;
      }
  }
  if (rf_image_config_parse (config_text, config_len, &config, err) < 0)
    goto out;
  if (config.n_diff_ids != m.n_layers)
    {
      rf_error_make (err, 0, "the image config lists %zu layers (rootfs.diff_ids), the manifest %zu",
                     config.n_diff_ids, m.n_layers);
      goto out;
    }
  for (size_t i = 0; i < m.n_layers; i++)
    {
      cleanup_free char *what = rf_layer_what (i, m.layers[i].digest);
      if (stage (&in, i + 1, &m.layers[i], what, err) < 0)
        goto out;
    }
  if (check_layers && verify_layers (&in, &m, &config, err) < 0)
    goto out;

  for (size_t i = 0; i < in.n; i++)
    if (in.staged[i] && !rf_store_has_blob (s, rf_blob_writer_digest (in.staged[i]))
        && rf_blob_writer_install (in.staged[i], err) < 0)
      goto out;
  {
    char put[RF_DIGEST_MAX];
    if (rf_store_put_blob (s, buf, len, put, err) < 0)
      goto out;
  }

names:
  if (names && names[0])
    {
      const void *ctx[2] = { names, digest };
      if (rf_store_refs_update (s, set_names, ctx, err) < 0)
        goto out;
    }
  ret = 0;

out:
  rf_manifest_clear (&m);
  rf_image_config_clear (&config);
  free (in.staged);
  return ret;
}
