/* runfctl image pull REF [--platform P] [--creds U:P] [--authfile F]
   [--tls-verify=false] [--timeout S] [--retries N] [--verify] [-q] */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "image/auth.h"
#include "image/progress.h"
#include "image/pull.h"
#include "runfctl.h"

enum { O_PLATFORM = 1, O_CREDS, O_AUTHFILE, O_TLS_VERIFY, O_TIMEOUT, O_RETRIES, O_VERIFY };

static int
parse_number (const char *flag, const char *s, unsigned long long max, long *out, rf_error_t *err)
{
  unsigned long long v;
  if (rf_parse_uint64 (s, max, &v) < 0)
    return rf_error_make (err, 0, "image pull: %s `%.40s`: expected a number up to %llu", flag,
                          s, max);
  *out = (long) v;
  return 0;
}

int
runfctl_image_pull (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  static const struct option options[] = {
    { "platform", required_argument, NULL, O_PLATFORM },
    { "creds", required_argument, NULL, O_CREDS },
    { "authfile", required_argument, NULL, O_AUTHFILE },
    { "tls-verify", optional_argument, NULL, O_TLS_VERIFY },
    { "timeout", required_argument, NULL, O_TIMEOUT },
    { "retries", required_argument, NULL, O_RETRIES },
    { "quiet", no_argument, NULL, 'q' },
    { "verify", no_argument, NULL, O_VERIFY },
    RUNFCTL_COMMON_OPTIONS,
    { 0 },
  };
  cleanup_store rf_store_t *s = NULL;
  cleanup_free char *user = NULL, *pass = NULL, *name = NULL;
  rf_platform_t platform = { 0 };
  rf_pull_opts_t opts = { .registry = { .tls_verify = true, .timeout = 30, .retries = 3 },
                          .platform = &platform };
  char digest[RF_DIGEST_MAX];
  bool quiet = false;
  long n = 0;
  int c, ret = -1;

  rf_platform_host (&platform);
  while ((c = runfctl_getopt (g, argc, argv, "image pull", "q", options, err)) != -1)
    switch (c)
      {
      case O_PLATFORM:
        if (runfctl_parse_platform (optarg, &platform, err) < 0)
          goto out;
        break;
      case O_CREDS:
        free (user);
        free (pass);
        if (rf_creds_parse (optarg, &user, &pass, err) < 0)
          goto out;
        break;
      case O_AUTHFILE: opts.registry.authfile = optarg; break;
      case O_TLS_VERIFY:
        if (optarg == NULL || strcmp (optarg, "true") == 0)
          opts.registry.tls_verify = true;
        else if (strcmp (optarg, "false") == 0)
          opts.registry.tls_verify = false;
        else
          {
            rf_error_make (err, 0, "image pull: --tls-verify: expected true or false");
            goto out;
          }
        break;
      case O_TIMEOUT:
        if (parse_number ("--timeout", optarg, 3600, &n, err) < 0)
          goto out;
        opts.registry.timeout = n ? n : 1;
        break;
      case O_RETRIES:
        if (parse_number ("--retries", optarg, 100, &n, err) < 0)
          goto out;
        opts.registry.retries = (int) n;
        break;
      case 'q': quiet = true; break;
      case O_VERIFY: opts.check_layers = true; break;
      default: goto out;
      }
  if (runfctl_positional (argc, argv, 1, "image pull", "REF", err) < 0)
    goto out;
  opts.registry.user = user;
  opts.registry.pass = pass;
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
  return ret;
}
