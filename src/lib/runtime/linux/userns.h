/* uid/gid maps of a container's new user namespace, written by runf (the
 * parent) while init waits: one range directly, several through the
 * setuid helpers newuidmap/newgidmap, which check /etc/subuid. */
#ifndef RF_USERNS_H
#define RF_USERNS_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/spec.h"

int rf_userns_write_maps (pid_t pid, const rf_spec_t *spec, rf_error_t *err);
#include "common/userns_probe.h" /* rf_userns_nested_p */

#endif
