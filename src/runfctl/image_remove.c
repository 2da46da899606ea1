/* runfctl image rm REF... and runfctl image prune */
#include <stdio.h>

#include "common/cleanup.h"
#include "image/image.h"
#include "image/text.h"
#include "runfctl.h"

int
runfctl_image_rm (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_store rf_store_t *s = NULL;
  int c;

  while ((c = runfctl_getopt (g, argc, argv, "image rm", runfctl_store_only_options, err)) != -1)
    return -1;
  if (optind >= argc)
    return rf_error_make (err, 0, "image rm: missing REF");
  if (runfctl_open_store (g, RF_STORE_WRITE, &s, err) < 0)
    return rf_error_wrap (err, "image rm");
  /* Every name is checked first, so a typo removes nothing. */
  for (int i = optind; i < argc; i++)
    {
      char digest[RF_DIGEST_MAX];
      if (rf_image_resolve (s, argv[i], digest, err) < 0)
        return rf_error_wrap (err, "image rm");
    }
  for (int i = optind; i < argc; i++)
    {
      cleanup_strv char **removed = NULL;
      if (rf_image_remove (s, argv[i], &removed, err) < 0)
        return rf_error_wrap (err, "image rm");
      for (size_t k = 0; removed[k]; k++)
        printf ("removed %s\n", removed[k]);
    }
  return 0;
}

int
runfctl_image_prune (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_store rf_store_t *s = NULL;
  rf_prune_stats_t st;
  char size[32];
  int c;

  while ((c = runfctl_getopt (g, argc, argv, "image prune", runfctl_store_only_options, err)) != -1)
    return -1;
  if (runfctl_positional (argc, argv, 0, "image prune", "", err) < 0
      || runfctl_open_store (g, RF_STORE_EXCLUSIVE, &s, err) < 0
      || rf_image_prune (s, &st, err) < 0)
    return rf_error_wrap (err, "image prune");
  rf_format_size ((double) st.bytes, size, sizeof size);
  printf ("freed %s: %u blob%s, %u root filesystem%s\n", size, st.blobs, st.blobs == 1 ? "" : "s",
          st.rootfs, st.rootfs == 1 ? "" : "s");
  return 0;
}
