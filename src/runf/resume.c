/* `runf resume ID`: thaw a paused container. */
#include <errno.h>

#include "runf.h"
#include "runtime/manage.h"

int
runf_cmd_resume (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  if (argc != 2)
    return rf_error_make (err, EINVAL, "resume: expected exactly one container id");
  return rf_container_resume (g->root, argv[1], err);
}
