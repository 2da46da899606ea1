/* `runfctl image push`: an image of the store to a registry.  Blobs the
 * registry lacks are uploaded (layers, then the config), each checked
 * against its digest again on the way out; the manifest goes last, as the
 * very bytes stored, so the registry's digest is the store's. */
#ifndef RF_IMAGE_PUSH_H
#define RF_IMAGE_PUSH_H

#include "common/error.h"
#include "registry.h"
#include "store.h"

/* src: a name or digest in the store; dest: a reference (NULL: src's
   name).  *name is dest normalized; owned by the caller. */
int rf_push (rf_store_t *s, const char *src, const char *dest, const rf_registry_opts_t *opts,
             char digest[RF_DIGEST_MAX], char **name, rf_error_t *err);

#endif
