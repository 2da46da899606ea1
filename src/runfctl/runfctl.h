/* runfctl: the user's tool.  `runfctl image ...` works on the local image
 * store; `runfctl fn ...` talks to runfd. */
#ifndef RUNFCTL_H
#define RUNFCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/error.h"
#include "image/store.h"

#define RUNFCTL_VERSION "0.1.0"

typedef struct
{
  char *store; /* --store, else the default for the user */
  bool rootless;
} runfctl_t;

/* One option of a command.  The table is the only description of the
   option: getopt's, --help's and `runfctl __options`'s (which the bash
   completion and the tests read) are all made from it. */
typedef struct
{
  const char *name;   /* the long option, without "--" */
  int val;            /* what runfctl_getopt returns; a letter is also the short option */
  int has_arg;        /* no_argument, required_argument, optional_argument */
  const char *arg;    /* the value's name in --help ("DIR"); NULL for a flag */
  const char *help;   /* what it does, and "(default: ...)" where there is one */
} runfctl_option_t;

/* Options every command of a table takes (--store DIR) come from here;
   RUNFCTL_OPTIONS_END closes a table. */
#define RUNFCTL_OPT_STORE 0x1000
#define RUNFCTL_STORE_OPTION                                                                       \
  { "store", RUNFCTL_OPT_STORE, required_argument, "DIR",                                          \
    "the image store (default: /var/lib/runf as root, $XDG_DATA_HOME/runf rootless)" }
#define RUNFCTL_OPTIONS_END { NULL, 0, 0, NULL, NULL }

typedef int (*runfctl_fn) (runfctl_t *g, int argc, char **argv, rf_error_t *err);

typedef struct
{
  const char *name;
  runfctl_fn fn;
  const char *args;    /* the positional arguments, for the usage line */
  const char *summary; /* one line */
  const runfctl_option_t *options;
  const char *details; /* more text for --help, or NULL */
} runfctl_command_t;

typedef struct
{
  const char *name;
  const runfctl_command_t *commands;
  size_t n;
  const char *summary;
} runfctl_group_t;

extern const runfctl_group_t runfctl_image_group;
extern const runfctl_group_t runfctl_fn_group;
extern const runfctl_group_t runfctl_secret_group;
extern const runfctl_group_t runfctl_stack_group;

/* Run the command argv[0] names from the group (argv[-1] is the group's
   name).  `COMMAND --help` anywhere before `--` prints its help. */
int runfctl_dispatch (runfctl_t *g, const runfctl_group_t *group, int argc, char **argv,
                      rf_error_t *err);
/* A command's --help text. */
void runfctl_command_help (FILE *out, const char *group, const runfctl_command_t *cmd);

/* getopt_long over the command's table, with errors as one line ("image
   pull: --platform needs a value").  Returns the option's val, -1 at the
   end, '?' with err set.  --store DIR is handled here. */
int runfctl_getopt (runfctl_t *g, int argc, char **argv, const char *cmd,
                    const runfctl_option_t *options, rf_error_t *err);

/* Exactly n positional arguments after the options. */
int runfctl_positional (int argc, char **argv, int n, const char *cmd, const char *names,
                        rf_error_t *err);
