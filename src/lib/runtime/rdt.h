/* linux.intelRdt through resctrl: the container's init joins a resource
 * control group (closID, or one of its own named after the container)
 * whose schemata lines are the config's. */
#ifndef RF_RDT_H
#define RF_RDT_H

#include <sys/types.h>

#include "common/error.h"
#include "runtime/spec.h"

/* *made gets the group's directory when runf made it (to remove it on
   delete), NULL when it joined an existing one or none was asked for. */
int rf_rdt_apply (const rf_spec_t *spec, const char *id, pid_t pid, char **made, rf_error_t *err);
void rf_rdt_remove (const char *dir);

#endif
