/* runfctl image ls [--json] and runfctl image inspect REF */
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "image/image.h"
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

int
runfctl_image_ls (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  static const struct option options[] = {
    { "json", no_argument, NULL, 'j' },
    RUNFCTL_COMMON_OPTIONS,
    { 0 },
  };
  cleanup_store rf_store_t *s = NULL;
  cleanup_json json_t *refs = NULL;
  cleanup_json json_t *out = json_array ();
  bool as_json = false;
  const char *name;
  json_t *value;
  int c;

  while ((c = runfctl_getopt (g, argc, argv, "image ls", "", options, err)) != -1)
    if (c == 'j')
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

int
runfctl_image_inspect (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  static const struct option options[] = { RUNFCTL_COMMON_OPTIONS, { 0 } };
  cleanup_store rf_store_t *s = NULL;
  cleanup_json json_t *refs = NULL;
  cleanup_json json_t *doc = NULL;
  cleanup_free char *text = NULL;
  char digest[RF_DIGEST_MAX];
  rf_image_t img;
  int c;

  while ((c = runfctl_getopt (g, argc, argv, "image inspect", "", options, err)) != -1)
    return -1;
  if (runfctl_positional (argc, argv, 1, "image inspect", "REF", err) < 0
      || runfctl_open_store (g, RF_STORE_READ, &s, err) < 0
      || rf_store_refs_load (s, &refs, err) < 0
      || rf_image_resolve (s, argv[optind], digest, err) < 0
      || rf_image_load (s, digest, &img, err) < 0)
    return rf_error_wrap (err, "image inspect");
  doc = rf_image_inspect (s, &img, refs);
  rf_image_clear (&img);
  text = json_dumps (doc, JSON_INDENT (2));
  printf ("%s\n", text);
  return 0;
}
