/* A registry client for the distribution spec (HTTP API v2) over libcurl:
 * manifests and blobs by digest, blob uploads and manifest PUTs, the 401 challenge answered
 * with a Bearer token (anonymous or with credentials) or Basic auth,
 * retries with backoff on 5xx, 429 and time-outs, and HTTPS with a plain
 * HTTP fallback only where allowed (--tls-verify=false, or loopback). */
#ifndef RF_IMAGE_REGISTRY_H
#define RF_IMAGE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "manifest.h"
#include "progress.h"
#include "reference.h"
#include "store.h"

typedef struct
{
  const char *user, *pass; /* --creds; NULL: look in the auth files */
  const char *authfile;
  bool tls_verify;
  long timeout; /* seconds without a byte before a request fails */
  int retries;
  rf_progress_t *progress;
  bool push; /* ask for push rights along with pull */
} rf_registry_opts_t;

typedef struct rf_registry_s rf_registry_t;

rf_registry_t *rf_registry_new (const rf_ref_t *ref, const rf_registry_opts_t *opts);
void rf_registry_free (rf_registry_t *r);
/* GET /v2/<name>/manifests/<reference>. */
int rf_registry_manifest (rf_registry_t *r, const char *reference, char **body, size_t *len,
                          char **content_type, rf_error_t *err);
/* GET /v2/<name>/blobs/<digest> into w (started over on a retry). */
int rf_registry_blob (rf_registry_t *r, const rf_descriptor_t *d, rf_blob_writer_t *w,
                      rf_error_t *err);

/* A small blob (a config) in memory, its digest checked. */
int rf_registry_blob_buffer (rf_registry_t *r, const rf_descriptor_t *d, size_t max, char **buf,
                             size_t *len, rf_error_t *err);
/* HEAD /v2/<name>/blobs/<digest>: 1 when the registry has it, 0 when not. */
int rf_registry_blob_exists (rf_registry_t *r, const char *digest, rf_error_t *err);
/* Upload the first size bytes of fd as blob digest (POST, then one PUT). */
int rf_registry_blob_upload (rf_registry_t *r, const char *digest, int fd, int64_t size,
                             rf_error_t *err);
/* PUT /v2/<name>/manifests/<reference> with the manifest's media type. */
int rf_registry_manifest_put (rf_registry_t *r, const char *reference, const char *buf, size_t len,
                              const char *media_type, rf_error_t *err);
/* GET /v2/, answering its challenge with the credentials: whether they
   are good (image login). */
int rf_registry_ping (rf_registry_t *r, rf_error_t *err);

#endif
