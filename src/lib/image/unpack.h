/* Unpacking layers onto disk: the model (layertree.h) decides, this file
 * does, with every step relative to a directory fd opened without
 * following symlinks, so nothing an image plants leads outside the root. */
#ifndef RF_IMAGE_UNPACK_H
#define RF_IMAGE_UNPACK_H

#include <stdbool.h>

#include "common/error.h"

typedef struct rf_unpacker_s rf_unpacker_t;

/* How an unpack treats what only root could make. */
enum
{
  /* Every file owned by the caller; no device nodes. */
  RF_UNPACK_ROOTLESS = 1 << 0,
  /* The store's shared rootfs, which functions run from and every local
     user can reach: no device nodes, no set-id bits and no file
     capabilities (security.capability), so that nothing there grants more
     than its owner's rights to whoever runs it, on the host or in an
     instance.  `runfctl image unpack` (a bundle's own rootfs) keeps them. */
  RF_UNPACK_SHARED = 1 << 1,
};

typedef struct
{
  unsigned devices;        /* device nodes not made (rootless, shared) */
  unsigned privileges;     /* set-id bits and file capabilities left out (shared) */
  unsigned xattrs;         /* extended attributes the file system refused */
  unsigned long long files; /* entries written */
  unsigned long long bytes; /* file data written */
} rf_unpack_stats_t;

/* Unpack into the empty directory root_fd; flags: RF_UNPACK_*. */
rf_unpacker_t *rf_unpacker_new (int root_fd, unsigned flags);
/* The next layer, read from fd (any compression); with diff_id, its
   uncompressed bytes must hash to it. */
int rf_unpacker_apply (rf_unpacker_t *u, int fd, const char *what, const char *diff_id,
                       rf_error_t *err);
/* Directory modes and times, once every layer is in. */
int rf_unpacker_finish (rf_unpacker_t *u, rf_error_t *err);
const rf_unpack_stats_t *rf_unpacker_stats (rf_unpacker_t *u);
void rf_unpacker_free (rf_unpacker_t *u);

#endif
