/* runfctl image save REF... [-o FILE|DIR] [--format F] */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "image/save.h"
#include "runfctl.h"

enum { O_OUTPUT = 'o', O_FORMAT = 1 };

const runfctl_option_t runfctl_save_options[] = {
  { "output", O_OUTPUT, required_argument, "FILE|DIR",
    "where to write; - is stdout (default: stdout, unless it is a terminal)" },
  { "format", O_FORMAT, required_argument, "F",
    "docker-archive (docker save's: an OCI layout and manifest.json in one tar), oci-archive "
    "(an OCI layout in a tar) or oci-dir (an OCI layout in a new directory) (default: "
    "docker-archive)" },
  RUNFCTL_STORE_OPTION,
  RUNFCTL_OPTIONS_END,
};

int
runfctl_image_save (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_store rf_store_t *s = NULL;
  rf_save_format_t format = RF_SAVE_DOCKER_ARCHIVE;
  const char *out = NULL;
  int c;

  while ((c = runfctl_getopt (g, argc, argv, "image save", runfctl_save_options, err)) != -1)
    switch (c)
      {
      case O_OUTPUT: out = optarg; break;
      case O_FORMAT:
        if (rf_save_format_parse (optarg, &format, err) < 0)
          return rf_error_wrap (err, "image save");
        break;
      default: return -1;
      }
  if (optind >= argc)
    return rf_error_make (err, 0, "image save: missing REF");
  if (out == NULL)
    {
      if (format == RF_SAVE_OCI_DIR)
        return rf_error_make (err, 0, "image save: oci-dir writes a directory: give it with -o DIR");
      if (isatty (STDOUT_FILENO))
        return rf_error_make (err, 0, "image save: stdout is a terminal: give a file with -o FILE");
      out = "-";
    }
  /* Shared lock: a prune waits until every blob is out. */
  if (runfctl_open_store (g, RF_STORE_WRITE, &s, err) < 0
      || rf_save (s, argv + optind, (size_t) (argc - optind), format, out, err) < 0)
    return rf_error_wrap (err, "image save");
  if (strcmp (out, "-") != 0)
    printf ("saved %d image%s to %s\n", argc - optind, argc - optind == 1 ? "" : "s", out);
  return 0;
}
