/* `runfctl image pull`: resolve a reference at its registry, pick the
 * platform's manifest from an index, fetch what the store lacks, and
 * ingest it (ingest.h) under the reference's name. */
#ifndef RF_IMAGE_PULL_H
#define RF_IMAGE_PULL_H

#include "common/error.h"
#include "manifest.h"
#include "registry.h"
#include "store.h"

typedef struct
{
  rf_registry_opts_t registry;
  const rf_platform_t *platform;
  bool check_layers; /* see ingest.h */
} rf_pull_opts_t;

/* *name is the normalized name the image got; owned by the caller. */
int rf_pull (rf_store_t *s, const char *ref, const rf_pull_opts_t *opts,
             char digest[RF_DIGEST_MAX], char **name, rf_error_t *err);

#endif
