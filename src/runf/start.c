#include <errno.h>

#include "runf.h"
#include "runtime/container.h"

int
runf_cmd_start (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  int i = runf_plain_args (argc, argv, 1, "one container id", err);
  if (i < 0)
    return -1;
  return rf_container_start (g->root, argv[i], err);
}
