#include "build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "image.h"
#include "ingest.h"
#include "layerwrite.h"
#include "manifest.h"
#include "reference.h"
#include "tarpath.h"
#include "text.h"

void
rf_build_result_clear (rf_build_result_t *r)
{
  free (r->name);
  memset (r, 0, sizeof *r);
}

/* K=V entries replace the base's K, in place; new ones go at the end. */
static int
merge_env (json_t *config, char **env, rf_error_t *err)
{
  json_t *list = json_object_get (config, "Env");
  if (env == NULL)
    return 0;
  if (!json_is_array (list))
    json_object_set_new (config, "Env", list = json_array ());
  for (size_t i = 0; env[i]; i++)
    {
      const char *eq = strchr (env[i], '=');
      size_t k, klen;
      json_t *item;
      bool replaced = false;
      if (eq == NULL || eq == env[i])
        return rf_error_make (err, 0, "--env `%.60s`: expected K=V", env[i]);
      klen = (size_t) (eq - env[i]) + 1;
      json_array_foreach (list, k, item)
        if (json_is_string (item) && strncmp (json_string_value (item), env[i], klen) == 0)
          {
            json_array_set_new (list, k, json_string (env[i]));
            replaced = true;
            break;
          }
      if (!replaced)
        json_array_append_new (list, json_string (env[i]));
    }
  return 0;
}

static int
merge_labels (json_t *config, char **labels, rf_error_t *err)
{
  json_t *map = json_object_get (config, "Labels");
  if (labels == NULL)
    return 0;
  if (!json_is_object (map))
    json_object_set_new (config, "Labels", map = json_object ());
  for (size_t i = 0; labels[i]; i++)
    {
      const char *eq = strchr (labels[i], '=');
      cleanup_free char *k = NULL;
      if (eq == NULL || eq == labels[i])
        return rf_error_make (err, 0, "--label `%.60s`: expected K=V", labels[i]);
      k = xstrndup (labels[i], (size_t) (eq - labels[i]));
      json_object_set_new (map, k, json_string (eq + 1));
    }
  return 0;
}

static char *
rfc3339 (int64_t t)
{
  struct tm tm;
  time_t tt = (time_t) t;
  char buf[64];
  gmtime_r (&tt, &tm);
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return xstrdup (buf);
}

/* Docker's layer media types have OCI twins of the same bytes; the new
   manifest is an OCI one throughout. */
static const char *
oci_layer_type (const char *mt)
{
  if (strcmp (mt, RF_MT_DOCKER_LAYER_GZIP) == 0)
    return RF_MT_OCI_LAYER_GZIP;
  if (strcmp (mt, "application/vnd.docker.image.rootfs.diff.tar") == 0)
    return RF_MT_OCI_LAYER;
  return mt;
}

