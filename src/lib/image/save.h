/* `runfctl image save`: images of the store written out as
 *
 *   docker-archive  what `docker save` writes since docker 25: an OCI
 *                   layout (oci-layout, index.json, blobs/sha256/) with
 *                   docker's manifest.json beside it, in one tar;
 *   oci-archive     an OCI image layout in a tar;
 *   oci-dir         an OCI image layout in a new directory.
 *
 * The blobs are the store's, byte for byte (layers stay compressed as they
 * are), so every digest survives a save and an import, and each is hashed
 * again on the way out.  Nothing is left under the output's name unless
 * it is complete: a temporary file or directory beside it is renamed at
 * the end. */
#ifndef RF_IMAGE_SAVE_H
#define RF_IMAGE_SAVE_H

#include "common/error.h"
#include "store.h"

typedef enum
{
  RF_SAVE_DOCKER_ARCHIVE,
  RF_SAVE_OCI_ARCHIVE,
  RF_SAVE_OCI_DIR,
} rf_save_format_t;

int rf_save_format_parse (const char *s, rf_save_format_t *out, rf_error_t *err);

/* refs: names or digests in the store; out: a path, or "-" (stdout, not
   for oci-dir). */
int rf_save (rf_store_t *s, char *const *refs, size_t n, rf_save_format_t format, const char *out,
             rf_error_t *err);

/* The short name docker shows ("busybox:latest" for
   docker.io/library/busybox:latest); owned by the caller. */
char *rf_familiar_name (const char *name);

#endif
