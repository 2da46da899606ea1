/* `runf pause ID`: freeze every process of a running container. */
#include <errno.h>

#include "runf.h"
#include "runtime/manage.h"

int
runf_cmd_pause (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  if (argc != 2)
    return rf_error_make (err, EINVAL, "pause: expected exactly one container id");
  return rf_container_pause (g->root, argv[1], err);
}
