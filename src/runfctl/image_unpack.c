/* runfctl image unpack REF DIR [--rootless] and runfctl image bundle REF DIR */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "image/bundle.h"
#include "image/fsops.h"
#include "image/image.h"
#include "image/text.h"
#include "runfctl.h"

static void
report (const rf_unpack_stats_t *st, const rf_bundle_opts_t *opts, bool shared)
{
  if (st->devices)
    runfctl_note ("skipped %u device node%s: %s", st->devices, st->devices == 1 ? "" : "s",
                  shared ? "the store's shared rootfs has none" : "only root can make them");
  if (st->privileges)
    runfctl_note ("left out %u set-id bit%s or file capabilit%s: the store's shared rootfs grants no privileges"
                  " (`image unpack` keeps them)",
                  st->privileges, st->privileges == 1 ? "" : "s", st->privileges == 1 ? "y" : "ies");
  if (st->xattrs)
    runfctl_note ("skipped %u extended attribute%s the file system or user may not set",
                  st->xattrs, st->xattrs == 1 ? "" : "s");
  if (opts->no_command)
    runfctl_note ("the image has neither Entrypoint nor Cmd: config.json runs `sh`");
}

/* DIR must be new or empty of what is written there. */
static int
prepare_dir (const char *dir, const char *cmd, bool want_rootfs, bool *created, rf_error_t *err)
{
  cleanup_free char *rootfs = xasprintf ("%s/rootfs", dir);
  cleanup_free char *config = xasprintf ("%s/config.json", dir);
  struct stat st;

  *created = false;
  if (mkdir (dir, 0755) == 0)
    *created = true;
  else if (errno != EEXIST)
    return rf_error_sys (err, "%s: mkdir `%s`", cmd, dir);
  else if (stat (dir, &st) < 0 || !S_ISDIR (st.st_mode))
    return rf_error_make (err, 0, "%s: `%s` is not a directory", cmd, dir);
  if (want_rootfs && lstat (rootfs, &st) == 0)
    return rf_error_make (err, 0, "%s: `%s` exists; remove it first", cmd, rootfs);
  if (lstat (config, &st) == 0)
    return rf_error_make (err, 0, "%s: `%s` exists; remove it first", cmd, config);
  return 0;
}

enum { O_ROOTLESS = 1 };

const runfctl_option_t runfctl_unpack_options[] = {
  { "rootless", O_ROOTLESS, no_argument, NULL,
    "files owned by the caller, no device nodes, a rootless config.json (default: when not "
    "root on the host)" },
  RUNFCTL_STORE_OPTION,
  RUNFCTL_OPTIONS_END,
};

