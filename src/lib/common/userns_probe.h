/* Which user namespace this process runs in: what runf, runfd and runfctl
 * all look at to decide they are rootless. */
#ifndef RF_USERNS_PROBE_H
#define RF_USERNS_PROBE_H

#include <stdbool.h>

/* Whether this process runs in a user namespace other than the host's
   (e.g. under `unshare -r`). */
bool rf_userns_nested_p (void);

#endif
