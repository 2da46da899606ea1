/* `runfctl image ...`: the image commands' table. */
#include "runfctl.h"

#include "common/cleanup.h"
#include "image/manifest.h"

const runfctl_option_t runfctl_store_only_options[] = {
  RUNFCTL_STORE_OPTION,
  RUNFCTL_OPTIONS_END,
};

static const runfctl_command_t image_commands[] = {
  { "pull", runfctl_image_pull, "REF", "fetch an image from a registry into the store",
    runfctl_pull_options, NULL },
  { "push", runfctl_image_push, "SRC [DEST]",
    "upload an image of the store to a registry (DEST: a reference, or docker://REF; default: "
    "SRC's name)",
    runfctl_push_options, NULL },
  { "login", runfctl_image_login, "REGISTRY",
    "check credentials on a registry and keep them in an auth file (podman's, or docker's)",
    runfctl_login_options, NULL },
  { "logout", runfctl_image_logout, "REGISTRY", "remove a registry's credentials from the auth file",
    runfctl_logout_options, NULL },
  { "import", runfctl_image_import, "FILE|DIR|-",
    "add images from a docker save archive or an OCI layout (a directory, or a tar of one)",
    runfctl_import_options, NULL },
  { "build", runfctl_image_build, "DIR",
    "a new image: a base image of the store (or scratch) plus DIR as a new layer, with its "
    "Cmd, Entrypoint, Env, WorkingDir, User and Labels set; no daemon, no network",
    runfctl_build_options, NULL },
  { "save", runfctl_image_save, "REF...",
    "write images of the store as a docker save archive or an OCI layout", runfctl_save_options,
    NULL },
  { "tag", runfctl_image_tag, "SRC NAME...", "give an image of the store more names",
    runfctl_tag_options, NULL },
  { "ls", runfctl_image_ls, "", "list images: name, digest, size, created", runfctl_ls_options,
    NULL },
  { "inspect", runfctl_image_inspect, "REF",
    "an image's manifest and config as JSON, from the store or (--remote, or docker://REF) "
    "from its registry without fetching its layers",
    runfctl_inspect_options, NULL },
  { "rm", runfctl_image_rm, "REF...", "remove names (prune frees the space)",
    runfctl_store_only_options, NULL },
  { "prune", runfctl_image_prune, "", "remove blobs and root filesystems no name uses",
    runfctl_store_only_options, NULL },
  { "unpack", runfctl_image_unpack, "REF DIR", "write DIR/rootfs and DIR/config.json for runf",
    runfctl_unpack_options, NULL },
  { "bundle", runfctl_image_bundle, "REF DIR",
    "write DIR/config.json using the store's shared read-only rootfs", runfctl_store_only_options,
    NULL },
};

const runfctl_group_t runfctl_image_group = {
  "image", image_commands, ARRAY_SIZE (image_commands),
  "images: pull, push, import, save, build, tag, list, unpack, remove",
};

int
runfctl_parse_platform (const char *s, void *platform, rf_error_t *err)
{
  rf_platform_t *p = platform;
  rf_platform_clear (p);
  return rf_platform_parse (s, p, err);
}
