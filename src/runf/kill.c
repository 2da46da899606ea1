#include <errno.h>
#include <signal.h>
#include <string.h>

#include "runf.h"
#include "runtime/container.h"

enum { O_ALL = 1 };

static const runf_option_t options[] = {
  { "all", 'a', false, O_ALL },
  { 0 },
};

int
runf_cmd_kill (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  const char *value;
  bool all = false;
  int index = 1, id, sig = SIGTERM;

  while ((id = runf_next_option (argc, argv, &index, options, &value, err)) > 0)
    all = strcmp (value, "true") == 0;
  if (id < 0)
    return -1;
  if (index >= argc)
    return rf_error_make (err, 0, "kill: missing container id");
  if (index + 2 < argc)
    return rf_error_make (err, 0, "kill: unexpected argument `%s`", argv[index + 2]);
  if (index + 1 < argc)
    {
      sig = rf_signal_parse (argv[index + 1]);
      if (sig < 0)
        return rf_error_make (err, 0, "kill: unknown signal `%s`", argv[index + 1]);
    }
  return rf_container_kill (g->root, argv[index], sig, all, err);
}
