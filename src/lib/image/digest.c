#include "digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "text.h"

struct rf_sha256_s
{
  EVP_MD_CTX *ctx;
};

static void
init_ctx (rf_sha256_t *h)
{
  if (EVP_DigestInit_ex (h->ctx, EVP_sha256 (), NULL) != 1)
    abort ();
}

rf_sha256_t *
rf_sha256_new (void)
{
  rf_sha256_t *h = xmalloc (sizeof *h);
  h->ctx = EVP_MD_CTX_new ();
  if (h->ctx == NULL)
    abort ();
  init_ctx (h);
  return h;
}

void
rf_sha256_update (rf_sha256_t *h, const void *buf, size_t len)
{
  if (len && EVP_DigestUpdate (h->ctx, buf, len) != 1)
    abort ();
}

void
rf_sha256_final (rf_sha256_t *h, char out[RF_DIGEST_MAX])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  static const char hex[] = "0123456789abcdef";

  if (EVP_DigestFinal_ex (h->ctx, md, &n) != 1 || n != 32)
    abort ();
  memcpy (out, "sha256:", 7);
  for (unsigned int i = 0; i < n; i++)
    {
      out[7 + 2 * i] = hex[md[i] >> 4];
      out[7 + 2 * i + 1] = hex[md[i] & 15];
    }
  out[7 + 2 * n] = '\0';
  init_ctx (h);
}

void
rf_sha256_reset (rf_sha256_t *h)
{
  init_ctx (h);
}

void
rf_sha256_free (rf_sha256_t *h)
{
  if (h == NULL)
    return;
  EVP_MD_CTX_free (h->ctx);
  free (h);
}

void
rf_digest_buffer (const void *buf, size_t len, char out[RF_DIGEST_MAX])
{
  rf_sha256_t *h = rf_sha256_new ();
  rf_sha256_update (h, buf, len);
  rf_sha256_final (h, out);
  rf_sha256_free (h);
}

bool
rf_digest_hex_valid_p (const char *s)
{
  size_t i;
  for (i = 0; i < RF_DIGEST_HEX_LEN; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return s[i] == '\0';
}

bool
rf_digest_valid_p (const char *s)
{
  return s && strncmp (s, "sha256:", 7) == 0 && rf_digest_hex_valid_p (s + 7);
}

int
rf_digest_check (const char *s, rf_error_t *err)
{
  const char *colon;
  if (rf_digest_valid_p (s))
    return 0;
  cleanup_free char *shown = rf_printable (s, 80);

  colon = s ? strchr (s, ':') : NULL;
  if (colon && colon != s && strncmp (s, "sha256:", 7) != 0)
    {
      shown[colon - s < 80 ? colon - s : 80] = '\0';
      return rf_error_make (err, 0, "unsupported digest algorithm `%s`", shown);
    }
  return rf_error_make (err, 0, "malformed digest `%s`", shown);
}

const char *
rf_digest_hex (const char *digest)
{
  return digest + 7;
}
