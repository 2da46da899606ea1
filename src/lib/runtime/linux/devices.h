/* /dev inside the container: the default devices of the OCI spec, the
 * standard symlinks, and linux.devices.  rf_devices_template, a /dev made
 * once for many containers, is public (runtime/container.h). */
#ifndef RF_DEVICES_H
#define RF_DEVICES_H

#include <stdbool.h>

#include "common/error.h"
#include "runtime/spec.h"

/* Create the devices below root_fd.  In a user namespace mknod is not
   allowed, so each device is a bind mount of the host's node instead. */
int rf_devices_setup (const rf_spec_t *spec, int root_fd, bool userns, rf_error_t *err);

#endif
