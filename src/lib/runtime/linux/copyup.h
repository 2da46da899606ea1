/* tmpcopyup: what a directory held before a tmpfs was mounted over it,
 * copied into the tmpfs (runc's and crun's mount extension, which podman
 * uses for the tmpfs mounts of a read-only container). */
#ifndef RF_COPYUP_H
#define RF_COPYUP_H

#include "common/error.h"

/* Copy the tree below the directory `from` into the directory `to`:
   directories, regular files, symlinks, fifos and device nodes, with their
   modes, owners and times; `to` itself takes from's mode and owner. */
int rf_copy_tree (int from, int to, rf_error_t *err);

#endif
