/* `runfctl image build`: a new image in the store from a base image of the
 * store (or none, "scratch") and a directory, added as one new layer, with
 * the config's Cmd, Entrypoint, Env, WorkingDir, User and Labels set.  No
 * daemon, no container, no network: the layer is the directory's tree
 * (layerwrite.h), the config the base's with those changes, its history
 * and rootfs.diff_ids extended, the manifest the base's layers and the
 * new one.  The name is set last, once everything is stored. */
#ifndef RF_IMAGE_BUILD_H
#define RF_IMAGE_BUILD_H

#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "digest.h"
#include "store.h"

typedef struct
{
  const char *name;       /* the new image's name */
  const char *from;       /* a name or digest in the store, or "scratch" */
  const char *dir;        /* the new layer's content */
  const char *dest;       /* where it goes in the image (absolute) */
  char **cmd;             /* NULL: the base's (or, with entrypoint, none) */
  char **entrypoint;      /* NULL: the base's; { "" }: none */
  char **env;             /* K=V, each replacing the base's K */
  char **labels;          /* K=V */
  const char *workdir;    /* NULL: the base's */
  const char *user;       /* NULL: the base's */
  uid_t uid;              /* the new files' owner */
  gid_t gid;
  int64_t timestamp;      /* >= 0: `created` and the latest mtime (SOURCE_DATE_EPOCH) */
  const char *created_by; /* the history entry's command line */
} rf_build_opts_t;

typedef struct
{
  char digest[RF_DIGEST_MAX]; /* the manifest's */
  char *name;                 /* normalized */
  char layer[RF_DIGEST_MAX];
  int64_t layer_size;
  uint64_t entries;
} rf_build_result_t;

int rf_build (rf_store_t *s, const rf_build_opts_t *opts, rf_build_result_t *out, rf_error_t *err);
void rf_build_result_clear (rf_build_result_t *r);

#endif
