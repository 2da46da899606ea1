/* Names of tar entries, checked before anything touches the disk: a name
 * is a relative path below the root with no `..`, and whiteout names
 * (`.wh.NAME`, `.wh..wh..opq`) are told apart from ordinary ones. */
#ifndef RF_IMAGE_TARPATH_H
#define RF_IMAGE_TARPATH_H

#include "common/error.h"

typedef enum
{
  RF_WHITEOUT_NONE,
  RF_WHITEOUT_FILE,   /* .wh.NAME: remove NAME of lower layers */
  RF_WHITEOUT_OPAQUE, /* .wh..wh..opq: hide the lower layers' directory contents */
  RF_WHITEOUT_META,   /* other .wh..wh.* names (aufs bookkeeping): ignored */
} rf_whiteout_t;

/* The clean form of an entry name: components joined by single slashes, no
   "." components, no leading "./", no trailing slash; "" is the root.
   Absolute names and `..` components are refused, not rewritten, since a
   layer that has them was made to escape.  Owned by the caller. */
int rf_tar_path_clean (const char *raw, char **out, rf_error_t *err);
/* What a clean name is; for whiteouts, *target is the path they act on
   (the directory for an opaque marker).  Owned by the caller. */
int rf_tar_whiteout (const char *clean, rf_whiteout_t *kind, char **target, rf_error_t *err);

#endif
