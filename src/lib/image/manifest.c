#include "manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "digest.h"
#include "text.h"

static int
unknown_media_type (rf_error_t *err, const char *where, const char *mt)
{
  cleanup_free char *shown = rf_printable (mt, 100);
  return rf_error_make (err, 0, "%s%sunknown media type `%s`", where ? where : "",
                        where ? ": " : "", shown);
}

static json_t *
load (const char *what, const char *buf, size_t len, rf_error_t *err)
{
  json_t *j;
  if (len > RF_CONFIG_MAX)
    return rf_error_make (err, 0, "%s: larger than %d bytes", what, RF_CONFIG_MAX), NULL;
  j = rf_json_load_buffer (what, buf, len, err);
  if (j && !json_is_object (j))
    {
      rf_error_make (err, 0, "%s: expected a JSON object, got %s", what,
                     rf_json_type_name (j));
      json_decref (j);
      return NULL;
    }
  return j;
}

static bool
schema1_p (const char *mt)
{
  return strcmp (mt, "application/vnd.docker.distribution.manifest.v1+json") == 0
         || strcmp (mt, "application/vnd.docker.distribution.manifest.v1+prettyjws") == 0;
}

static int
kind_of_media_type (const char *mt, rf_manifest_kind_t *kind, rf_error_t *err)
{
  if (strcmp (mt, RF_MT_OCI_MANIFEST) == 0 || strcmp (mt, RF_MT_DOCKER_MANIFEST) == 0)
    *kind = RF_KIND_MANIFEST;
  else if (strcmp (mt, RF_MT_OCI_INDEX) == 0 || strcmp (mt, RF_MT_DOCKER_LIST) == 0)
    *kind = RF_KIND_INDEX;
  else if (schema1_p (mt))
    return rf_error_make (err, 0, "Docker schema 1 manifests are not supported "
                                        "(push the image again with a current client)");
  else
    return unknown_media_type (err, "manifest", mt);
  return 0;
}

int
rf_manifest_kind (const char *buf, size_t len, const char *content_type,
                  rf_manifest_kind_t *kind, rf_error_t *err)
{
  cleanup_json json_t *doc = NULL;
  const char *mt = NULL;
  int64_t version = 0;

  *kind = RF_KIND_UNKNOWN;
  if (len > RF_MANIFEST_MAX)
    return rf_error_make (err, 0, "manifest: larger than %d bytes", RF_MANIFEST_MAX);
  doc = load ("manifest", buf, len, err);
  if (doc == NULL)
    return -1;
  if (rf_json_get_string (doc, "", "mediaType", &mt, err) < 0)
    return -1;
  if (mt)
    return kind_of_media_type (mt, kind, err);
  if (content_type)
    {
      cleanup_free char *ct = xstrndup (content_type, strcspn (content_type, "; \t"));
      if (strcmp (ct, "application/json") != 0 && strcmp (ct, "text/plain") != 0
          && strcmp (ct, "application/octet-stream") != 0 && *ct)
        return kind_of_media_type (ct, kind, err);
    }
  /* OCI documents may leave mediaType out: tell them apart by shape. */
  if (rf_json_get_int64 (doc, "", "schemaVersion", &version, err) < 0)
    return -1;
  if (version == 1)
    return kind_of_media_type ("application/vnd.docker.distribution.manifest.v1+json", kind, err);
  if (json_is_array (json_object_get (doc, "manifests")))
    *kind = RF_KIND_INDEX;
  else if (json_is_object (json_object_get (doc, "config")))
    *kind = RF_KIND_MANIFEST;
  else
    return rf_error_make (err, 0, "manifest: neither an image manifest nor an index");
  return 0;
}

void
rf_platform_clear (rf_platform_t *p)
{
  free (p->os);
  free (p->architecture);
  free (p->variant);
  memset (p, 0, sizeof *p);
}

void
rf_descriptor_clear (rf_descriptor_t *d)
{
  free (d->media_type);
  free (d->digest);
  free (d->ref_name);
  free (d->image_name);
  rf_platform_clear (&d->platform);
  memset (d, 0, sizeof *d);
}

