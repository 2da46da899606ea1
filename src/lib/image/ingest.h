/* Bringing one image into the store, whatever it comes from (a registry,
 * a docker save archive, an OCI layout): the manifest and config are
 * checked, blobs that are missing are fetched into scratch and verified
 * against their descriptors (digest and size), and only then are the
 * blobs, the manifest and the names put in place, in that order.  An image
 * that fails any check leaves the store as it was.
 *
 * What a layer holds (it must decompress, be a whole tar, hash to its
 * diff_id, and write nothing outside the root) is checked where the layer
 * is read anyway, when it is unpacked; with check_layers it is also read
 * through here, so that such an image never enters the store. */
#ifndef RF_IMAGE_INGEST_H
#define RF_IMAGE_INGEST_H

#include <stdbool.h>

#include "common/error.h"
#include "manifest.h"
#include "store.h"

typedef struct
{
  /* A finished writer (see store.h) holding the blob of desc, its digest
     and size already checked.  The writer stays the source's. */
  int (*fetch) (void *ctx, const rf_descriptor_t *desc, const char *what,
                rf_blob_writer_t **out, rf_error_t *err);
  void *ctx;
} rf_blob_source_t;

/* Ingest the image whose manifest is buf and give it the names (may be
   NULL).  *existed says the manifest was already in the store. */
int rf_ingest_image (rf_store_t *s, const char *buf, size_t len, const rf_blob_source_t *src,
                     char *const *names, bool check_layers, char digest[RF_DIGEST_MAX],
                     bool *existed, rf_error_t *err);
/* A layer's short description for messages: "layer 2 (sha256:0123456789ab)". */
char *rf_layer_what (size_t index, const char *digest);

#endif
