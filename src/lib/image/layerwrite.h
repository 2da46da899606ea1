/* A new layer from a directory on disk: a tar (pax) of the tree, gzip'd
 * with zlib, written into the store while both digests are computed, the
 * blob's (of the compressed bytes) and the diff_id (of the tar). */
#ifndef RF_IMAGE_LAYERWRITE_H
#define RF_IMAGE_LAYERWRITE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "digest.h"
#include "store.h"

typedef struct
{
  const char *dest; /* where the tree goes in the image: a clean relative path, "" for "/" */
  uid_t uid;        /* every entry's owner */
  gid_t gid;
  int64_t clamp_mtime; /* >= 0: no mtime later than this (SOURCE_DATE_EPOCH) */
} rf_layer_opts_t;

typedef struct
{
  char digest[RF_DIGEST_MAX];  /* of the blob, now in the store */
  char diff_id[RF_DIGEST_MAX]; /* of the uncompressed tar */
  int64_t size;
  uint64_t entries;
} rf_layer_result_t;

/* The tree below dir, read without following a symlink in it (symlinks
   are stored as symlinks, hard links as hard links, devices and sockets
   are refused), in name order, owned by opts->uid:gid. */
int rf_layer_from_dir (rf_store_t *s, const char *dir, const rf_layer_opts_t *opts,
                       rf_layer_result_t *out, rf_error_t *err);

#endif
