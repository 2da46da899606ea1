/* `runfctl image ...`: the image commands' table. */
#include "runfctl.h"

#include "common/cleanup.h"
#include "image/manifest.h"

static const runfctl_command_t image_commands[] = {
  { "pull", runfctl_image_pull,
    "pull REF [--platform OS/ARCH[/VARIANT]] [--creds USER:PASS] [--authfile F] [--tls-verify=false]"
    " [--timeout S] [--retries N] [--verify] [-q]",
    "fetch an image from a registry" },
  { "import", runfctl_image_import, "import FILE|DIR|- [--name NAME] [--platform P] [--verify] [-q]",
    "add images from a docker save archive or an OCI layout" },
  { "ls", runfctl_image_ls, "ls [--json]", "list images: name, digest, size, created" },
  { "inspect", runfctl_image_inspect, "inspect REF", "an image's manifest and config as JSON" },
  { "rm", runfctl_image_rm, "rm REF...", "remove names (prune frees the space)" },
  { "prune", runfctl_image_prune, "prune", "remove blobs and root filesystems no name uses" },
  { "unpack", runfctl_image_unpack, "unpack REF DIR [--rootless]",
    "write DIR/rootfs and DIR/config.json for runf" },
  { "bundle", runfctl_image_bundle, "bundle REF DIR",
    "write DIR/config.json using the store's shared read-only rootfs" },
};

int
runfctl_cmd_image (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  return runfctl_dispatch (g, "image", image_commands, ARRAY_SIZE (image_commands), argc, argv,
                           err);
}

int
runfctl_parse_platform (const char *s, void *platform, rf_error_t *err)
{
  rf_platform_t *p = platform;
  rf_platform_clear (p);
  return rf_platform_parse (s, p, err);
}
