/* runfctl image import FILE|DIR|- [--name NAME] [--platform P] [--verify] [-q] */
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "image/import.h"
#include "image/reference.h"
#include "runfctl.h"

typedef struct
{
  bool quiet;
} import_ctx_t;

static void
imported (void *ctx, const char *digest, char *const *names, bool existed)
{
  import_ctx_t *c = ctx;
  if (c->quiet)
    {
      printf ("%s\n", digest);
      return;
    }
  if (names == NULL || names[0] == NULL)
    printf ("imported %s%s (no name: give one with --name)\n", digest,
            existed ? " (already stored)" : "");
  for (size_t i = 0; names && names[i]; i++)
    printf ("imported %s %s%s\n", names[i], digest, existed ? " (already stored)" : "");
}

int
runfctl_image_import (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  static const struct option options[] = {
    { "name", required_argument, NULL, 'n' },
    { "platform", required_argument, NULL, 'p' },
    { "quiet", no_argument, NULL, 'q' },
    { "verify", no_argument, NULL, 'V' },
    RUNFCTL_COMMON_OPTIONS,
    { 0 },
  };
  cleanup_store rf_store_t *s = NULL;
  cleanup_free char *name = NULL;
  rf_platform_t platform = { 0 };
  import_ctx_t ctx = { 0 };
  rf_import_opts_t opts = { .imported = imported, .ctx = &ctx, .platform = &platform };
  int c, ret = -1;

  rf_platform_host (&platform);
  while ((c = runfctl_getopt (g, argc, argv, "image import", "q", options, err)) != -1)
    switch (c)
      {
      case 'n':
        {
          rf_ref_t ref;
          if (rf_ref_parse (optarg, &ref, err) < 0)
            goto out;
          free (name);
          name = rf_ref_string (&ref);
          rf_ref_clear (&ref);
          break;
        }
      case 'p':
        if (runfctl_parse_platform (optarg, &platform, err) < 0)
          goto out;
        break;
      case 'q': ctx.quiet = true; break;
      case 'V': opts.check_layers = true; break;
      default: goto out;
      }
  if (runfctl_positional (argc, argv, 1, "image import", "FILE (a docker save archive, an OCI layout, or - for stdin)", err) < 0)
    goto out;
  opts.name = name;
  if (runfctl_open_store (g, RF_STORE_WRITE, &s, err) < 0)
    goto out;
  if (rf_import (s, argv[optind], &opts, err) < 0)
    {
      rf_error_wrap (err, "image import");
      goto out;
    }
  ret = 0;
out:
  rf_platform_clear (&platform);
  return ret;
}
