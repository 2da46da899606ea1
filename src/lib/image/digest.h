/* Content digests: "sha256:<64 lowercase hex>", computed while streaming
 * with libcrypto and compared before anything is trusted. */
#ifndef RF_IMAGE_DIGEST_H
#define RF_IMAGE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define RF_DIGEST_HEX_LEN 64
/* "sha256:" + 64 hex + NUL */
#define RF_DIGEST_MAX (7 + RF_DIGEST_HEX_LEN + 1)

typedef struct rf_sha256_s rf_sha256_t;

rf_sha256_t *rf_sha256_new (void);
void rf_sha256_update (rf_sha256_t *h, const void *buf, size_t len);
/* Writes "sha256:<hex>" into out and resets the hash for reuse. */
void rf_sha256_final (rf_sha256_t *h, char out[RF_DIGEST_MAX]);
void rf_sha256_reset (rf_sha256_t *h);
void rf_sha256_free (rf_sha256_t *h);
static inline void
cleanup_sha256p (rf_sha256_t **h)
{
  rf_sha256_free (*h);
}
#define cleanup_sha256 __attribute__ ((cleanup (cleanup_sha256p)))

/* The digest of a buffer. */
void rf_digest_buffer (const void *buf, size_t len, char out[RF_DIGEST_MAX]);

/* Whether s is a well-formed digest this store can verify.  Only sha256 is
   supported; other algorithms are reported by rf_digest_check. */
bool rf_digest_valid_p (const char *s);
/* As rf_digest_valid_p, with a reason ("unsupported digest algorithm `x`"). */
int rf_digest_check (const char *s, rf_error_t *err);
/* The hex part of a valid digest. */
const char *rf_digest_hex (const char *digest);
/* Whether s is 64 lowercase hex digits. */
bool rf_digest_hex_valid_p (const char *s);

#endif
