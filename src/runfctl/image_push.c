/* runfctl image push SRC [DEST] and runfctl image tag SRC NAME... */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "image/image.h"
#include "image/progress.h"
#include "image/push.h"
#include "image/reference.h"
#include "runfctl.h"

const runfctl_option_t runfctl_push_options[] = {
  RUNFCTL_REGISTRY_OPTIONS,
  { "quiet", 'q', no_argument, NULL, "print only the digest (default: a line per blob)" },
  RUNFCTL_STORE_OPTION,
  RUNFCTL_OPTIONS_END,
};

int
runfctl_image_push (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_store rf_store_t *s = NULL;
  cleanup_free char *name = NULL;
  runfctl_creds_t creds = { 0 };
  rf_registry_opts_t opts = { .tls_verify = true, .timeout = 30, .retries = 3 };
  char digest[RF_DIGEST_MAX];
  const char *dest = NULL;
  bool quiet = false;
  int c, ret = -1;

  while ((c = runfctl_getopt (g, argc, argv, "image push", runfctl_push_options, err)) != -1)
    if (c == 'q')
      quiet = true;
    else if (runfctl_registry_option (c, "image push", &opts, &creds, err) <= 0)
      goto out;
  if (argc - optind > 2)
    {
      rf_error_make (err, 0, "image push: unexpected argument `%.60s`", argv[optind + 2]);
      goto out;
    }
  if (argc - optind == 2)
    dest = argv[optind + 1];
  else if (runfctl_positional (argc, argv, 1, "image push", "SRC (an image in the store) and DEST", err) < 0)
    goto out;
  if (dest && strncmp (dest, "docker://", 9) == 0)
    dest += 9;
  if (!quiet)
    {
      opts.progress = isatty (STDERR_FILENO) ? rf_progress_new (stderr, true) : rf_progress_new (stdout, false);
      rf_progress_set_verb (opts.progress, "pushed");
    }
  if (runfctl_open_store (g, RF_STORE_WRITE, &s, err) < 0
      || rf_push (s, argv[optind], dest, &opts, digest, &name, err) < 0)
    {
      rf_error_wrap (err, "image push");
      goto out;
    }
  if (quiet)
    printf ("%s\n", digest);
  else
    printf ("pushed %s %s\n", name, digest);
  ret = 0;
out:
  rf_progress_free (opts.progress);
  runfctl_creds_clear (&creds);
  return ret;
}

const runfctl_option_t runfctl_tag_options[] = {
  RUNFCTL_STORE_OPTION,
  RUNFCTL_OPTIONS_END,
};

typedef struct
{
  char **names;
  const char *digest;
} tag_t;

static int
tag_fn (json_t *refs, void *ctx, rf_error_t *err)
{
  tag_t *t = ctx;
  for (size_t i = 0; t->names[i]; i++)
    json_object_set_new (refs, t->names[i], json_string (t->digest));
  return 0;
}

int
runfctl_image_tag (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_store rf_store_t *s = NULL;
  cleanup_strv char **names = NULL;
  char digest[RF_DIGEST_MAX];
  size_t n = 0;
  tag_t t;
  int c;

  while ((c = runfctl_getopt (g, argc, argv, "image tag", runfctl_tag_options, err)) != -1)
    return -1;
  if (argc - optind < 2)
    return rf_error_make (err, 0, "image tag: missing %s", argc - optind < 1 ? "SRC and NAME" : "NAME");
  /* Every new name is checked before any is set. */
  names = xzalloc ((size_t) (argc - optind) * sizeof *names);
  for (int i = optind + 1; i < argc; i++)
    {
      rf_ref_t ref;
      if (rf_ref_parse (argv[i], &ref, err) < 0)
        return rf_error_wrap (err, "image tag");
      if (ref.digest)
        {
          rf_ref_clear (&ref);
          return rf_error_make (err, 0, "image tag: `%.120s`: a name takes a tag, not a digest", argv[i]);
        }
      names[n++] = rf_ref_string (&ref);
      rf_ref_clear (&ref);
    }
  if (runfctl_open_store (g, RF_STORE_WRITE, &s, err) < 0
      || rf_image_resolve (s, argv[optind], digest, err) < 0)
    return rf_error_wrap (err, "image tag");
  t.names = names;
  t.digest = digest;
  if (rf_store_refs_update (s, tag_fn, &t, err) < 0)
    return rf_error_wrap (err, "image tag");
  for (size_t i = 0; names[i]; i++)
    printf ("tagged %s %s\n", names[i], digest);
  return 0;
}
