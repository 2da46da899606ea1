#include <errno.h>

#include "runf.h"
#include "runtime/container.h"

int
runf_cmd_start (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  if (argc != 2)
    return rf_error_make (err, 0, "start: expected exactly one container id");
  return rf_container_start (g->root, argv[1], err);
}
