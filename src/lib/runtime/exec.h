/* exec: start another process in an existing container (created or
 * running).  It joins every namespace of the container's init and takes
 * on the identity, limits and terminal of its process object: the one of
 * the container's config.json with runc's exec flags on top, or a whole
 * process.json (`exec -p`). */
#ifndef RF_EXEC_H
#define RF_EXEC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "spec.h"

/* runc's exec flags, as given. */
typedef struct
{
  char **args;            /* the command and its arguments */
  const char *cwd;        /* --cwd */
  const char *user;       /* -u UID[:GID] */
  char **env;             /* -e KEY=VALUE, in order */
  char **caps;            /* -c CAP_... */
  char **additional_gids; /* --additional-gids */
  bool tty;               /* -t; without it, no terminal (as runc) */
  int no_new_privs;       /* --no-new-privs[=BOOL]; -1: as config.json says */
} rf_exec_overrides_t;

typedef struct
{
  const char *id;
  const char *state_root;
  const rf_process_t *process;
  /* The container's config: its seccomp filter and personality apply to
     every process in the container, as with runc.  NULL: neither. */
  const rf_spec_t *spec;
  bool ignore_paused; /* --ignore-paused: exec even into a frozen container */
  const char *console_socket; /* with a terminal: send its master there */
  const char *pid_file;
  int preserve_fds;
} rf_exec_opts_t;

typedef struct
{
  pid_t pid;      /* the process, a child of the caller */
  int pidfd;      /* -1 where pidfds are missing */
  int pty_master; /* -1 unless a terminal was made and not sent away */
} rf_exec_proc_t;

/* The config.json the container was created with (kept in its state
   directory); a missing container is reported as such. */
rf_spec_t *rf_exec_container_spec (const char *root, const char *id, rf_error_t *err);
/* The process of that config with the flags applied; it is taken out of
   spec. */
int rf_exec_process_from_spec (rf_spec_t *spec, const char *id, const rf_exec_overrides_t *o,
                               rf_process_t *out, rf_error_t *err);
/* `exec -p FILE`: the whole process object from a file. */
int rf_exec_process_from_file (const char *path, rf_process_t *out, rf_error_t *err);

/* Apply the flags to p, as runc does: args and cwd replace, -e sets (the
   last value of a key wins), -c adds to the bounding, effective and
   permitted sets (and ambient, when the process has inheritable ones),
   -u replaces uid (and gid), --additional-gids adds. */
int rf_exec_apply_overrides (rf_process_t *p, const rf_exec_overrides_t *o, rf_error_t *err);
/* "UID" or "UID:GID", numbers only. */
int rf_exec_parse_user (const char *s, uint32_t *uid, uint32_t *gid, bool *has_gid,
                        rf_error_t *err);
/* Set KEY=VALUE in a NULL-terminated environment, replacing KEY's entry. */
void rf_env_set (char ***env, const char *kv);

/* Start the process.  Returns once it has exec'd (or failed to: then
   nothing of it is left). */
int rf_exec (const rf_exec_opts_t *opts, rf_exec_proc_t *out, rf_error_t *err);
void rf_exec_proc_clear (rf_exec_proc_t *p);

#endif
