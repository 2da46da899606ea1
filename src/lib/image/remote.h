/* `runfctl image inspect --remote`: an image's manifest and config read
 * from its registry, as `inspect` shows one from the store, without
 * fetching a layer or writing anything. */
#ifndef RF_IMAGE_REMOTE_H
#define RF_IMAGE_REMOTE_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "manifest.h"
#include "registry.h"

/* With raw, *doc is the manifest (or index) the reference names, as the
   registry sent it; else the inspect document of the platform's image. */
int rf_inspect_remote (const char *ref, const rf_registry_opts_t *opts,
                       const rf_platform_t *platform, bool raw, char **text, rf_error_t *err);

/* The document `inspect` prints, from an image's parts (without the
   store's own fields: names, rootfs). */
json_t *rf_inspect_doc (const char *digest, const rf_manifest_t *m, const rf_image_config_t *c,
                        json_t *config_json, int64_t size);

#endif
