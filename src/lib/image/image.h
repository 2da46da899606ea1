/* Images in the store: finding one by name or digest, reading its
 * manifest and config, unpacking it, listing, removing names, pruning. */
#ifndef RF_IMAGE_IMAGE_H
#define RF_IMAGE_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "manifest.h"
#include "store.h"
#include "unpack.h"

typedef struct
{
  char digest[RF_DIGEST_MAX]; /* of the manifest: the image's identity */
  rf_manifest_t manifest;
  rf_image_config_t config;
  json_t *config_json;
} rf_image_t;

/* A name ("alpine", "localhost:5000/x:1"), a digest ("sha256:<64 hex>")
   or a unique prefix of at least 12 hex digits of one. */
int rf_image_resolve (rf_store_t *s, const char *ref, char digest[RF_DIGEST_MAX],
                      rf_error_t *err);
int rf_image_load (rf_store_t *s, const char *digest, rf_image_t *out, rf_error_t *err);
void rf_image_clear (rf_image_t *img);
/* Bytes the image's blobs take (manifest, config, layers as stored). */
int64_t rf_image_size (rf_store_t *s, const rf_image_t *img);
/* The names that point at digest, a NULL-terminated list. */
char **rf_image_names (json_t *refs, const char *digest);

/* Unpack every layer into the empty directory root_fd. */
int rf_image_unpack (rf_store_t *s, const rf_image_t *img, int root_fd, unsigned flags,
                     rf_unpack_stats_t *stats, rf_error_t *err);
/* The shared read-only rootfs of the image, unpacked now if it is not yet
   (*made says so). */
int rf_image_rootfs (rf_store_t *s, const rf_image_t *img, char **path, bool *made,
                     rf_unpack_stats_t *stats, rf_error_t *err);

/* `inspect`'s document. */
json_t *rf_image_inspect (rf_store_t *s, const rf_image_t *img, json_t *refs);

/* Remove a name, or every name of an image given by digest; *removed lists
   what went. */
int rf_image_remove (rf_store_t *s, const char *ref, char ***removed, rf_error_t *err);

typedef struct
{
  unsigned blobs, rootfs, other;
  int64_t bytes;
} rf_prune_stats_t;
/* Remove every blob and rootfs no name reaches (the store must be open
   exclusively). */
int rf_image_prune (rf_store_t *s, rf_prune_stats_t *stats, rf_error_t *err);

#endif
