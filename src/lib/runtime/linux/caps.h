/* Linux capabilities: names of the OCI spec to numbers, and applying the
 * five sets to the calling process. */
#ifndef RF_CAPS_H
#define RF_CAPS_H

#include <stdint.h>

#include "common/error.h"
#include "runtime/spec.h"

/* The number of "CAP_CHOWN"-style names, or -1 when unknown. */
int rf_cap_from_name (const char *name);
const char *rf_cap_name (int cap);
/* The highest capability runf knows by name (the kernel may know fewer). */
int rf_cap_max_known (void);
/* The highest capability the running kernel knows. */
int rf_cap_last (void);

/* Drop every capability not in caps->bounding from the bounding set.
   Must run while CAP_SETPCAP is still effective (before changing uid). */
int rf_caps_drop_bounding (const rf_caps_t *caps, rf_error_t *err);
/* Set effective, permitted, inheritable and then ambient. */
int rf_caps_apply (const rf_caps_t *caps, rf_error_t *err);

#endif
