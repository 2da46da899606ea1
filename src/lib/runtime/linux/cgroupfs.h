/* The /sys/fs/cgroup a container sees: a cgroup2 mount on a unified host;
 * on v1 and hybrid hosts a tmpfs with one directory per hierarchy, as runc
 * lays it out.  With its own cgroup namespace the container gets fresh
 * mounts (which show its own subtree); without one, binds of its cgroups. */
#ifndef RF_CGROUPFS_H
#define RF_CGROUPFS_H

#include <stdbool.h>

#include "common/error.h"
#include "runtime/spec.h"

int rf_cgroupfs_mount (const rf_spec_t *spec, int root_fd, const rf_mount_t *m,
                       bool userns, rf_error_t *err);

#endif
