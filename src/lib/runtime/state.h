/* The state directory of each container: <root>/<id>/ holding state.json
 * (written to a temp name and renamed) and, until `start`, exec.fifo. */
#ifndef RF_STATE_H
#define RF_STATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "common/error.h"

typedef enum
{
  RF_STATUS_CREATING,
  RF_STATUS_CREATED,
  RF_STATUS_RUNNING,
  RF_STATUS_PAUSED,
  RF_STATUS_STOPPED,
} rf_status_t;

typedef struct
{
  char *id;
  pid_t pid;
  unsigned long long start_time; /* field 22 of /proc/<pid>/stat */
  unsigned long long mnt_ns;     /* inode of init's mount namespace */
  char *bundle;
  char *rootfs;
  char *created; /* RFC 3339 with nanoseconds, UTC */
  uid_t owner;
  char **annotations; /* key, value, ..., NULL */
  bool rootless;
  bool own_pidns; /* the container has its own pid namespace */
  rf_cgroup_t cgroup; /* empty when the container has none */
  char *rdt_dir;      /* the resctrl group runf made, or NULL */
} rf_state_t;

/* A container id: letters, digits, and _ + - . ; not "." or "..". */
bool rf_id_valid_p (const char *id);
int rf_id_check (const char *id, rf_error_t *err);

/* The root of the state directories: the --root value, or /run/runf as root,
   or $XDG_RUNTIME_DIR/runf rootless. */
char *rf_state_default_root (bool rootless);
char *rf_state_dir (const char *root, const char *id);

int rf_state_write (const char *dir, const rf_state_t *st, rf_error_t *err);
int rf_state_read (const char *root, const char *id, rf_state_t *st, rf_error_t *err);
void rf_state_clear (rf_state_t *st);

/* Take the container's lock (flock on the state directory); the fd is
   returned for the caller to close. */
int rf_state_lock (const char *dir, rf_error_t *err);

/* The kernel's start time of pid (clock ticks since boot), 0 when the
   process is gone; *zombie tells whether it has exited but is not reaped. */
unsigned long long rf_proc_start_time (pid_t pid, bool *zombie);
/* The inode of pid's mount namespace, 0 when unknown. */
unsigned long long rf_proc_mnt_ns (pid_t pid);
/* Whether st->pid is still the process runf started: alive, with the same
   start time (clock ticks, so 10 ms apart at least) and the same mount
   namespace (the container's own, so no other process has it). */
bool rf_state_alive_p (const rf_state_t *st);
rf_status_t rf_state_status (const char *root, const rf_state_t *st);
const char *rf_status_name (rf_status_t status);
/* "2024-01-02T03:04:05.123456789Z" for now. */
char *rf_time_now_rfc3339 (void);

#endif
