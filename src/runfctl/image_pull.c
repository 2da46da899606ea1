/* runfctl image pull REF */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "image/auth.h"
#include "image/progress.h"
#include "image/pull.h"
#include "runfctl.h"

enum { O_PLATFORM = 1, O_VERIFY };

const runfctl_option_t runfctl_pull_options[] = {
  { "platform", O_PLATFORM, required_argument, "OS/ARCH[/VARIANT]",
    "the image to take from a multi-platform index (default: this machine's platform)" },
  RUNFCTL_REGISTRY_OPTIONS,
  { "verify", O_VERIFY, no_argument, NULL,
    "read every layer through now (decompress, tar, diff_id, no escapes) and store nothing "
    "that fails (default: layers are checked when unpacked)" },
  { "quiet", 'q', no_argument, NULL, "print only the digest (default: a line per blob)" },
  RUNFCTL_STORE_OPTION,
  RUNFCTL_OPTIONS_END,
};

int
runfctl_image_pull (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_store rf_store_t *s = NULL;
  cleanup_free char *name = NULL;
  runfctl_creds_t creds = { 0 };
  rf_platform_t platform = { 0 };
  rf_pull_opts_t opts = { .registry = { .tls_verify = true, .timeout = 30, .retries = 3 },
                          .platform = &platform };
  char digest[RF_DIGEST_MAX];
  bool quiet = false;
  int c, r, ret = -1;

  rf_platform_host (&platform);
  while ((c = runfctl_getopt (g, argc, argv, "image pull", runfctl_pull_options, err)) != -1)
    switch (c)
      {
      case O_PLATFORM:
        if (runfctl_parse_platform (optarg, &platform, err) < 0)
          goto out;
        break;
      case 'q': quiet = true; break;
      case O_VERIFY: opts.check_layers = true; break;
      default:
        if ((r = runfctl_registry_option (c, "image pull", &opts.registry, &creds, err)) <= 0)
          goto out;
      }
  if (runfctl_positional (argc, argv, 1, "image pull", "REF", err) < 0)
    goto out;
  /* A live display on a terminal, one line per blob otherwise; the result
     goes to stdout either way. */
  if (!quiet)
    opts.registry.progress = isatty (STDERR_FILENO) ? rf_progress_new (stderr, true)
                                                    : rf_progress_new (stdout, false);
  if (runfctl_open_store (g, RF_STORE_WRITE, &s, err) < 0
      || rf_pull (s, argv[optind], &opts, digest, &name, err) < 0)
    {
      rf_error_wrap (err, "image pull");
      goto out;
    }
  if (quiet)
    printf ("%s\n", digest);
  else
    printf ("pulled %s %s\n", name, digest);
  ret = 0;
out:
  rf_progress_free (opts.registry.progress);
  rf_platform_clear (&platform);
  runfctl_creds_clear (&creds);
  return ret;
}
