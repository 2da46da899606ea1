/* runfctl image ls [--json] and runfctl image inspect REF */
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "image/image.h"
#include "image/remote.h"
#include "image/text.h"
#include "runfctl.h"

static void
short_created (const char *created, char *buf, size_t len)
{
  /* "2024-01-02T03:04:05.123Z" -> "2024-01-02 03:04" */
  if (created == NULL || strlen (created) < 16)
    {
      snprintf (buf, len, "-");
      return;
    }
  snprintf (buf, len, "%.10s %.5s", created, created + 11);
}

enum { O_JSON = 1 };

const runfctl_option_t runfctl_ls_options[] = {
  { "json", O_JSON, no_argument, NULL, "a JSON array instead of a table" },
  RUNFCTL_STORE_OPTION,
  RUNFCTL_OPTIONS_END,
};

int
runfctl_image_ls (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_store rf_store_t *s = NULL;
  cleanup_json json_t *refs = NULL;
  cleanup_json json_t *out = json_array ();
  bool as_json = false;
  const char *name;
  json_t *value;
  int c;

  while ((c = runfctl_getopt (g, argc, argv, "image ls", runfctl_ls_options, err)) != -1)
    if (c == O_JSON)
      as_json = true;
    else
      return -1;
  if (runfctl_positional (argc, argv, 0, "image ls", "", err) < 0
      || runfctl_open_store (g, RF_STORE_READ, &s, err) < 0 || rf_store_refs_load (s, &refs, err) < 0)
    return -1;
  json_object_foreach (refs, name, value)
    {
      rf_image_t img;
      const char *digest = json_string_value (value);
      if (rf_image_load (s, digest, &img, NULL) < 0)
        {
          json_array_append_new (out, json_pack ("{s:s, s:s, s:n, s:n}", "name", name, "digest",
                                                 digest, "size", "created"));
          continue;
        }
      json_array_append_new (out, json_pack ("{s:s, s:s, s:I, s:s?}", "name", name, "digest",
                                             digest, "size", (json_int_t) rf_image_size (s, &img),
                                             "created", img.config.created));
      rf_image_clear (&img);
    }
  if (as_json)
    {
      cleanup_free char *text = json_dumps (out, JSON_INDENT (2));
      printf ("%s\n", text);
      return 0;
    }
  printf ("%-50s %-12s %10s  %s\n", "NAME", "DIGEST", "SIZE", "CREATED");
  {
    size_t i;
    json_t *row;
    json_array_foreach (out, i, row)
      {
        char size[32] = "broken", created[32];
        json_t *jsize = json_object_get (row, "size");
        if (json_is_integer (jsize))
          rf_format_size ((double) json_integer_value (jsize), size, sizeof size);
        short_created (json_string_value (json_object_get (row, "created")), created,
                       sizeof created);
        printf ("%-50s %.12s %10s  %s\n", json_string_value (json_object_get (row, "name")),
                json_string_value (json_object_get (row, "digest")) + 7, size, created);
      }
  }
  return 0;
}

enum { O_REMOTE = 1, O_RAW, O_PLATFORM };

const runfctl_option_t runfctl_inspect_options[] = {
  { "remote", O_REMOTE, no_argument, NULL,
    "ask REF's registry, fetching its manifest and config only (default: the store; "
    "docker://REF means --remote)" },
  { "raw", O_RAW, no_argument, NULL,
    "with --remote: the manifest or index as the registry sent it" },
  { "platform", O_PLATFORM, required_argument, "OS/ARCH[/VARIANT]",
    "with --remote: the image to show from a multi-platform index (default: this machine's)" },
  RUNFCTL_REGISTRY_OPTIONS,
  RUNFCTL_STORE_OPTION,
  RUNFCTL_OPTIONS_END,
};

static int
inspect_remote (const char *ref, const rf_registry_opts_t *opts, const rf_platform_t *platform,
                bool raw, rf_error_t *err)
{
  cleanup_free char *text = NULL;
  if (rf_inspect_remote (ref, opts, platform, raw, &text, err) < 0)
    return rf_error_wrap (err, "image inspect");
  printf ("%s\n", text);
  return 0;
}

int
runfctl_image_inspect (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_store rf_store_t *s = NULL;
  cleanup_json json_t *refs = NULL;
  cleanup_json json_t *doc = NULL;
  cleanup_free char *text = NULL;
  runfctl_creds_t creds = { 0 };
  rf_platform_t platform = { 0 };
  rf_registry_opts_t ropts = { .tls_verify = true, .timeout = 30, .retries = 3 };
  bool remote = false, raw = false, registry_opt = false;
  char digest[RF_DIGEST_MAX];
  const char *ref;
  rf_image_t img;
  int c, ret = -1;

  rf_platform_host (&platform);
  while ((c = runfctl_getopt (g, argc, argv, "image inspect", runfctl_inspect_options, err)) != -1)
    switch (c)
      {
      case O_REMOTE: remote = true; break;
      case O_RAW: raw = true; break;
      case O_PLATFORM:
        if (runfctl_parse_platform (optarg, &platform, err) < 0)
          goto out;
        registry_opt = true;
        break;
      default:
        if (runfctl_registry_option (c, "image inspect", &ropts, &creds, err) <= 0)
          goto out;
        registry_opt = true;
      }
  if (runfctl_positional (argc, argv, 1, "image inspect", "REF", err) < 0)
    goto out;
  ref = argv[optind];
  if (strncmp (ref, "docker://", 9) == 0)
    {
      ref += 9;
      remote = true;
    }
  if (!remote && (raw || registry_opt))
    {
      rf_error_make (err, 0, "image inspect: --raw, --platform and the registry options need --remote");
      goto out;
    }
  if (remote)
    {
      ret = inspect_remote (ref, &ropts, &platform, raw, err);
      goto out;
    }
  if (runfctl_open_store (g, RF_STORE_READ, &s, err) < 0
      || rf_store_refs_load (s, &refs, err) < 0
      || rf_image_resolve (s, ref, digest, err) < 0
      || rf_image_load (s, digest, &img, err) < 0)
    {
      rf_error_wrap (err, "image inspect");
      goto out;
    }
  doc = rf_image_inspect (s, &img, refs);
  rf_image_clear (&img);
  text = json_dumps (doc, JSON_INDENT (2));
  printf ("%s\n", text);
  ret = 0;
out:
  rf_platform_clear (&platform);
  runfctl_creds_clear (&creds);
  return ret;
}
