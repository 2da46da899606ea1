/* Registry credentials and challenges: `user:pass` from the command line,
 * else from an auth file (containers' auth.json, docker's config.json),
 * and the WWW-Authenticate header a registry answers 401 with. */
#ifndef RF_IMAGE_AUTH_H
#define RF_IMAGE_AUTH_H

#include <stdbool.h>

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
   path, read as containers/image (podman, skopeo) reads them: from
   authfile, or else $REGISTRY_AUTH_FILE, as the only file; otherwise from
   rf_auth_file_default (), $XDG_CONFIG_HOME/containers/auth.json, docker's
   config.json ($DOCKER_CONFIG or ~/.docker) and ~/.dockercfg, the first
   that has an entry.  0 with *user NULL when there are none. */
int rf_creds_lookup (const char *authfile, const char *domain, const char *path, char **user,
                     char **pass, rf_error_t *err);
/* $REGISTRY_AUTH_FILE, or NULL. */
char *rf_auth_file_given (void);
/* The file podman login writes: $XDG_RUNTIME_DIR/containers/auth.json,
   else /run/containers/UID/auth.json. */
char *rf_auth_file_default (void);
/* docker login's: $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
char *rf_auth_file_docker (void);
/* The auths key for a registry given on the command line: "host[:port]"
   or "host[:port]/repository" ("https://" and "/v2/" dropped, docker.io's
   other names made docker.io). */
int rf_auth_key (const char *registry, char **key, rf_error_t *err);
/* Add or replace the entry of key in an auth file (made 0600, its
   directory 0700), keeping everything else in it. */
int rf_auth_store (const char *file, const char *key, const char *user, const char *pass,
                   rf_error_t *err);
/* Remove the entries for key (and, for a host, its other spellings), or
   every entry when key is NULL; *found says whether there were any. */
int rf_auth_remove (const char *file, const char *key, bool *found, rf_error_t *err);
/* "Basic <base64 of user:pass>"; owned by the caller. */
char *rf_basic_auth (const char *user, const char *pass);

#endif
