/* Which user namespace this process runs in: what runf, runfd and runfctl
 * all look at to decide they are rootless. */
#ifndef RF_USERNS_PROBE_H
#define RF_USERNS_PROBE_H

#include <stdbool.h>

/* Whether uid_map's text is the host's: every id mapped to itself. */
bool rf_uid_map_initial_p (const char *text);
/* Whether this process runs in a user namespace other than the host's
   (e.g. under `unshare -r`); false where /proc/self/uid_map is unreadable. */
bool rf_userns_nested_p (void);
/* Whether ownership, cgroups and host paths are not ours to change freely:
   not root, or root of a user namespace other than the host's.  The one
   rootless probe of runf, runfd and runfctl. */
bool rf_rootless_p (void);

#endif
