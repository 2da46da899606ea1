/* `runfctl image import`: a `docker save` archive (manifest.json, one or
 * several images, including the OCI layout newer docker writes alongside)
 * or an OCI image layout (a directory, or a tar of one), from a file or
 * stdin.  An archive is read once, front to back, each member into
 * scratch with its digest computed on the way, so it may come from a
 * pipe. */
#ifndef RF_IMAGE_IMPORT_H
#define RF_IMAGE_IMPORT_H

#include <stdbool.h>

#include "common/error.h"
#include "manifest.h"
#include "store.h"

typedef struct
{
  const char *name;               /* name the (single) image so */
  const rf_platform_t *platform;  /* for multi-platform layouts */
  bool check_layers;              /* see ingest.h */
  void (*imported) (void *ctx, const char *digest, char *const *names, bool existed);
  void *ctx;
} rf_import_opts_t;

/* path: a directory (OCI layout), a file, or "-" for stdin. */
int rf_import (rf_store_t *s, const char *path, const rf_import_opts_t *opts, rf_error_t *err);

/* The name an image gets from an OCI layout's annotations (a full name,
   or a tag put on `localhost/<label>`), normalized; NULL when it has none
   or it is malformed. */
char *rf_import_name (const char *image_name, const char *ref_name, const char *label);

#endif