static int
parse_descriptor (json_t *j, const char *where, rf_descriptor_t *d, rf_error_t *err)
{
  const char *mt = NULL, *digest = NULL, *s = NULL;
  json_t *platform = NULL, *annotations = NULL;
  int64_t size = -1;

  memset (d, 0, sizeof *d);
  if (!json_is_object (j))
    return rf_error_make (err, 0, "%s: expected an object, got %s", where,
                          rf_json_type_name (j));
  if (rf_json_get_string (j, where, "mediaType", &mt, err) < 0
      || rf_json_get_string (j, where, "digest", &digest, err) < 0
      || rf_json_get_int64 (j, where, "size", &size, err) < 0
      || rf_json_get_object (j, where, "platform", &platform, err) < 0
      || rf_json_get_object (j, where, "annotations", &annotations, err) < 0)
    return -1;
  if (mt == NULL)
    return rf_error_make (err, 0, "%s.mediaType: missing", where);
  if (digest == NULL)
    return rf_error_make (err, 0, "%s.digest: missing", where);
  if (rf_digest_check (digest, err) < 0)
    return rf_error_wrap (err, "%s.digest", where);
  if (size < 0)
    return rf_error_make (err, 0, "%s.size: %s", where,
                          json_object_get (j, "size") ? "must not be negative" : "missing");
  d->media_type = xstrdup (mt);
  d->digest = xstrdup (digest);
  d->size = size;
  if (platform)
    {
      cleanup_free char *pw = xasprintf ("%s.platform", where);
      const char *os = NULL, *arch = NULL, *variant = NULL;
      if (rf_json_get_string (platform, pw, "os", &os, err) < 0
          || rf_json_get_string (platform, pw, "architecture", &arch, err) < 0
          || rf_json_get_string (platform, pw, "variant", &variant, err) < 0)
        {
          rf_descriptor_clear (d);
          return -1;
        }
      d->has_platform = true;
      d->platform.os = xstrdup (os ? os : "");
      d->platform.architecture = xstrdup (arch ? arch : "");
      d->platform.variant = variant && *variant ? xstrdup (variant) : NULL;
    }
  if (annotations)
    {
      if (json_is_string (json_object_get (annotations, "org.opencontainers.image.ref.name")))
        {
          s = json_string_value (json_object_get (annotations, "org.opencontainers.image.ref.name"));
          d->ref_name = xstrdup (s);
        }
      if (json_is_string (json_object_get (annotations, "io.containerd.image.name")))
        {
          s = json_string_value (json_object_get (annotations, "io.containerd.image.name"));
          d->image_name = xstrdup (s);
        }
    }
  return 0;
}

static int
check_schema_version (json_t *doc, const char *what, rf_error_t *err)
{
  int64_t version = -1;
  if (rf_json_get_int64 (doc, "", "schemaVersion", &version, err) < 0)
    return rf_error_wrap (err, "%s", what);
  if (version != 2)
    return rf_error_make (err, 0, "%s: schemaVersion %lld is not supported (expected 2)",
                          what, (long long) version);
  return 0;
}

int
rf_layer_media_type (const char *mt, rf_compression_t *out)
{
  static const struct
  {
    const char *type;
    rf_compression_t compression;
  } known[] = {
    { RF_MT_OCI_LAYER, RF_COMPRESSION_NONE },
    { RF_MT_OCI_LAYER_GZIP, RF_COMPRESSION_GZIP },
    { RF_MT_OCI_LAYER_ZSTD, RF_COMPRESSION_ZSTD },
    { RF_MT_DOCKER_LAYER_GZIP, RF_COMPRESSION_GZIP },
    { "application/vnd.docker.image.rootfs.diff.tar", RF_COMPRESSION_NONE },
    { "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", RF_COMPRESSION_GZIP },
    { "application/vnd.oci.image.layer.nondistributable.v1.tar", RF_COMPRESSION_NONE },
    { "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", RF_COMPRESSION_GZIP },
    { "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", RF_COMPRESSION_ZSTD },
  };
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcmp (mt, known[i].type) == 0)
      {
        *out = known[i].compression;
        return 0;
      }
  return -1;
}

void
rf_manifest_clear (rf_manifest_t *m)
{
  free (m->media_type);
  rf_descriptor_clear (&m->config);
  for (size_t i = 0; i < m->n_layers; i++)
    rf_descriptor_clear (&m->layers[i]);
  free (m->layers);
  free (m->compression);
  memset (m, 0, sizeof *m);
}