int runfctl_open_store (runfctl_t *g, rf_store_mode_t mode, rf_store_t **s, rf_error_t *err);
/* "runfctl: note: ..." on stderr. */
void runfctl_note (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
int runfctl_parse_platform (const char *s, void *platform, rf_error_t *err);
/* --tls-verify[=true|false] */
int runfctl_parse_bool (const char *cmd, const char *flag, const char *value, bool *out,
                        rf_error_t *err);

int runfctl_image_pull (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_push (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_login (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_logout (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_import (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_save (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_build (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_tag (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_ls (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_inspect (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_rm (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_prune (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_unpack (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_image_bundle (runfctl_t *g, int argc, char **argv, rf_error_t *err);
int runfctl_fn_new (runfctl_t *g, int argc, char **argv, rf_error_t *err);

/* The options of the commands that talk to a registry (pull, push,
   login, inspect --remote): --creds, --authfile, --tls-verify, --timeout,
   --retries. */
enum
{
  RUNFCTL_OPT_CREDS = 0x1100,
  RUNFCTL_OPT_AUTHFILE,
  RUNFCTL_OPT_TLS_VERIFY,
  RUNFCTL_OPT_TIMEOUT,
  RUNFCTL_OPT_RETRIES,
};
#define RUNFCTL_REGISTRY_OPTIONS                                                                   \
  { "creds", RUNFCTL_OPT_CREDS, required_argument, "USER:PASS",                                    \
    "the registry's credentials (default: from the auth files, see image login)" },                \
  { "authfile", RUNFCTL_OPT_AUTHFILE, required_argument, "FILE",                                   \
    "read credentials from FILE only (default: $REGISTRY_AUTH_FILE, then the auth files)" },      \
  { "tls-verify", RUNFCTL_OPT_TLS_VERIFY, optional_argument, "true|false",                          \
    "check the registry's TLS certificate; false also allows plain HTTP (default: true; "         \
    "plain HTTP is always allowed on 127.0.0.0/8 and ::1)" },                                     \
  { "timeout", RUNFCTL_OPT_TIMEOUT, required_argument, "S",                                        \
    "seconds without a byte before a request fails, up to 3600 (default: 30)" },                  \
  { "retries", RUNFCTL_OPT_RETRIES, required_argument, "N",                                        \
    "retries of a request that failed with 5xx, 408, 429 or a dropped connection, up to 100 "     \
    "(default: 3)" }

typedef struct
{
  char *user, *pass;
} runfctl_creds_t;
/* Handle a registry option: 1 when c was one, 0 when not, -1 with err. */
int runfctl_registry_option (int c, const char *cmd, void *registry_opts, runfctl_creds_t *creds,
                             rf_error_t *err);
void runfctl_creds_clear (runfctl_creds_t *creds);

/* The options of the commands that talk to runfd: --api, --token-file. */
#define RUNFCTL_OPT_API 0x1200
#define RUNFCTL_OPT_TOKEN 0x1201
#define RUNFCTL_API_OPTIONS                                                                        \
  { "api", RUNFCTL_OPT_API, required_argument, "unix:PATH|tcp:HOST:PORT|http://HOST:PORT",         \
    "runfd's admin API (default: $RUNFD_API, else $RUNFD_URL, else /run/runfd/api.sock as root, "  \
    "$XDG_RUNTIME_DIR/runfd/api.sock rootless)" },                                                \
  { "token-file", RUNFCTL_OPT_TOKEN, required_argument, "FILE",                                    \
    "the token for a TCP API (runfd's STATE/api.token; default: $RUNFD_TOKEN, else none)" }
/* Handle --api or --token-file: 1 when c was one, 0 when not, -1 with err. */
int runfctl_api_option (int c, rf_error_t *err);
/* One request to runfd; the answer as JSON (an empty object for 204), or
   the API's error as cmd's.  upload: a file (or "-") sent as the body. */
json_t *runfctl_api_json (const char *cmd, const char *method, const char *path, const char *body,
                          const char *upload, rf_error_t *err);

extern const runfctl_option_t runfctl_pull_options[];
extern const runfctl_option_t runfctl_push_options[];
extern const runfctl_option_t runfctl_login_options[];
extern const runfctl_option_t runfctl_logout_options[];
extern const runfctl_option_t runfctl_import_options[];
extern const runfctl_option_t runfctl_save_options[];
extern const runfctl_option_t runfctl_build_options[];
extern const runfctl_option_t runfctl_tag_options[];
extern const runfctl_option_t runfctl_ls_options[];
extern const runfctl_option_t runfctl_inspect_options[];
extern const runfctl_option_t runfctl_store_only_options[];
extern const runfctl_option_t runfctl_unpack_options[];
extern const runfctl_option_t runfctl_fn_new_options[];

#endif
