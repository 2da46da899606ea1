/* runfctl image pull: see registry.h. */
#include <errno.h>

#include "runfctl.h"

int
runfctl_image_pull (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  return rf_error_make (err, ENOTSUP, "image pull: not yet");
}
