/* The options every command that talks to a registry takes. */
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "image/auth.h"
#include "image/registry.h"
#include "runfctl.h"

static int
parse_number (const char *cmd, const char *flag, const char *s, unsigned long long max, long *out,
              rf_error_t *err)
{
  unsigned long long v;
  if (rf_parse_uint64 (s, max, &v) < 0)
    return rf_error_make (err, 0, "%s: %s `%.40s`: expected a number up to %llu", cmd, flag, s, max);
  *out = (long) v;
  return 0;
}

int
runfctl_registry_option (int c, const char *cmd, void *registry_opts, runfctl_creds_t *creds,
                         rf_error_t *err)
{
  rf_registry_opts_t *opts = registry_opts;
  long n = 0;
  switch (c)
    {
    case RUNFCTL_OPT_CREDS:
      runfctl_creds_clear (creds);
      if (rf_creds_parse (optarg, &creds->user, &creds->pass, err) < 0)
        return rf_error_wrap (err, "%s", cmd);
      opts->user = creds->user;
      opts->pass = creds->pass;
      return 1;
    case RUNFCTL_OPT_AUTHFILE: opts->authfile = optarg; return 1;
    case RUNFCTL_OPT_TLS_VERIFY:
      return runfctl_parse_bool (cmd, "tls-verify", optarg, &opts->tls_verify, err) < 0 ? -1 : 1;
    case RUNFCTL_OPT_TIMEOUT:
      if (parse_number (cmd, "--timeout", optarg, 3600, &n, err) < 0)
        return -1;
      opts->timeout = n ? n : 1;
      return 1;
    case RUNFCTL_OPT_RETRIES:
      if (parse_number (cmd, "--retries", optarg, 100, &n, err) < 0)
        return -1;
      opts->retries = (int) n;
      return 1;
    default: return 0;
    }
}

void
runfctl_creds_clear (runfctl_creds_t *creds)
{
  free (creds->user);
  free (creds->pass);
  creds->user = creds->pass = NULL;
}
