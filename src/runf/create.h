/* What `create` and `run` share: their flags and loading the bundle. */
#ifndef RUNF_CREATE_H
#define RUNF_CREATE_H

#include "runf.h"
#include "runtime/container.h"

typedef struct
{
  rf_create_opts_t opts;
  rf_spec_t *spec;
  char *config_path;
  bool detach; /* run -d */
  bool keep;   /* run --keep: leave the state after the process exits */
} runf_create_args_t;

int runf_parse_create (runf_global_t *g, int argc, char **argv, bool run,
                       runf_create_args_t *a, rf_error_t *err);
void runf_create_args_clear (runf_create_args_t *a);

#endif
