/* File-system steps of the image code that must not be led astray by what
 * an image puts on disk: opening directories below a root without
 * following any symlink, reading a file of the image with its symlinks
 * resolved inside the image, removing trees the caller may have made
 * read-only. */
#ifndef RF_IMAGE_FSOPS_H
#define RF_IMAGE_FSOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Open the directory `path` (relative, clean) below root_fd for reading,
   refusing any symlink on the way (rf_inroot_open); "" is root_fd itself. */
int rf_open_dir_beneath (int root_fd, const char *path, rf_error_t *err);
/* Open the file `path` of an image root (an absolute path inside the
   image), its symlinks resolved as if root_fd were "/" (rf_inroot_open). */
int rf_open_in_root (int root_fd, const char *path, rf_error_t *err);

/* rm -r of name below dirfd, making directories writable on the way (a
   rootless unpack keeps an image's read-only modes).  Never follows a
   symlink, never crosses into another file system; a missing name is not
   an error. */
int rf_rm_tree_at (int dirfd, const char *name, rf_error_t *err);
/* Bytes used by a tree (st_blocks), hard links counted once per tree. */
int64_t rf_tree_disk_usage_at (int dirfd, const char *name);

#endif