int
rf_manifest_parse (const char *buf, size_t len, rf_manifest_t *out, rf_error_t *err)
{
  cleanup_json json_t *doc = NULL;
  json_t *config = NULL, *layers = NULL, *item;
  const char *mt = NULL;
  rf_manifest_t m = { 0 };
  size_t i;

  memset (out, 0, sizeof *out);
  if (len > RF_MANIFEST_MAX)
    return rf_error_make (err, 0, "manifest: larger than %d bytes", RF_MANIFEST_MAX);
  doc = load ("manifest", buf, len, err);
  if (doc == NULL || check_schema_version (doc, "manifest", err) < 0)
    return -1;
  if (rf_json_get_string (doc, "", "mediaType", &mt, err) < 0
      || rf_json_get_object (doc, "", "config", &config, err) < 0
      || rf_json_get_array (doc, "", "layers", &layers, err) < 0)
    return rf_error_wrap (err, "manifest");
  if (mt && strcmp (mt, RF_MT_OCI_MANIFEST) != 0 && strcmp (mt, RF_MT_DOCKER_MANIFEST) != 0)
    {
      rf_manifest_kind_t kind;
      if (kind_of_media_type (mt, &kind, err) < 0)
        return -1;
      return rf_error_make (err, 0, "manifest: an index where an image manifest was expected");
    }
  if (config == NULL)
    return rf_error_make (err, 0, "manifest: config: missing");
  if (layers == NULL)
    return rf_error_make (err, 0, "manifest: layers: missing");
  m.media_type = xstrdup (mt ? mt : RF_MT_OCI_MANIFEST);
  if (parse_descriptor (config, "config", &m.config, err) < 0)
    goto fail;
  if (strcmp (m.config.media_type, RF_MT_OCI_CONFIG) != 0
      && strcmp (m.config.media_type, RF_MT_DOCKER_CONFIG) != 0)
    {
      unknown_media_type (err, "config.mediaType", m.config.media_type);
      rf_error_wrap (err, "not a container image");
      goto fail;
    }
  m.layers = xzalloc ((json_array_size (layers) + 1) * sizeof *m.layers);
  m.compression = xzalloc ((json_array_size (layers) + 1) * sizeof *m.compression);
  json_array_foreach (layers, i, item)
    {
      char where[48];
      snprintf (where, sizeof where, "layers[%zu]", i);
      if (parse_descriptor (item, where, &m.layers[i], err) < 0)
        goto fail;
      m.n_layers = i + 1;
      if (rf_layer_media_type (m.layers[i].media_type, &m.compression[i]) < 0)
        {
          snprintf (where, sizeof where, "layers[%zu].mediaType", i);
          unknown_media_type (err, where, m.layers[i].media_type);
          goto fail;
        }
    }
  *out = m;
  return 0;

fail:
  rf_error_wrap (err, "manifest");
  rf_manifest_clear (&m);
  return -1;
}

void
rf_index_clear (rf_index_t *idx)
{
  free (idx->media_type);
  for (size_t i = 0; i < idx->n_manifests; i++)
    rf_descriptor_clear (&idx->manifests[i]);
  free (idx->manifests);
  memset (idx, 0, sizeof *idx);
}

int
rf_index_parse (const char *buf, size_t len, rf_index_t *out, rf_error_t *err)
{
  cleanup_json json_t *doc = NULL;
  json_t *manifests = NULL, *item;
  const char *mt = NULL;
  rf_index_t idx = { 0 };
  size_t i;

  memset (out, 0, sizeof *out);
  if (len > RF_MANIFEST_MAX)
    return rf_error_make (err, 0, "index: larger than %d bytes", RF_MANIFEST_MAX);
  doc = load ("index", buf, len, err);
  if (doc == NULL || check_schema_version (doc, "index", err) < 0)
    return -1;
  if (rf_json_get_string (doc, "", "mediaType", &mt, err) < 0
      || rf_json_get_array (doc, "", "manifests", &manifests, err) < 0)
    return rf_error_wrap (err, "index");
  if (mt && strcmp (mt, RF_MT_OCI_INDEX) != 0 && strcmp (mt, RF_MT_DOCKER_LIST) != 0)
    {
      rf_manifest_kind_t kind;
      if (kind_of_media_type (mt, &kind, err) < 0)
        return -1;
      return rf_error_make (err, 0, "index: an image manifest where an index was expected");
    }
  if (manifests == NULL)
    return rf_error_make (err, 0, "index: manifests: missing");
  idx.media_type = xstrdup (mt ? mt : RF_MT_OCI_INDEX);
  idx.manifests = xzalloc ((json_array_size (manifests) + 1) * sizeof *idx.manifests);
  json_array_foreach (manifests, i, item)
    {
      char where[48];
      snprintf (where, sizeof where, "manifests[%zu]", i);
      if (parse_descriptor (item, where, &idx.manifests[i], err) < 0)
        {
          rf_error_wrap (err, "index");
          rf_index_clear (&idx);
          return -1;
        }
      idx.n_manifests = i + 1;
    }
  *out = idx;
  return 0;
}

