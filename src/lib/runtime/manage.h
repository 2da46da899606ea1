/* Commands that act on a live container through its cgroup: pause, resume
 * and update.  Like container.h, nothing here prints. */
#ifndef RF_MANAGE_H
#define RF_MANAGE_H

#include <jansson.h>

#include "common/error.h"

/* Freeze a running container (v1 freezer.state, v2 cgroup.freeze). */
int rf_container_pause (const char *root, const char *id, rf_error_t *err);
/* Thaw a paused one. */
int rf_container_resume (const char *root, const char *id, rf_error_t *err);

/* Change the limits of a created, running or paused container.  resources
   is a linux.resources object holding only what changes (zeros and empty
   strings mean "unchanged", as in runc's update); it is checked together
   with the limits already set, applied to the cgroup, and merged into the
   config.json kept in the state directory, so exec and events see it.
   Device rules are not changed (runc does not either). */
int rf_container_update (const char *root, const char *id, json_t *resources, rf_error_t *err);

#endif
