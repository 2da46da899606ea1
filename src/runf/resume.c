/* `runf resume ID`: thaw a paused container. */
#include <errno.h>

#include "runf.h"
#include "runtime/manage.h"

int
runf_cmd_resume (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  int i = runf_plain_args (argc, argv, 1, "one container id", err);
  if (i < 0)
    return -1;
  return rf_container_resume (g->root, argv[i], err);
}
