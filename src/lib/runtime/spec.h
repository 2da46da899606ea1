/* config.json as runf uses it: parsed and validated once, before anything
 * is created, so that every later step works on checked values.  Errors
 * name the field ("linux.namespaces[2].type: unknown namespace `foo`"). */
#ifndef RF_SPEC_H
#define RF_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "common/error.h"
#include "hooks.h"
#include "seccomp.h"

typedef struct
{
  uint32_t container_id;
  uint32_t host_id;
  uint32_t size;
} rf_idmap_t;

typedef struct
{
  char *type; /* "pid", "network", ... as written */
  int flag;   /* CLONE_NEW* */
  char *path; /* NULL: create a new namespace */
} rf_namespace_t;

typedef struct
{
  char *destination;
  char *type;
  char *source;
  unsigned long flags;       /* MS_* to set */
  unsigned long clear_flags; /* MS_* the options turn off (rw, suid, ...) */
  unsigned long propagation; /* MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE, maybe |MS_REC */
  uint64_t attr_set;         /* MOUNT_ATTR_* applied recursively (rro, rnosuid...) */
  uint64_t attr_clr;
  bool bind;
  bool recursive; /* rbind */
  bool copyup;    /* tmpcopyup: a tmpfs starts with what it covers */
  char *data;     /* the options the file system parses, comma-joined */
} rf_mount_t;

typedef struct
{
  int resource; /* RLIMIT_* */
  const char *name;
  uint64_t soft;
  uint64_t hard;
} rf_rlimit_t;

typedef struct
{
  char *path;
  char type; /* 'c', 'b', 'u', 'p' */
  int64_t major;
  int64_t minor;
  bool has_mode;
  uint32_t mode;
  bool has_uid, has_gid;
  uint32_t uid, gid;
} rf_device_t;

typedef struct
{
  bool present; /* process.capabilities given at all */
  uint64_t bounding, effective, inheritable, permitted, ambient;
} rf_caps_t;

typedef struct
{
  bool terminal;
  unsigned short console_height, console_width;
  uint32_t uid, gid;
  uint32_t *additional_gids;
  size_t n_additional_gids;
  bool has_umask;
  uint32_t umask;
  char **args;
  char **env;
  char *cwd;
  rf_caps_t caps;
  rf_rlimit_t *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  bool has_oom_score_adj;
  int oom_score_adj;
  char *apparmor_profile;
  char *selinux_label;
  bool has_io_priority;
  int io_class, io_priority;
  bool has_scheduler;
  uint32_t sched_policy, sched_priority;
  int32_t sched_nice;
  uint64_t sched_flags, sched_runtime, sched_deadline, sched_period;
  char *cpu_affinity_initial, *cpu_affinity_final; /* cpu lists like 0-2,5 */
} rf_process_t;

typedef struct
{
  char *oci_version;
  char *root_path; /* as written; relative to the bundle unless absolute */
  bool root_readonly;
  char *hostname;
  char *domainname;
  rf_mount_t *mounts;
  size_t n_mounts;
  bool has_process;
  rf_process_t process;
  char **annotations; /* key, value, key, value, ..., NULL */

  rf_namespace_t *namespaces;
  size_t n_namespaces;
  rf_idmap_t *uid_mappings, *gid_mappings;
  size_t n_uid_mappings, n_gid_mappings;
  rf_device_t *devices;
  size_t n_devices;
  char **sysctl; /* key, value, ..., NULL */
  char **masked_paths;
  char **readonly_paths;
  unsigned long rootfs_propagation; /* 0: unset */
  bool has_time_offsets;
  int64_t boottime_secs, monotonic_secs;
  uint32_t boottime_nsecs, monotonic_nsecs;

  bool has_personality;
  unsigned long personality;
  char *mount_label;
  bool has_intel_rdt;
  char *rdt_clos_id, *rdt_l3_schema, *rdt_mem_bw_schema;
  rf_hooks_t hooks;
  rf_seccomp_t seccomp;

  json_t *raw; /* the parsed document, kept for the sections later code reads */
} rf_spec_t;

/* spec_extra.c: the security and scheduling sections, host support checked
   (a host without AppArmor, SELinux or resctrl refuses them by name). */
int rf_process_parse_extra (json_t *proc, rf_process_t *p, rf_error_t *err);
/* Whether the kernel has AppArmor, SELinux on. */
bool rf_apparmor_enabled_p (void);
bool rf_selinux_enabled_p (void);
int rf_spec_parse_extra (json_t *doc, rf_spec_t *spec, rf_error_t *err);
void rf_spec_free_extra (rf_spec_t *spec);

rf_spec_t *rf_spec_load_file (const char *path, rf_error_t *err);
rf_spec_t *rf_spec_parse (json_t *doc, rf_error_t *err);
void rf_spec_free (rf_spec_t *spec);

/* The namespace entry of a CLONE_NEW* flag, or NULL. */
const rf_namespace_t *rf_spec_namespace (const rf_spec_t *spec, int flag);
/* CLONE_NEW* for "pid", "network", ... or 0. */
int rf_namespace_flag (const char *type);
const char *rf_namespace_proc_name (int flag); /* "net" for CLONE_NEWNET */
/* The i-th namespace type runf knows ("pid", ...), NULL past the last. */
const char *rf_namespace_type_name (size_t i);
/* Every CLONE_NEW* flag, in the order a process must join them. */
#define RF_NAMESPACE_TYPES 8
extern const int rf_namespace_join_order[RF_NAMESPACE_TYPES];

/* A process object (config.json's, or exec's process.json) into *p, which
   the caller frees with rf_process_free, also after a failure. */
int rf_process_parse (json_t *proc, rf_process_t *p, rf_error_t *err);
void rf_process_free (rf_process_t *p);
/* The names of the mount options runf understands, NULL past the last. */
const char *rf_mount_option_name (size_t i);

/* Parse one mount's options into m (flags, propagation, data). */
int rf_mount_parse_options (rf_mount_t *m, char *const *options,
                            const char *where, rf_error_t *err);

/* The default config.json of `runf spec` (runc's defaults). */
json_t *rf_spec_default (bool rootless);

#endif
