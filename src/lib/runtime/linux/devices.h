/* /dev inside the container: the default devices of the OCI spec, the
 * standard symlinks, and linux.devices. */
#ifndef RF_DEVICES_H
#define RF_DEVICES_H

#include <stdbool.h>

#include "common/error.h"
#include "runtime/spec.h"

/* Create the devices below root_fd.  In a user namespace mknod is not
   allowed, so each device is a bind mount of the host's node instead. */
int rf_devices_setup (const rf_spec_t *spec, int root_fd, bool userns, rf_error_t *err);
/* A /dev made once to be bound into many containers (runfd's spawner, in
   a mount namespace of its own): the default devices, bound from the
   host's, and the default links, in the (empty, writable) directory DIR.
   A config.json that binds it as /dev gets nothing more made per
   container. */
int rf_devices_template (const char *dir, rf_error_t *err);

#endif