int
runfctl_image_unpack (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_store rf_store_t *s = NULL;
  cleanup_json json_t *config = NULL;
  cleanup_free char *tmp = NULL, *rootfs = NULL;
  cleanup_close int dir_fd = -1;
  cleanup_close int fd = -1;
  char digest[RF_DIGEST_MAX];
  rf_image_t img = { 0 };
  rf_unpack_stats_t st = { 0 };
  rf_bundle_opts_t opts = { .root_path = "rootfs" };
  bool rootless = g->rootless, created = false;
  const char *dir;
  int c, ret = -1;

  while ((c = runfctl_getopt (g, argc, argv, "image unpack", runfctl_unpack_options, err)) != -1)
    if (c == O_ROOTLESS)
      rootless = true;
    else
      return -1;
  if (runfctl_positional (argc, argv, 2, "image unpack", "REF and DIR", err) < 0)
    return -1;
  dir = argv[optind + 1];
  if (runfctl_open_store (g, RF_STORE_WRITE, &s, err) < 0
      || rf_image_resolve (s, argv[optind], digest, err) < 0
      || rf_image_load (s, digest, &img, err) < 0)
    return rf_error_wrap (err, "image unpack");
  if (prepare_dir (dir, "image unpack", true, &created, err) < 0)
    goto out;

  /* Unpacked under a temporary name and renamed: a failure leaves no
     half-made rootfs. */
  tmp = xasprintf ("%s/.rootfs-XXXXXX", dir);
  if (mkdtemp (tmp) == NULL)
    {
      rf_error_sys (err, "image unpack: mkdir in `%s`", dir);
      free (tmp);
      tmp = NULL;
      goto out;
    }
  fd = open (tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fchmod (fd, 0755) < 0)
    {
      rf_error_sys (err, "image unpack: open `%s`", tmp);
      goto out;
    }
  if (rf_image_unpack (s, &img, fd, rootless ? RF_UNPACK_ROOTLESS : 0, &st, err) < 0)
    {
      rf_error_wrap (err, "image unpack");
      goto out;
    }
  opts.rootless = rootless;
  config = rf_bundle_config (&img, fd, &opts, err);
  if (config == NULL)
    {
      rf_error_wrap (err, "image unpack");
      goto out;
    }
  rootfs = xasprintf ("%s/rootfs", dir);
  if (rename (tmp, rootfs) < 0)
    {
      rf_error_sys (err, "image unpack: rename `%s` to `%s`", tmp, rootfs);
      goto out;
    }
  free (tmp);
  tmp = NULL;
  if (rf_bundle_write_config (dir, config, err) < 0)
    {
      rf_error_wrap (err, "image unpack");
      dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dir_fd >= 0)
        rf_rm_tree_at (dir_fd, "rootfs", NULL);
      goto out;
    }
  report (&st, &opts, false);
  {
    char size[32];
    rf_format_size ((double) st.bytes, size, sizeof size);
    printf ("unpacked %s into %s: %llu entries, %s\n", digest, dir, st.files, size);
  }
  ret = 0;

out:
  if (tmp)
    rf_rm_tree_at (AT_FDCWD, tmp, NULL);
  if (ret < 0 && created)
    rmdir (dir);
  rf_image_clear (&img);
  return ret;
}

int
runfctl_image_bundle (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_store rf_store_t *s = NULL;
  cleanup_json json_t *config = NULL;
  cleanup_free char *rootfs = NULL;
  cleanup_close int fd = -1;
  char digest[RF_DIGEST_MAX];
  rf_image_t img = { 0 };
  rf_unpack_stats_t st = { 0 };
  rf_bundle_opts_t opts = { .readonly = true, .rootless = g->rootless };
  bool made = false, created = false;
  const char *dir;
  int c, ret = -1;

  while ((c = runfctl_getopt (g, argc, argv, "image bundle", runfctl_store_only_options, err)) != -1)
    return -1;
  if (runfctl_positional (argc, argv, 2, "image bundle", "REF and DIR", err) < 0)
    return -1;
  dir = argv[optind + 1];
  if (runfctl_open_store (g, RF_STORE_WRITE, &s, err) < 0
      || rf_image_resolve (s, argv[optind], digest, err) < 0
      || rf_image_load (s, digest, &img, err) < 0)
    return rf_error_wrap (err, "image bundle");
  if (prepare_dir (dir, "image bundle", false, &created, err) < 0)
    goto out;
  if (rf_image_rootfs (s, &img, &rootfs, &made, &st, err) < 0)
    {
      rf_error_wrap (err, "image bundle");
      goto out;
    }
  fd = open (rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      rf_error_sys (err, "image bundle: open `%s`", rootfs);
      goto out;
    }
  opts.root_path = rootfs;
  config = rf_bundle_config (&img, fd, &opts, err);
  if (config == NULL || rf_bundle_write_config (dir, config, err) < 0)
    {
      rf_error_wrap (err, "image bundle");
      goto out;
    }
  report (&st, &opts, true);
  printf ("bundle %s uses %s%s\n", dir, rootfs, made ? " (unpacked now)" : "");
  ret = 0;

out:
  if (ret < 0 && created)
    rmdir (dir);
  rf_image_clear (&img);
  return ret;
}
