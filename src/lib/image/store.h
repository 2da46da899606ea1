/* The local image store:
 *
 *   <root>/lock               flock: shared by every writer, exclusive for prune
 *   <root>/refs.json          names ("docker.io/library/alpine:latest") to manifest digests
 *   <root>/blobs/sha256/<hex> content-addressed manifests, configs and layers
 *   <root>/rootfs/<hex>/      an image's root filesystem, unpacked once, then only read
 *   <root>/locks/<hex>        flock: one unpack of an image at a time
 *   <root>/tmp/<random>/      one scratch directory per running runfctl, flocked
 *   <root>/pins/<owner>.json  images in use without a name (runfd's functions run theirs by digest)
 *
 * Everything enters by being written in tmp/ and renamed into place, so a
 * crash at any point leaves only scratch files, which the next writer
 * removes (a scratch directory whose flock nobody holds is stale). */
#ifndef RF_IMAGE_STORE_H
#define RF_IMAGE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "digest.h"

typedef enum
{
  RF_STORE_READ,      /* no lock; a missing store reads as empty */
  RF_STORE_WRITE,     /* shared lock; scratch directory; stale scratch swept */
  RF_STORE_EXCLUSIVE, /* exclusive lock (prune) */
} rf_store_mode_t;

typedef struct
{
  char *root;
  int root_fd; /* -1 for a store that does not exist (read mode) */
  int lock_fd;
  int tmp_fd;
  char *tmp_name;
  unsigned tmp_seq;
  bool rootless;
} rf_store_t;

/* /var/lib/runf as root; $XDG_DATA_HOME/runf or ~/.local/share/runf
   otherwise. */
char *rf_store_default_root (bool rootless);
int rf_store_open (const char *root, rf_store_mode_t mode, bool rootless, rf_store_t **out,
                   rf_error_t *err);
void rf_store_close (rf_store_t *s);
static inline void
cleanup_storep (rf_store_t **s)
{
  rf_store_close (*s);
}
#define cleanup_store __attribute__ ((cleanup (cleanup_storep)))

/* A fresh name in this process's scratch directory ("<prefix>-<n>"). */
char *rf_store_tmp_name (rf_store_t *s, const char *prefix);

/* Blobs. */
bool rf_store_has_blob (rf_store_t *s, const char *digest);
int rf_store_open_blob (rf_store_t *s, const char *digest, rf_error_t *err);
/* A small blob in memory, its digest checked again (manifests, configs). */
int rf_store_read_blob (rf_store_t *s, const char *digest, size_t max, char **buf, size_t *len,
                        rf_error_t *err);
int64_t rf_store_blob_size (rf_store_t *s, const char *digest);

/* A blob being written: in scratch until installed. */
typedef struct rf_blob_writer_s rf_blob_writer_t;
rf_blob_writer_t *rf_blob_writer_new (rf_store_t *s, rf_error_t *err);
int rf_blob_writer_write (rf_blob_writer_t *w, const void *buf, size_t len, rf_error_t *err);
/* Start over (a retried download). */
int rf_blob_writer_restart (rf_blob_writer_t *w, rf_error_t *err);
/* Complete the digest; with an expected digest and size (size < 0: any),
   a mismatch is an error naming both. */
int rf_blob_writer_finish (rf_blob_writer_t *w, const char *expected, int64_t size,
                           rf_error_t *err);
const char *rf_blob_writer_digest (rf_blob_writer_t *w);
int64_t rf_blob_writer_size (rf_blob_writer_t *w);
/* A new read-only fd on the written bytes. */
int rf_blob_writer_open (rf_blob_writer_t *w, rf_error_t *err);
/* Move the finished blob into blobs/. */
int rf_blob_writer_install (rf_blob_writer_t *w, rf_error_t *err);
/* Drops the scratch file unless installed. */
void rf_blob_writer_free (rf_blob_writer_t *w);
/* Store a small blob from memory at once. */
int rf_store_put_blob (rf_store_t *s, const void *buf, size_t len, char digest[RF_DIGEST_MAX],
                       rf_error_t *err);

/* Names.  The object maps name to digest; owned by the caller. */
int rf_store_refs_load (rf_store_t *s, json_t **refs, rf_error_t *err);
/* Change the names under their lock: fn edits the object, which is then
   written to a scratch file and renamed over refs.json. */
int rf_store_refs_update (rf_store_t *s, int (*fn) (json_t *refs, void *ctx, rf_error_t *err),
                          void *ctx, rf_error_t *err);
int rf_store_ref_set (rf_store_t *s, const char *name, const char *digest, rf_error_t *err);

/* The path of an image's shared rootfs (which may not exist yet). */
char *rf_store_rootfs_path (rf_store_t *s, const char *digest);
/* Take the unpack lock of an image (blocking); returns the lock fd. */
int rf_store_lock_image (rf_store_t *s, const char *digest, rf_error_t *err);

/* Pins: what prune keeps whatever the names say.  A pin names its image
   and why it is still wanted: a record file (a function runfd restores at
   its next start) and a lock file (flocked while that runfd runs).  Prune
   keeps a pin while either holds, and drops it otherwise.  owner is a
   file name of the caller's ([A-Za-z0-9._-]). */
int rf_store_pin (rf_store_t *s, const char *owner, const char *digest, const char *record, const char *lock,
                  rf_error_t *err);
/* Without opening the store (a pin file's removal needs no lock). */
void rf_store_unpin (const char *root, const char *owner);
void rf_store_unpin_prefix (const char *root, const char *prefix);
/* The digests of the pins still wanted, into keep (an object used as a
   set); stale pins are removed. */
int rf_store_pins (rf_store_t *s, json_t *keep, rf_error_t *err);

#endif
