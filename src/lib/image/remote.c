#include "remote.h"

#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "digest.h"
#include "reference.h"
#include "text.h"

json_t *
rf_inspect_doc (const char *digest, const rf_manifest_t *m, const rf_image_config_t *c,
                json_t *config_json, int64_t size)
{
  json_t *layers = json_array (), *diff_ids = json_array (), *doc;
  json_t *config = config_json ? json_object_get (config_json, "config") : NULL;
  rf_platform_t p = { .os = c->os ? c->os : "",
                      .architecture = c->architecture ? c->architecture : "",
                      .variant = c->variant };
  cleanup_free char *platform = rf_platform_string (&p);

  for (size_t i = 0; i < m->n_layers; i++)
    json_array_append_new (layers, json_pack ("{s:s, s:s, s:I}", "mediaType", m->layers[i].media_type,
                                              "digest", m->layers[i].digest, "size",
                                              (json_int_t) m->layers[i].size));
  for (size_t i = 0; i < c->n_diff_ids; i++)
    json_array_append_new (diff_ids, json_string (c->diff_ids[i]));
  doc = json_pack ("{s:s, s:s, s:I, s:s?, s:s, s:s, s:O?, s:o, s:o}", "digest", digest, "mediaType",
                   m->media_type, "size", (json_int_t) size, "created", c->created, "platform",
                   platform, "configDigest", m->config.digest, "config",
                   json_is_object (config) ? config : NULL, "layers", layers, "diffIds", diff_ids);
  if (doc == NULL)
    abort ();
  return doc;
}

static int
check_digest (const char *body, size_t len, const char *want, rf_error_t *err)
{
  char got[RF_DIGEST_MAX];
  rf_digest_buffer (body, len, got);
  if (strcmp (got, want) != 0)
    return rf_error_make (err, 0, "manifest %s: digest mismatch (the registry sent %s)", want, got);
  return 0;
}

int
rf_inspect_remote (const char *text, const rf_registry_opts_t *opts, const rf_platform_t *platform,
                   bool raw, char **out, rf_error_t *err)
{
  rf_ref_t ref;
  rf_registry_t *r = NULL;
  cleanup_free char *body = NULL, *ctype = NULL, *config_text = NULL;
  cleanup_free char *name = NULL;
  cleanup_json json_t *index = NULL;
  cleanup_json json_t *doc = NULL;
  char digest[RF_DIGEST_MAX];
  rf_manifest_t m = { 0 };
  rf_image_config_t c = { 0 };
  rf_manifest_kind_t kind;
  size_t len, config_len;
  int64_t size;
  int ret = -1;

  if (rf_ref_parse (text, &ref, err) < 0)
    return -1;
  name = rf_ref_string (&ref);
  r = rf_registry_new (&ref, opts);
  if (rf_registry_manifest (r, ref.digest ? ref.digest : ref.tag, &body, &len, &ctype, err) < 0
      || (ref.digest && check_digest (body, len, ref.digest, err) < 0)
      || rf_manifest_kind (body, len, ctype, &kind, err) < 0)
    goto out;
  if (raw)
    {
      *out = xstrndup (body, len);
      ret = 0;
      goto out;
    }
  if (kind == RF_KIND_INDEX)
    {
      rf_index_t idx;
      const rf_descriptor_t *d;
      cleanup_free char *chosen = NULL;
      json_t *platforms = json_array ();
      if (rf_index_parse (body, len, &idx, err) < 0)
        goto out;
      rf_digest_buffer (body, len, digest);
      for (size_t i = 0; i < idx.n_manifests; i++)
        if (idx.manifests[i].has_platform)
          {
            cleanup_free char *p = rf_platform_string (&idx.manifests[i].platform);
            json_array_append_new (platforms, json_string (p));
          }
      index = json_pack ("{s:s, s:s, s:o}", "digest", digest, "mediaType", idx.media_type,
                         "platforms", platforms);
      if (rf_index_select (&idx, platform, &d, err) < 0)
        {
          rf_index_clear (&idx);
          goto out;
        }
      chosen = xstrdup (d->digest);
      rf_index_clear (&idx);
      free (body);
      free (ctype);
      body = ctype = NULL;
      if (rf_registry_manifest (r, chosen, &body, &len, &ctype, err) < 0
          || check_digest (body, len, chosen, err) < 0
          || rf_manifest_kind (body, len, ctype, &kind, err) < 0)
        goto out;
      if (kind != RF_KIND_MANIFEST)
        {
          rf_error_make (err, 0, "manifest %s: an index inside an index", chosen);
          goto out;
        }
    }
  rf_digest_buffer (body, len, digest);
  if (rf_manifest_parse (body, len, &m, err) < 0
      || rf_registry_blob_buffer (r, &m.config, RF_CONFIG_MAX, &config_text, &config_len, err) < 0
      || rf_image_config_parse (config_text, config_len, &c, err) < 0)
    goto out;
  size = (int64_t) len + m.config.size;
  for (size_t i = 0; i < m.n_layers; i++)
    size += m.layers[i].size;
  {
    json_t *config_json = json_loadb (config_text, config_len, 0, NULL);
    doc = rf_inspect_doc (digest, &m, &c, config_json, size);
    if (config_json)
      json_decref (config_json);
  }
  json_object_set_new (doc, "name", json_string (name));
  if (index)
    json_object_set (doc, "index", index);
  *out = json_dumps (doc, JSON_INDENT (2));
  ret = 0;

out:
  rf_manifest_clear (&m);
  rf_image_config_clear (&c);
  rf_registry_free (r);
  if (ret < 0)
    {
      cleanup_free char *shown = rf_printable (text, 120);
      rf_error_wrap (err, "`%s`", shown);
    }
  rf_ref_clear (&ref);
  return ret;
}