void
rf_image_config_clear (rf_image_config_t *c)
{
  free (c->created);
  free (c->author);
  free (c->os);
  free (c->architecture);
  free (c->variant);
  strv_free (c->entrypoint);
  strv_free (c->cmd);
  strv_free (c->env);
  free (c->working_dir);
  free (c->user);
  free (c->stop_signal);
  strv_free (c->labels);
  strv_free (c->diff_ids);
  memset (c, 0, sizeof *c);
}

static char *
dup_or_null (const char *s)
{
  return s ? xstrdup (s) : NULL;
}

int
rf_image_config_parse (const char *buf, size_t len, rf_image_config_t *out, rf_error_t *err)
{
  cleanup_json json_t *doc = NULL;
  json_t *config = NULL, *rootfs = NULL;
  const char *created = NULL, *author = NULL, *os = NULL, *arch = NULL, *variant = NULL;
  const char *workdir = NULL, *user = NULL, *stop = NULL, *type = NULL;
  rf_image_config_t c = { 0 };

  memset (out, 0, sizeof *out);
  doc = load ("image config", buf, len, err);
  if (doc == NULL)
    return -1;
  if (rf_json_get_string (doc, "", "created", &created, err) < 0
      || rf_json_get_string (doc, "", "author", &author, err) < 0
      || rf_json_get_string (doc, "", "os", &os, err) < 0
      || rf_json_get_string (doc, "", "architecture", &arch, err) < 0
      || rf_json_get_string (doc, "", "variant", &variant, err) < 0
      || rf_json_get_object (doc, "", "config", &config, err) < 0
      || rf_json_get_object (doc, "", "rootfs", &rootfs, err) < 0)
    return rf_error_wrap (err, "image config");
  if (rootfs == NULL)
    return rf_error_make (err, 0, "image config: rootfs: missing");
  if (rf_json_get_string (rootfs, "rootfs", "type", &type, err) < 0)
    return rf_error_wrap (err, "image config");
  if (type == NULL || strcmp (type, "layers") != 0)
    return rf_error_make (err, 0, "image config: rootfs.type: expected `layers`");
  if (rf_json_get_strv (rootfs, "rootfs", "diff_ids", &c.diff_ids, err) < 0)
    return rf_error_wrap (err, "image config");
  c.n_diff_ids = strv_len (c.diff_ids);
  for (size_t i = 0; i < c.n_diff_ids; i++)
    if (rf_digest_check (c.diff_ids[i], err) < 0)
      {
        rf_image_config_clear (&c);
        return rf_error_wrap (err, "image config: rootfs.diff_ids[%zu]", i);
      }
  if (config
      && (rf_json_get_strv (config, "config", "Entrypoint", &c.entrypoint, err) < 0
          || rf_json_get_strv (config, "config", "Cmd", &c.cmd, err) < 0
          || rf_json_get_strv (config, "config", "Env", &c.env, err) < 0
          || rf_json_get_string (config, "config", "WorkingDir", &workdir, err) < 0
          || rf_json_get_string (config, "config", "User", &user, err) < 0
          || rf_json_get_string (config, "config", "StopSignal", &stop, err) < 0
          || rf_json_get_strmap (config, "config", "Labels", &c.labels, err) < 0))
    {
      rf_image_config_clear (&c);
      return rf_error_wrap (err, "image config");
    }
  c.created = dup_or_null (created);
  c.author = dup_or_null (author);
  c.os = dup_or_null (os);
  c.architecture = dup_or_null (arch);
  c.variant = dup_or_null (variant);
  c.working_dir = dup_or_null (workdir);
  c.user = dup_or_null (user);
  c.stop_signal = dup_or_null (stop);
  *out = c;
  return 0;
}

/* Docker's default variants, so that "linux/arm64" and "linux/arm64/v8"
   name the same thing. */
static const char *
normal_variant (const char *arch, const char *variant)
{
  if (variant && *variant)
    return variant;
  if (strcmp (arch, "arm64") == 0)
    return "v8";
  if (strcmp (arch, "arm") == 0)
    return "v7";
  return "";
}

int
rf_platform_parse (const char *s, rf_platform_t *out, rf_error_t *err)
{
  cleanup_free char *copy = xstrdup (s);
  char *arch, *variant = NULL;

  memset (out, 0, sizeof *out);
  arch = strchr (copy, '/');
  if (arch == NULL || arch == copy || arch[1] == '\0')
    goto bad;
  *arch++ = '\0';
  variant = strchr (arch, '/');
  if (variant)
    {
      *variant++ = '\0';
      if (*variant == '\0' || strchr (variant, '/'))
        goto bad;
    }
  if (*arch == '\0')
    goto bad;
  out->os = xstrdup (copy);
  out->architecture = xstrdup (arch);
  out->variant = dup_or_null (variant);
  return 0;

bad:
  {
    cleanup_free char *shown = rf_printable (s, 80);
    return rf_error_make (err, 0, "--platform `%s`: expected os/arch[/variant]", shown);
  }
}

