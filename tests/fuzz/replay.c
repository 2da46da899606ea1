/* A main for the fuzz targets where libFuzzer is not at hand (gcc, for
 * `make check`): each argument, a file or a directory of files, goes
 * through LLVMFuzzerTestOneInput once.  A crash or a sanitizer report
 * fails the run, as it would the fuzzer's. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
replay_file (const char *path)
{
  cleanup_free char *data = NULL;
  rf_error_t err = NULL;
  size_t len;

  if (rf_read_file_at (AT_FDCWD, path, 0, &data, &len, &err) < 0)
    {
      fprintf (stderr, "replay: %s\n", err->msg);
      rf_error_free (&err);
      return -1;
    }
  LLVMFuzzerTestOneInput ((const uint8_t *) data, len);
  return 0;
}

int
main (int argc, char **argv)
{
  int n = 0;

  for (int i = 1; i < argc; i++)
    {
      struct stat st;
      DIR *dir;
      struct dirent *de;

      if (stat (argv[i], &st) < 0)
        {
          perror (argv[i]);
          return 1;
        }
      if (!S_ISDIR (st.st_mode))
        {
          if (replay_file (argv[i]) < 0)
            return 1;
          n++;
          continue;
        }
      dir = opendir (argv[i]);
      if (dir == NULL)
        {
          perror (argv[i]);
          return 1;
        }
      while ((de = readdir (dir)) != NULL)
        {
          cleanup_free char *path = NULL;
          if (de->d_name[0] == '.')
            continue;
          path = xasprintf ("%s/%s", argv[i], de->d_name);
          if (replay_file (path) < 0)
            {
              closedir (dir);
              return 1;
            }
          n++;
        }
      closedir (dir);
    }
  printf ("%s: %d inputs\n", argv[0], n);
  return 0;
}
