#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "runf.h"
#include "runtime/container.h"

enum { O_FORCE = 1 };

static const runf_option_t options[] = {
  { "force", 'f', false, O_FORCE },
  { 0 },
};

int
runf_cmd_delete (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  const char *value;
  bool force = false;
  int index = 1, id;

  while ((id = runf_next_option (argc, argv, &index, options, &value, err)) > 0)
    force = strcmp (value, "true") == 0;
  if (id < 0)
    return -1;
  if (index >= argc)
    return rf_error_make (err, 0, "delete: missing container id");
  if (index + 1 < argc)
    return rf_error_make (err, 0, "delete: unexpected argument `%s`", argv[index + 1]);
  if (rf_id_check (argv[index], err) < 0)
    return -1;
  {
    /* As with runc, --force on a container that is already gone is not an
       error: engines call it to make sure. */
    cleanup_free char *dir = rf_state_dir (g->root, argv[index]);
    struct stat st;
    if (force && stat (dir, &st) < 0 && errno == ENOENT)
      return 0;
  }
  return rf_container_delete (g->root, argv[index], force, err);
}
