/* Registry credentials and challenges: `user:pass` from the command line,
 * else from an auth file (containers' auth.json, docker's config.json),
 * and the WWW-Authenticate header a registry answers 401 with. */
#ifndef RF_IMAGE_AUTH_H
#define RF_IMAGE_AUTH_H

#include "common/error.h"

typedef struct
{
  char *scheme; /* "Bearer", "Basic" */
  char *realm, *service, *scope;
} rf_challenge_t;

/* Parse `Bearer realm="...",service="...",scope="..."`; 0 when it is a
   challenge runfctl can answer, -1 with err otherwise. */
int rf_challenge_parse (const char *header, rf_challenge_t *out, rf_error_t *err);
void rf_challenge_clear (rf_challenge_t *c);

/* Split "user:pass". */
int rf_creds_parse (const char *s, char **user, char **pass, rf_error_t *err);
/* Credentials for registry `domain` (as in a reference) and repository
   path from authfile, or when that is NULL from
   $XDG_RUNTIME_DIR/containers/auth.json, then ~/.docker/config.json.
   0 with *user NULL when there are none. */
int rf_creds_lookup (const char *authfile, const char *domain, const char *path, char **user,
                     char **pass, rf_error_t *err);
/* "Basic <base64 of user:pass>"; owned by the caller. */
char *rf_basic_auth (const char *user, const char *pass);

#endif
