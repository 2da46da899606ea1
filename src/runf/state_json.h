/* The state of a container as `state` and `list -f json` print it: the OCI
 * state (ociVersion, id, status, pid, bundle, annotations) plus runc's
 * extra fields (rootfs, created, owner). */
#ifndef RUNF_STATE_JSON_H
#define RUNF_STATE_JSON_H

#include <jansson.h>
#include <sys/types.h>

#include "runtime/state.h"

json_t *runf_state_json (const char *root, const rf_state_t *st);
/* The user name of uid, or its number; a static buffer. */
const char *runf_owner_name (uid_t uid);

#endif
