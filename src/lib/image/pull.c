#include "pull.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "digest.h"
#include "ingest.h"
#include "reference.h"
#include "text.h"

typedef struct
{
  rf_store_t *s;
  rf_registry_t *registry;
  rf_progress_t *progress;
  rf_blob_writer_t **writers; /* fetched blobs, kept until the ingest is over */
  size_t n_writers;
} pull_t;

static int
fetch (void *ctx, const rf_descriptor_t *d, const char *what, rf_blob_writer_t **out,
       rf_error_t *err)
{
  pull_t *p = ctx;
  rf_blob_writer_t *w = rf_blob_writer_new (p->s, err);
  int r;

  if (w == NULL)
    return -1;
  p->writers = xrealloc (p->writers, (p->n_writers + 1) * sizeof *p->writers);
  p->writers[p->n_writers++] = w;
  rf_progress_start (p->progress, what, d->size);
  r = rf_registry_blob (p->registry, d, w, err);
  if (r == 0)
    r = rf_blob_writer_finish (w, d->digest, d->size, err);
  rf_progress_done (p->progress, r == 0);
  if (r < 0)
    return rf_error_wrap (err, "%s", what);
  *out = w;
  return 0;
}

/* A manifest fetched by digest must be those bytes. */
static int
check_digest (const char *body, size_t len, const char *want, rf_error_t *err)
{
  char got[RF_DIGEST_MAX];
  rf_digest_buffer (body, len, got);
  if (strcmp (got, want) != 0)
    return rf_error_make (err, 0, "manifest %s: digest mismatch (the registry sent %s)", want,
                          got);
  return 0;
}

int
rf_pull (rf_store_t *s, const char *text, const rf_pull_opts_t *opts, char digest[RF_DIGEST_MAX],
         char **name, rf_error_t *err)
{
  rf_ref_t ref;
  pull_t p = { .s = s, .progress = opts->registry.progress };
  cleanup_free char *body = NULL, *ctype = NULL;
  char *names[2] = { NULL, NULL };
  size_t len;
  rf_manifest_kind_t kind;
  bool existed;
  int ret = -1;

  *name = NULL;
  if (rf_ref_parse (text, &ref, err) < 0)
    return -1;
  names[0] = rf_ref_string (&ref);
  p.registry = rf_registry_new (&ref, &opts->registry);

  if (rf_registry_manifest (p.registry, ref.digest ? ref.digest : ref.tag, &body, &len, &ctype, err) < 0
      || (ref.digest && check_digest (body, len, ref.digest, err) < 0)
      || rf_manifest_kind (body, len, ctype, &kind, err) < 0)
    goto out;
  if (kind == RF_KIND_INDEX)
    {
      rf_index_t idx;
      const rf_descriptor_t *d;
      cleanup_free char *chosen = NULL;
      if (rf_index_parse (body, len, &idx, err) < 0)
        goto out;
      if (rf_index_select (&idx, opts->platform, &d, err) < 0)
        {
          rf_index_clear (&idx);
          goto out;
        }
      chosen = xstrdup (d->digest);
      rf_index_clear (&idx);
      free (body);
      free (ctype);
      body = ctype = NULL;
      if (rf_registry_manifest (p.registry, chosen, &body, &len, &ctype, err) < 0
          || check_digest (body, len, chosen, err) < 0
          || rf_manifest_kind (body, len, ctype, &kind, err) < 0)
        goto out;
      if (kind != RF_KIND_MANIFEST)
        {
          rf_error_make (err, 0, "manifest %s: an index inside an index", chosen);
          goto out;
        }
    }
  {
    rf_blob_source_t src = { .fetch = fetch, .ctx = &p };
    if (rf_ingest_image (s, body, len, &src, names, opts->check_layers, digest, &existed, err) < 0)
      goto out;
  }
  *name = steal_pointer (&names[0]);
  ret = 0;

out:
  for (size_t i = 0; i < p.n_writers; i++)
    rf_blob_writer_free (p.writers[i]);
  free (p.writers);
  rf_registry_free (p.registry);
  free (names[0]);
  if (ret < 0)
    {
      cleanup_free char *shown = rf_printable (text, 120);
      rf_error_wrap (err, "`%s`", shown);
    }
  rf_ref_clear (&ref);
  return ret;
}
