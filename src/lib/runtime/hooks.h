/* OCI hooks: programs run at points of the lifecycle with the container's
 * state on stdin.  Where each runs (runtime-spec config.md, "POSIX-platform
 * Hooks"):
 *   prestart, createRuntime  runf, in the host's namespaces, after the
 *                            container's mounts and before pivot_root
 *   createContainer          init, in the container's namespaces, before
 *                            pivot_root (paths resolve on the host)
 *   startContainer           init, in the container, after start and
 *                            before the process's exec
 *   poststart                runf start (or run), after the exec
 *   poststop                 runf delete (or run), once the container is gone
 * A failure fails create or start; poststart and poststop only warn. */
#ifndef RF_HOOKS_H
#define RF_HOOKS_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "common/error.h"

typedef enum
{
  RF_HOOK_PRESTART,
  RF_HOOK_CREATE_RUNTIME,
  RF_HOOK_CREATE_CONTAINER,
  RF_HOOK_START_CONTAINER,
  RF_HOOK_POSTSTART,
  RF_HOOK_POSTSTOP,
  RF_HOOK_KINDS
} rf_hook_kind_t;

typedef struct
{
  char *path;
  char **args; /* NULL: just the path */
  char **env;  /* NULL: runf's environment */
  int timeout; /* seconds; 0: none */
} rf_hook_t;

typedef struct
{
  rf_hook_t *list[RF_HOOK_KINDS];
  size_t n[RF_HOOK_KINDS];
} rf_hooks_t;

/* The `hooks` object of config.json; absent gives no hooks.  Paths must be
   absolute, and those resolved on the host must exist and be executable. */
int rf_hooks_parse (json_t *obj, rf_hooks_t *out, rf_error_t *err);
void rf_hooks_clear (rf_hooks_t *h);
/* Run the hooks of one kind in order, the state JSON on their stdin; the
   first failure stops and is returned.  A hook without an env of its own
   gets env, or runf's environment when env is NULL. */
int rf_hooks_run (const rf_hooks_t *h, rf_hook_kind_t kind, const char *state_json, char *const *env,
                  rf_error_t *err);
/* The same, but failures are warnings (poststart, poststop). */
void rf_hooks_run_warn (const rf_hooks_t *h, rf_hook_kind_t kind, const char *state_json);
/* The OCI state as hooks receive it. */
char *rf_hooks_state_json (const char *id, const char *status, pid_t pid, const char *bundle,
                           char *const *annotations);

#endif
