/* runfctl image import FILE|DIR|- */
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

enum { O_NAME = 1, O_PLATFORM, O_VERIFY };

const runfctl_option_t runfctl_import_options[] = {
  { "name", O_NAME, required_argument, "REF",
    "the name of the (single) image (default: the names the archive gives, RepoTags or "
    "the layout's annotations)" },
  { "platform", O_PLATFORM, required_argument, "OS/ARCH[/VARIANT]",
    "the image to take from a multi-platform layout (default: this machine's)" },
  { "verify", O_VERIFY, no_argument, NULL,
    "read every layer through now and store nothing that fails (default: checked when unpacked)" },
  { "quiet", 'q', no_argument, NULL, "print only the digests" },
  RUNFCTL_STORE_OPTION,
  RUNFCTL_OPTIONS_END,
};

int
runfctl_image_import (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_store rf_store_t *s = NULL;
  cleanup_free char *name = NULL;
  rf_platform_t platform = { 0 };
  import_ctx_t ctx = { 0 };
  rf_import_opts_t opts = { .imported = imported, .ctx = &ctx, .platform = &platform };
  int c, ret = -1;

  rf_platform_host (&platform);
  while ((c = runfctl_getopt (g, argc, argv, "image import", runfctl_import_options, err)) != -1)
    switch (c)
      {
      case O_NAME:
        {
          rf_ref_t ref;
          if (rf_ref_parse (optarg, &ref, err) < 0)
            goto out;
          free (name);
          name = rf_ref_string (&ref);
          rf_ref_clear (&ref);
          break;
        }
      case O_PLATFORM:
        if (runfctl_parse_platform (optarg, &platform, err) < 0)
          goto out;
        break;
      case 'q': ctx.quiet = true; break;
      case O_VERIFY: opts.check_layers = true; break;
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
