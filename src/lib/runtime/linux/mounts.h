/* The container's file system: rootfs, config.json's mounts in order,
 * pivot_root, and the masking done once the container's root is "/". */
#ifndef RF_MOUNTS_H
#define RF_MOUNTS_H

#include <stdbool.h>

#include "common/error.h"
#include "runtime/spec.h"

/* Open an existing path below root_fd, resolved inside the root
   (rf_inroot_open), with the rootfs named in the error. */
int rf_root_open (int root_fd, const char *path, int flags, rf_error_t *err);

/* Before the mounts: propagation of "/", the rootfs bind-mounted on itself.
   slaved: the mount namespace is new with a user namespace of its own, so
   that the kernel made its shared mounts slaves already. */
int rf_mounts_prepare_rootfs (const rf_spec_t *spec, const char *rootfs, unsigned long flags,
                              bool slaved, rf_error_t *err);
/* Whether no mount of the old root is shared once the rootfs is prepared
   (linux.rootfsPropagation is rslave, the default). */
bool rf_mounts_all_slaves_p (const rf_spec_t *spec);
/* config.json's mounts, in order, below root_fd.  source_fds (or NULL)
   has an O_PATH fd for a bind mount's source where runf opened it (see
   rf_mount_sources_send), else -1. */
int rf_mounts_apply (const rf_spec_t *spec, const char *bundle, int root_fd,
                     bool userns, const int *source_fds, rf_error_t *err);
/* runf's side, for a container with a new user namespace made by root: the
   sources of its bind mounts, opened as root of the host in the mount
   namespace of init (pid), sent to init over sync_fd as
   RF_SYNC_MOUNT_SOURCE messages.  Root of the container's user namespace
   is an unprivileged user on the host, which may not reach a source below
   a directory only the host's root may enter; runc opens them the same
   way.  Opened in init's mount namespace, since the kernel binds only
   mounts of the namespace it binds in. */
int rf_mount_sources_send (pid_t pid, const rf_spec_t *spec, const char *bundle, int sync_fd,
                           rf_error_t *err);
/* Make rootfs the root: pivot_root, or MS_MOVE + chroot with no_pivot.
   old_root_slaves: no mount of the old root is shared
   (rf_mounts_all_slaves_p), so that detaching it reaches no other
   namespace without making it a slave first. */
int rf_mounts_pivot (const char *rootfs, bool no_pivot, bool old_root_slaves, rf_error_t *err);
/* After the pivot: sysctl, maskedPaths, readonlyPaths, a read-only root. */
int rf_mounts_finish (const rf_spec_t *spec, rf_error_t *err);
int rf_mounts_sysctl (const rf_spec_t *spec, rf_error_t *err);
int rf_mounts_readonly_root (const rf_spec_t *spec, unsigned long flags, rf_error_t *err);
/* Whether config.json mounts something at `dest`, and whether as a bind. */
const rf_mount_t *rf_spec_mount_at (const rf_spec_t *spec, const char *dest);

#endif
