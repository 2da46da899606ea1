/* Linux capabilities: applying the five sets to the calling process (their
 * names and numbers are runtime/capnames.h). */
#ifndef RF_CAPS_H
#define RF_CAPS_H

#include <stdint.h>

#include "common/error.h"
#include "runtime/capnames.h"
#include "runtime/spec.h"

/* Drop every capability not in caps->bounding from the bounding set.
   Must run while CAP_SETPCAP is still effective (before changing uid). */
int rf_caps_drop_bounding (const rf_caps_t *caps, rf_error_t *err);
/* Set effective, permitted, inheritable and then ambient. */
int rf_caps_apply (const rf_caps_t *caps, rf_error_t *err);

#endif
