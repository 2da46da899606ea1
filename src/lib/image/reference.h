/* Image references with docker's naming rules: `alpine` is
 * `docker.io/library/alpine:latest`, `localhost:5000/a/b@sha256:...` keeps
 * its registry, and a name's first component is a registry only when it
 * looks like a host (has a dot or a port, or is `localhost`). */
#ifndef RF_IMAGE_REFERENCE_H
#define RF_IMAGE_REFERENCE_H

#include "common/error.h"

typedef struct
{
  char *domain; /* "docker.io", "127.0.0.1:5000" */
  char *path;   /* "library/alpine" */
  char *tag;    /* "latest" when neither tag nor digest is given; else may be NULL */
  char *digest; /* "sha256:..." or NULL */
} rf_ref_t;

int rf_ref_parse (const char *s, rf_ref_t *out, rf_error_t *err);
void rf_ref_clear (rf_ref_t *ref);
/* "domain/path:tag", "domain/path@digest", or both; owned by the caller. */
char *rf_ref_string (const rf_ref_t *ref);
/* The host that serves the registry API: docker.io's is registry-1.docker.io. */
const char *rf_ref_api_host (const rf_ref_t *ref);
/* Whether a domain is on the loopback interface (127.0.0.0/8, localhost,
   [::1]), where plain HTTP is allowed as docker allows it. */
int rf_ref_loopback_p (const char *domain);

#endif
