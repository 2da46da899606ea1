/* runfctl: the user's tool.  `runfctl image ...` works on the local image
 * store; `runfctl fn ...` (to come) talks to runfd. */
#ifndef RUNFCTL_H
#define RUNFCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "image/store.h"

#define RUNFCTL_VERSION "0.1.0"

typedef struct
{
  char *store; /* --store, else the default for the user */
  bool rootless;
} runfctl_t;

typedef int (*runfctl_fn) (runfctl_t *g, int argc, char **argv, rf_error_t *err);

typedef struct
{
  const char *name;
  runfctl_fn fn;
  const char *usage;
  const char *summary;
} runfctl_command_t;

/* Run the command argv[0] names from the table (argv[-1] is the group,
   for messages and help). */
int runfctl_dispatch (runfctl_t *g, const char *group, const runfctl_command_t *cmds, size_t n,
                      int argc, char **argv, rf_error_t *err);

/* getopt_long with errors as one line ("image pull: --platform needs a
   value").  Returns the option, -1 at the end, '?' with err set. Options
   every command takes (--store DIR) are handled here. */
int runfctl_getopt (runfctl_t *g, int argc, char **argv, const char *cmd, const char *shortopts,
                    const struct option *longopts, rf_error_t *err);
#define RUNFCTL_OPT_STORE 0x1000
#define RUNFCTL_COMMON_OPTIONS { "store", required_argument, NULL, RUNFCTL_OPT_STORE }

/* Exactly n positional arguments after the options. */
int runfctl_positional (int argc, char **argv, int n, const char *cmd, const char *names,
                        rf_error_t *err);
int runfctl_open_store (runfctl_t *g, rf_store_mode_t mode, rf_store_t **s, rf_error_t *err);
/* "runfctl: note: ..." on stderr. */
void runfctl_note (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
int runfctl_parse_platform (const char *s, void *platform, rf_error_t *err);

int runfctl_cmd_image (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_cmd_fn (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_pull (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_import (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_ls (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_inspect (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_rm (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_prune (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_unpack (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_bundle (runfctl_t *g, int argc, char **argv, rf_error_t *err);

#endif