void
rf_platform_host (rf_platform_t *out)
{
  const char *arch, *variant = NULL;
#if defined(__x86_64__)
  arch = "amd64";
#elif defined(__aarch64__)
  arch = "arm64";
  variant = "v8";
#elif defined(__arm__)
  arch = "arm";
  variant = "v7";
#elif defined(__i386__)
  arch = "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  arch = "ppc64le";
#elif defined(__s390x__)
  arch = "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  arch = "riscv64";
#else
  arch = "amd64";
#endif
  out->os = xstrdup ("linux");
  out->architecture = xstrdup (arch);
  out->variant = dup_or_null (variant);
}

bool
rf_platform_match_p (const rf_platform_t *want, const rf_platform_t *have)
{
  if (strcmp (want->os, have->os) != 0 || strcmp (want->architecture, have->architecture) != 0)
    return false;
  if (want->variant == NULL)
    return true;
  return strcmp (normal_variant (want->architecture, want->variant),
                 normal_variant (have->architecture, have->variant)) == 0;
}

char *
rf_platform_string (const rf_platform_t *p)
{
  cleanup_free char *os = rf_printable (p->os, 32);
  cleanup_free char *arch = rf_printable (p->architecture, 32);
  cleanup_free char *variant = rf_printable (p->variant, 32);
  return xasprintf ("%s/%s%s%s", os, arch, p->variant ? "/" : "", p->variant ? variant : "");
}

static bool
image_manifest_type_p (const char *mt)
{
  return strcmp (mt, RF_MT_OCI_MANIFEST) == 0 || strcmp (mt, RF_MT_DOCKER_MANIFEST) == 0;
}

int
rf_index_select (const rf_index_t *idx, const rf_platform_t *want,
                 const rf_descriptor_t **out, rf_error_t *err)
{
  cleanup_free char *have = xstrdup ("");
  cleanup_free char *wanted = NULL;
  const rf_descriptor_t *only = NULL;
  size_t n_images = 0;

  for (size_t i = 0; i < idx->n_manifests; i++)
    {
      const rf_descriptor_t *d = &idx->manifests[i];
      if (!image_manifest_type_p (d->media_type))
        continue;
      n_images++;
      only = d;
      if (d->has_platform && rf_platform_match_p (want, &d->platform))
        {
          *out = d;
          return 0;
        }
    }
  /* An index whose only image says nothing of its platform (as OCI layouts
     written by hand do) is taken to be for any platform. */
  if (n_images == 1 && !only->has_platform)
    {
      *out = only;
      return 0;
    }
  for (size_t i = 0; i < idx->n_manifests; i++)
    {
      const rf_descriptor_t *d = &idx->manifests[i];
      cleanup_free char *p = NULL;
      char *joined;
      if (!image_manifest_type_p (d->media_type) || !d->has_platform
          || strcmp (d->platform.os, "unknown") == 0)
        continue;
      p = rf_platform_string (&d->platform);
      if (strlen (have) > 200)
        break;
      joined = xasprintf ("%s%s%s", have, *have ? ", " : "", p);
      free (have);
      have = joined;
    }
  wanted = rf_platform_string (want);
  return rf_error_make (err, 0, "no manifest for platform %s (the image has %s)", wanted,
                        *have ? have : "none with a platform");
}

char *
rf_manifest_build (const rf_descriptor_t *config, const rf_descriptor_t *layers,
                   size_t n_layers, size_t *len)
{
  cleanup_json json_t *doc = NULL;
  json_t *arr = json_array ();
  char *text;

  for (size_t i = 0; i < n_layers; i++)
    json_array_append_new (arr, json_pack ("{s:s, s:s, s:I}", "mediaType", layers[i].media_type,
                                           "digest", layers[i].digest, "size",
                                           (json_int_t) layers[i].size));
  doc = json_pack ("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
                   RF_MT_OCI_MANIFEST, "config", "mediaType", config->media_type, "digest",
                   config->digest, "size", (json_int_t) config->size, "layers", arr);
  text = json_dumps (doc, JSON_COMPACT);
  if (text == NULL)
    abort ();
  *len = strlen (text);
  return text;
}