int
rf_build (rf_store_t *s, const rf_build_opts_t *opts, rf_build_result_t *out, rf_error_t *err)
{
  bool scratch = strcmp (opts->from, "scratch") == 0;
  cleanup_free char *dest = NULL, *created = NULL, *config_text = NULL, *manifest = NULL;
  cleanup_json json_t *doc = NULL;
  rf_image_t base = { 0 };
  rf_layer_opts_t lopts = { .uid = opts->uid, .gid = opts->gid, .clamp_mtime = opts->timestamp };
  rf_layer_result_t layer;
  rf_descriptor_t cdesc = { 0 };
  rf_descriptor_t *ldesc = NULL;
  size_t n_base = 0, mlen;
  char *names[2] = { NULL, NULL };
  json_t *config, *rootfs, *history;
  rf_ref_t ref;
  bool existed;
  int ret = -1;

  memset (out, 0, sizeof *out);
  if (rf_ref_parse (opts->name, &ref, err) < 0)
    return -1;
  if (ref.digest)
    {
      rf_ref_clear (&ref);
      return rf_error_make (err, 0, "-t `%.120s`: a name takes a tag, not a digest", opts->name);
    }
  names[0] = rf_ref_string (&ref);
  rf_ref_clear (&ref);
  if (strspn (opts->dest, "/") == strlen (opts->dest) && *opts->dest)
    dest = xstrdup ("");
  else if (opts->dest[0] != '/' || rf_tar_path_clean (opts->dest + 1, &dest, NULL) < 0)
    {
      cleanup_free char *shown = rf_printable (opts->dest, 120);
      rf_error_make (err, 0, "--dest `%s`: expected an absolute path without `..`", shown);
      goto out;
    }
  lopts.dest = dest;
  created = rfc3339 (opts->timestamp >= 0 ? opts->timestamp : (int64_t) time (NULL));

  /* The base's config, kept whole (fields runfctl does not know stay). */
  if (scratch)
    {
      rf_platform_t host = { 0 };
      rf_platform_host (&host);
      doc = json_pack ("{s:s, s:s, s:{}, s:{s:s, s:[]}, s:[]}", "architecture", host.architecture,
                       "os", host.os, "config", "rootfs", "type", "layers", "diff_ids", "history");
      if (host.variant)
        json_object_set_new (doc, "variant", json_string (host.variant));
      rf_platform_clear (&host);
    }
  else
    {
      char digest[RF_DIGEST_MAX];
      if (rf_image_resolve (s, opts->from, digest, err) < 0 || rf_image_load (s, digest, &base, err) < 0)
        {
          rf_error_wrap (err, "--from");
          goto out;
        }
      if (base.config_json == NULL || !json_is_object (base.config_json))
        {
          rf_error_make (err, 0, "--from: the base image's config is not a JSON object");
          goto out;
        }
      doc = json_deep_copy (base.config_json);
      n_base = base.manifest.n_layers;
    }
  config = json_object_get (doc, "config");
  if (!json_is_object (config))
    json_object_set_new (doc, "config", config = json_object ());
  if (opts->entrypoint)
    {
      if (opts->entrypoint[0] && opts->entrypoint[0][0] == '\0' && opts->entrypoint[1] == NULL)
        json_object_del (config, "Entrypoint");
      else
        json_object_set_new (config, "Entrypoint", rf_json_strv (opts->entrypoint));
      /* As a Dockerfile's ENTRYPOINT does: the base's Cmd was its
         arguments, and goes with it. */
      if (opts->cmd == NULL)
        json_object_del (config, "Cmd");
    }
  if (opts->cmd)
    json_object_set_new (config, "Cmd", rf_json_strv (opts->cmd));
  if (opts->workdir)
    {
      if (opts->workdir[0] != '/')
        {
          rf_error_make (err, 0, "--workdir `%.120s`: expected an absolute path", opts->workdir);
          goto out;
        }
      json_object_set_new (config, "WorkingDir", json_string (opts->workdir));
    }
  if (opts->user)
    json_object_set_new (config, "User", json_string (opts->user));
  if (merge_env (config, opts->env, err) < 0 || merge_labels (config, opts->labels, err) < 0)
    goto out;

  if (rf_layer_from_dir (s, opts->dir, &lopts, &layer, err) < 0)
    goto out;
  rootfs = json_object_get (doc, "rootfs");
  if (!json_is_object (rootfs) || !json_is_array (json_object_get (rootfs, "diff_ids")))
    {
      rf_error_make (err, 0, "--from: the base image's config has no rootfs.diff_ids");
      goto out;
    }
  json_array_append_new (json_object_get (rootfs, "diff_ids"), json_string (layer.diff_id));
  history = json_object_get (doc, "history");
  if (!json_is_array (history))
    json_object_set_new (doc, "history", history = json_array ());
  json_array_append_new (history, json_pack ("{s:s, s:s}", "created", created, "created_by",
                                             opts->created_by ? opts->created_by : "runfctl image build"));
  json_object_set_new (doc, "created", json_string (created));
  config_text = json_dumps (doc, JSON_COMPACT);

  cdesc.media_type = RF_MT_OCI_CONFIG;
  cdesc.size = (int64_t) strlen (config_text);
  {
    char cdigest[RF_DIGEST_MAX];
    if (rf_store_put_blob (s, config_text, strlen (config_text), cdigest, err) < 0)
      goto out;
    cdesc.digest = xstrdup (cdigest);
  }
  ldesc = xzalloc ((n_base + 1) * sizeof *ldesc);
  for (size_t i = 0; i < n_base; i++)
    {
      ldesc[i].media_type = (char *) oci_layer_type (base.manifest.layers[i].media_type);
      ldesc[i].digest = base.manifest.layers[i].digest;
      ldesc[i].size = base.manifest.layers[i].size;
    }
  ldesc[n_base].media_type = RF_MT_OCI_LAYER_GZIP;
  ldesc[n_base].digest = layer.digest;
  ldesc[n_base].size = layer.size;
  manifest = rf_manifest_build (&cdesc, ldesc, n_base + 1, &mlen);
  /* Everything is in the store already: the ingest checks the manifest
     against its config and blobs, stores it, and names it. */
  if (rf_ingest_image (s, manifest, mlen, NULL, names, false, out->digest, &existed, err) < 0)
    goto out;
  out->name = steal_pointer (&names[0]);
  snprintf (out->layer, sizeof out->layer, "%s", layer.digest);
  out->layer_size = layer.size;
  out->entries = layer.entries;
  ret = 0;

out:
  free (cdesc.digest);
  free (ldesc);
  free (names[0]);
  rf_image_clear (&base);
  return ret;
}
