/* Opening a path below a root directory as if that directory were "/": the
 * one place that does it, for the container's rootfs (runtime/linux/mounts.c
 * and devices.c, runfd's mount points in a function's rootfs) and an
 * image's tree (image/fsops.c).  openat2(2) where the kernel has it;
 * elsewhere the same resolution done by hand, one component at a time. */
#ifndef RF_INROOT_H
#define RF_INROOT_H

#include <stdbool.h>

#include "error.h"

typedef enum
{
  /* Symlinks are followed, but resolved inside the root: ".." stops at it
     and an absolute target starts again from it (RESOLVE_IN_ROOT). */
  RF_INROOT_FOLLOW,
  /* No symlink is followed at all (ELOOP), and ".." may not climb above
     the root (EXDEV), nor may the path be absolute (RESOLVE_BENEATH |
     RESOLVE_NO_SYMLINKS). */
  RF_INROOT_NO_SYMLINKS,
} rf_inroot_how_t;

/* Open `path` below root_fd with open(2)'s flags (O_CLOEXEC is added; not
   O_CREAT); "" and "/" are the root itself.  Magic links (/proc/PID/fd/N,
   /proc/PID/root) are never followed as such.  As openat(2): the fd, or -1
   with errno set (ELOOP for a symlink where none may be, or more than 40). */
int rf_inroot_open (int root_fd, const char *path, int flags, rf_inroot_how_t how);

/* `path` resolved inside the root as RF_INROOT_FOLLOW does, as a path
   relative to root_fd ("" for the root itself; no "." or ".." left, no
   symlink on the way), for a caller that then creates what is missing:
   components that do not exist are kept as written.  Owned by the caller;
   NULL with err set on a symlink loop. */
char *rf_inroot_resolve (int root_fd, const char *path, rf_error_t *err);

/* Open `path` below root_fd as an O_PATH fd, creating what is missing:
   directories on the way (0755), and the last component as a directory or
   an empty file (0644).  Symlinks resolve inside the root, so nothing a
   hostile rootfs plants can make a mount point land outside it; what is
   made is made one component at a time below its parent's fd, never
   through a link, so a link planted meanwhile makes it fail, not escape.
   The errors name `path` "in the rootfs". */
int rf_inroot_mkpath (int root_fd, const char *path, bool dir, rf_error_t *err);

/* Resolve by hand even where openat2 exists (the tests of that path). */
void rf_inroot_force_fallback (bool on);

#endif
