/* runfctl image build -t NAME [--from BASE] [options] DIR */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "image/build.h"
#include "image/text.h"
#include "runfctl.h"

enum
{
  O_TAG = 't', O_ENV = 'e', O_FROM = 1, O_DEST, O_CMD, O_ENTRYPOINT, O_WORKDIR, O_USER, O_LABEL,
  O_CHOWN,
};

const runfctl_option_t runfctl_build_options[] = {
  { "tag", O_TAG, required_argument, "NAME", "the new image's name (required)" },
  { "from", O_FROM, required_argument, "BASE",
    "the base image, a name or digest in the store, or scratch for none (default: scratch)" },
  { "dest", O_DEST, required_argument, "PATH",
    "where DIR's content goes in the image (default: /)" },
  { "cmd", O_CMD, required_argument, "ARG",
    "the image's Cmd, one argument per --cmd (default: the base's; none after --entrypoint)" },
  { "entrypoint", O_ENTRYPOINT, required_argument, "ARG",
    "the image's Entrypoint, one argument per --entrypoint; --entrypoint '' removes it; "
    "either drops the base's Cmd unless --cmd is given (default: the base's)" },
  { "env", O_ENV, required_argument, "K=V",
    "an environment variable, replacing the base's K; repeat for more (default: the base's Env)" },
  { "workdir", O_WORKDIR, required_argument, "DIR", "the WorkingDir (default: the base's)" },
  { "user", O_USER, required_argument, "USER[:GROUP]", "the User (default: the base's)" },
  { "label", O_LABEL, required_argument, "K=V", "a label; repeat for more (default: the base's)" },
  { "chown", O_CHOWN, required_argument, "UID:GID",
    "the owner of the new layer's files (default: 0:0)" },
  { "quiet", 'q', no_argument, NULL, "print only the digest" },
  RUNFCTL_STORE_OPTION,
  RUNFCTL_OPTIONS_END,
};

static void
strv_push (char ***v, size_t *n, const char *s)
{
  *v = xrealloc (*v, (*n + 2) * sizeof **v);
  (*v)[(*n)++] = xstrdup (s);
  (*v)[*n] = NULL;
}

static int
parse_owner (const char *s, uid_t *uid, gid_t *gid, rf_error_t *err)
{
  cleanup_free char *copy = xstrdup (s);
  char *colon = strchr (copy, ':');
  unsigned long long u, g;
  if (colon == NULL)
    goto bad;
  *colon = '\0';
  if (rf_parse_uint64 (copy, 0xfffffffe, &u) < 0 || rf_parse_uint64 (colon + 1, 0xfffffffe, &g) < 0)
    goto bad;
  *uid = (uid_t) u;
  *gid = (gid_t) g;
  return 0;
bad:
  return rf_error_make (err, 0, "image build: --chown `%.40s`: expected UID:GID (numbers)", s);
}

/* SOURCE_DATE_EPOCH, the reproducible-builds convention: `created` and
   the latest file time, so the same directory builds the same digest. */
static int
source_date_epoch (int64_t *out, rf_error_t *err)
{
  const char *s = getenv ("SOURCE_DATE_EPOCH");
  unsigned long long v;
  *out = -1;
  if (s == NULL || *s == '\0')
    return 0;
  if (rf_parse_uint64 (s, 253402300799ULL, &v) < 0)
    return rf_error_make (err, 0, "image build: SOURCE_DATE_EPOCH `%.40s`: expected seconds since 1970", s);
  *out = (int64_t) v;
  return 0;
}

int
runfctl_image_build (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_store rf_store_t *s = NULL;
  cleanup_strv char **cmd = NULL, **entrypoint = NULL, **env = NULL, **labels = NULL;
  cleanup_free char *created_by = NULL;
  size_t n_cmd = 0, n_entry = 0, n_env = 0, n_labels = 0;
  rf_build_opts_t opts = { .from = "scratch", .dest = "/" };
  rf_build_result_t res = { 0 };
  bool quiet = false;
  int c;

  while ((c = runfctl_getopt (g, argc, argv, "image build", runfctl_build_options, err)) != -1)
    switch (c)
      {
      case O_TAG: opts.name = optarg; break;
      case O_FROM: opts.from = optarg; break;
      case O_DEST: opts.dest = optarg; break;
      case O_CMD: strv_push (&cmd, &n_cmd, optarg); break;
      case O_ENTRYPOINT: strv_push (&entrypoint, &n_entry, optarg); break;
      case O_ENV: strv_push (&env, &n_env, optarg); break;
      case O_LABEL: strv_push (&labels, &n_labels, optarg); break;
      case O_WORKDIR: opts.workdir = optarg; break;
      case O_USER: opts.user = optarg; break;
      case O_CHOWN:
        if (parse_owner (optarg, &opts.uid, &opts.gid, err) < 0)
          return -1;
        break;
      case 'q': quiet = true; break;
      default: return -1;
      }
  if (runfctl_positional (argc, argv, 1, "image build", "DIR (the new layer's content)", err) < 0)
    return -1;
  if (opts.name == NULL)
    return rf_error_make (err, 0, "image build: missing -t NAME");
  if (source_date_epoch (&opts.timestamp, err) < 0)
    return -1;
  opts.dir = argv[optind];
  opts.cmd = cmd;
  opts.entrypoint = entrypoint;
  opts.env = env;
  opts.labels = labels;
  created_by = xasprintf ("runfctl image build --dest %s", opts.dest);
  opts.created_by = created_by;
  if (runfctl_open_store (g, RF_STORE_WRITE, &s, err) < 0 || rf_build (s, &opts, &res, err) < 0)
    return rf_error_wrap (err, "image build");
  if (quiet)
    printf ("%s\n", res.digest);
  else
    {
      char size[32];
      rf_format_size ((double) res.layer_size, size, sizeof size);
      printf ("layer %.19s: %llu entries, %s\n", res.layer, (unsigned long long) res.entries, size);
      printf ("built %s %s\n", res.name, res.digest);
    }
  rf_build_result_clear (&res);
  return 0;
}
