/* The runf command line: runc's global flags, commands and exit codes. */
#ifndef RUNF_H
#define RUNF_H

#include <stdbool.h>
#include <stdio.h>

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

/* The error code of a -h/--help among a command's options: main prints
   the command's help instead of an error. */
#define RUNF_HELP_REQUESTED 0x48454c50

/* The id of the next option, 0 at the first argument that is not one (or
   after "--"), -1 with err set on an unknown option or a missing value,
   or (RUNF_HELP_REQUESTED) on -h/--help where the table has no such
   option. */
int runf_next_option (int argc, char **argv, int *index, const runf_option_t *opts,
                      const char **value, rf_error_t *err);
int runf_parse_int (const char *flag, const char *s, int min, int max, int *out,
                    rf_error_t *err);
/* For commands without options: only -h/--help, and exactly n arguments
   (what for: "container id"). */
int runf_plain_args (int argc, char **argv, int n, const char *what, rf_error_t *err);

/* help.c: runf's help and each command's, in runc's layout, named after
   prog (the name runf was called by). */
void runf_usage (FILE *out, const char *prog);
bool runf_command_usage (FILE *out, const char *prog, const char *name);

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
