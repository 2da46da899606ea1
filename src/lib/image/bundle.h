/* config.json for an image, as umoci writes it: runc's defaults (those of
 * `runf spec`, rootless or not) with the image config applied: Entrypoint
 * + Cmd as args, Env, WorkingDir, User resolved against the image's
 * /etc/passwd and /etc/group, Labels as annotations. */
#ifndef RF_IMAGE_BUNDLE_H
#define RF_IMAGE_BUNDLE_H

#include <stdbool.h>

#include <jansson.h>

#include "common/error.h"
#include "image.h"

typedef struct
{
  bool rootless;
  const char *root_path; /* "rootfs" for an unpacked bundle, or the store's */
  bool readonly;
  bool no_command; /* out: the image had neither Entrypoint nor Cmd */
} rf_bundle_opts_t;

/* root_fd: the image's root filesystem, for its /etc/passwd and /etc/group. */
json_t *rf_bundle_config (const rf_image_t *img, int root_fd, rf_bundle_opts_t *opts,
                          rf_error_t *err);
/* Write dir/config.json (to a temporary name, then renamed). */
int rf_bundle_write_config (const char *dir, json_t *config, rf_error_t *err);

#endif
