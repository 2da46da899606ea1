#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "runf.h"
#include "runtime/spec.h"

enum { O_BUNDLE = 1, O_ROOTLESS };

static const runf_option_t options[] = {
  { "bundle", 'b', true, O_BUNDLE },
  { "rootless", 0, false, O_ROOTLESS },
  { 0 },
};

int
runf_cmd_spec (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  const char *bundle = ".", *value;
  bool rootless = false;
  cleanup_json json_t *doc = NULL;
  cleanup_free char *text = NULL;
  cleanup_free char *path = NULL;
  int index = 1, id, fd;

  while ((id = runf_next_option (argc, argv, &index, options, &value, err)) > 0)
    if (id == O_BUNDLE)
      bundle = value;
    else
      rootless = strcmp (value, "true") == 0;
  if (id < 0)
    return -1;
  if (index < argc)
    return rf_error_make (err, 0, "spec: unexpected argument `%s`", argv[index]);

  doc = rf_spec_default (rootless);
  text = json_dumps (doc, JSON_INDENT (2));
  path = xasprintf ("%s/config.json", bundle);
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0)
    return errno == EEXIST
               ? rf_error_make (err, EEXIST, "spec: `%s` exists; remove it first", path)
               : rf_error_sys (err, "spec: create `%s`", path);
  if (rf_write_all (fd, text, strlen (text)) < 0 || rf_write_all (fd, "\n", 1) < 0)
    {
      rf_error_sys (err, "spec: write `%s`", path);
      close (fd);
      unlink (path);
      return -1;
    }
  close (fd);
  (void) g;
  return 0;
}
