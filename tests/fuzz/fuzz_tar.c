/* libFuzzer target: a layer's tar entries through the name checks and the
 * layer model (whiteouts, opaque directories, symlinks, hard links), twice
 * over as two layers of one image.  Nothing touches the disk. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image/layer.h"
#include "image/layertree.h"
#include "image/tarpath.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
names (const uint8_t *data, size_t size)
{
  /* The input as one NUL-free name, cleaned and classified. */
  char *raw = strndup ((const char *) data, size);
  char *clean = NULL, *target = NULL;
  rf_whiteout_t kind;
  rf_error_t err = NULL;
  if (rf_tar_path_clean (raw, &clean, &err) == 0)
    {
      /* A clean name is relative and never climbs. */
      for (char *p = clean; *p;)
        {
          size_t n = strcspn (p, "/");
          if ((n == 2 && p[0] == '.' && p[1] == '.') || n == 0 || (n == 1 && p[0] == '.'))
            abort ();
          p += n;
          if (*p == '/')
            p++;
        }
      if (rf_tar_whiteout (clean, &kind, &target, &err) < 0)
        rf_error_free (&err);
      free (target);
      free (clean);
    }
  else
    rf_error_free (&err);
  free (raw);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int fd = memfd_create ("layer", MFD_CLOEXEC);
  rf_layer_tree_t *tree;
  rf_error_t err = NULL;

  names (data, size);
  if (fd < 0 || write (fd, data, size) != (ssize_t) size)
    abort ();
  tree = rf_layer_tree_new (NULL);
  for (int layer = 0; layer < 2; layer++)
    {
      lseek (fd, 0, SEEK_SET);
      if (rf_layer_apply (tree, fd, "layer", NULL, NULL, &err) < 0)
        rf_error_free (&err);
    }
  rf_layer_tree_free (tree);
  close (fd);
  return 0;
}
