/* The runf command line: runc's global flags, commands and exit codes. */
#ifndef RUNF_H
#define RUNF_H

#include <stdbool.h>

#include "common/error.h"

#define RUNF_VERSION "0.1.0"
#define RUNF_SPEC_VERSION "1.2.0"

typedef struct
{
  char *root; /* state root */
  bool rootless;
  bool systemd_cgroup;
  const char *criu; /* --criu: the criu binary; NULL: "criu" in PATH */
} runf_global_t;

/* Options: "--name value", "--name=value", "-name" (Go style), "-n value". */
typedef struct
{
  const char *name;
  char short_name;
  bool has_arg;
  int id;
} runf_option_t;

/* The id of the next option, 0 at the first argument that is not one (or
   after "--"), -1 with err set on an unknown option or a missing value. */
int runf_next_option (int argc, char **argv, int *index, const runf_option_t *opts,
                      const char **value, rf_error_t *err);
int runf_parse_int (const char *flag, const char *s, int min, int max, int *out,
                    rf_error_t *err);

int runf_cmd_spec (runf_global_t *g, int argc, char **argv, rf_error_t *err);
int runf_cmd_create (runf_global_t *g, int argc, char **argv, rf_error_t *err);
int runf_cmd_run (runf_global_t *g, int argc, char **argv, rf_error_t *err);
int runf_cmd_start (runf_global_t *g, int argc, char **argv, rf_error_t *err);
int runf_cmd_state (runf_global_t *g, int argc, char **argv, rf_error_t *err);
int runf_cmd_kill (runf_global_t *g, int argc, char **argv, rf_error_t *err);
int runf_cmd_delete (runf_global_t *g, int argc, char **argv, rf_error_t *err);
int runf_cmd_list (runf_global_t *g, int argc, char **argv, rf_error_t *err);
int runf_cmd_exec (runf_global_t *g, int argc, char **argv, rf_error_t *err);
int runf_cmd_ps (runf_global_t *g, int argc, char **argv, rf_error_t *err);
int runf_cmd_features (runf_global_t *g, int argc, char **argv, rf_error_t *err);
int runf_cmd_pause (runf_global_t *g, int argc, char **argv, rf_error_t *err);
int runf_cmd_resume (runf_global_t *g, int argc, char **argv, rf_error_t *err);
int runf_cmd_update (runf_global_t *g, int argc, char **argv, rf_error_t *err);
int runf_cmd_events (runf_global_t *g, int argc, char **argv, rf_error_t *err);
int runf_cmd_checkpoint (runf_global_t *g, int argc, char **argv, rf_error_t *err);
int runf_cmd_restore (runf_global_t *g, int argc, char **argv, rf_error_t *err);

#endif
