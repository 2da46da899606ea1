/* tmpcopyup: what a directory held before a tmpfs was mounted over it,
 * copied into the tmpfs (runc's and crun's mount extension, which podman
 * uses for the tmpfs mounts of a read-only container). */
#ifndef RF_COPYUP_H
#define RF_COPYUP_H

#include <stdbool.h>

#include "common/error.h"

/* Copy the tree below the directory `from` into the directory `to`:
   directories, regular files, symlinks, fifos and device nodes, with their
   modes, owners and times; with_root: `to` itself takes from's mode and
   owner (runc does so where the directory was there before the mount). */
int rf_copy_tree (int from, int to, bool with_root, rf_error_t *err);

#endif
