/* A container's cgroup: one directory per hierarchy it joins (every v1
 * hierarchy on legacy and hybrid hosts, plus the v2 one where there is
 * one).  v1 and v2 differ only in how resources are written, in
 * cgroup_v1.c and cgroup_v2.c behind rf_cgroup_ops_t. */
#ifndef RF_CGROUP_H
#define RF_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "common/error.h"
#include "resources.h"
#include "spec.h"

/* Where the hierarchies are mounted, on the host and in a container. */
#define RF_CGROUP_ROOT "/sys/fs/cgroup"

typedef struct
{
  char *dir;         /* /sys/fs/cgroup/memory/runf/abc */
  char *controllers; /* "memory", "cpu,cpuacct", "name=systemd"; "" for v2 */
  bool v2;
} rf_cgroup_dir_t;

typedef struct
{
  rf_cgroup_dir_t *dirs;
  size_t n;
  /* The systemd scope unit the cgroup belongs to ("runf-abc.scope",
     cgroup_systemd.h), or NULL where runf made it through cgroupfs alone;
     unit_user: of the user's manager, not the system's. */
  char *unit;
  bool unit_user;
} rf_cgroup_t;

/* A mounted hierarchy, from /proc/self/mountinfo. */
typedef struct
{
  char *mountpoint;  /* /sys/fs/cgroup/memory */
  char *controllers; /* as above */
  bool v2;
} rf_hierarchy_t;

/* The hierarchies below /sys/fs/cgroup; *n is 0 on a host without any. */
rf_hierarchy_t *rf_cgroup_hierarchies (size_t *n);
/* The hierarchies a mountinfo text (modified) shows: the cgroup and
   cgroup2 mounts that a path below /sys/fs/cgroup reaches, each once;
   never a plain directory, a covered mount or one below a covered
   /sys/fs/cgroup. */
rf_hierarchy_t *rf_cgroup_parse_mountinfo (char *text, size_t *n);
/* From now on, rf_cgroup_hierarchies answers from what it read first. */
void rf_cgroup_cache_hierarchies (void);
void rf_cgroup_hierarchies_free (rf_hierarchy_t *h, size_t n);
/* Whether /sys/fs/cgroup is a pure cgroup2 mount. */
bool rf_cgroup_unified_p (void);
/* This process's cgroup in the hierarchy with these controllers ("" = v2). */
char *rf_cgroup_own_path (const char *controllers);

/* linux.cgroupsPath to a path below each hierarchy's root: absolute as
   given; relative below the caller's own cgroup (returned with a leading
   "+"); runc's "slice:prefix:name" as systemd would lay it out; absent:
   /runf/<id>.  Owned by the caller. */
char *rf_cgroup_path_for (const char *cgroups_path, const char *id, bool rootless, rf_error_t *err);

/* Make the container's cgroup and apply its resources.  Rootless without a
   writable place: *cg stays empty and a warning is printed when resources
   were asked for.  minimal: only the hierarchies whose controllers the
   resources use (none at all without resources), for short-lived
   instances where each directory costs a mkdir and an rmdir. */
int rf_cgroup_create (rf_cgroup_t *cg, const rf_spec_t *spec, const char *id, bool rootless,
                      bool minimal, const char *path_override, rf_error_t *err);
/* The cgroup systemd made at path (below each hierarchy's root) for a
   unit holding pid: taken as it is where it exists, made (mkdir -p) in
   the hierarchies systemd left out, pid moved into each, and the
   resources applied as rf_cgroup_create does.  rootless: the v2
   hierarchy alone, the only one a user's manager has. */
int rf_cgroup_adopt (rf_cgroup_t *cg, const rf_spec_t *spec, const char *path, pid_t pid,
                     bool rootless, rf_error_t *err);
/* runc's default device rules on the cgroup at path (made if missing,
   shared: not checked for other processes), in the v1 devices hierarchy or
   else the v2 one.  They bind every process in it and every cgroup below:
   set once on a parent (runfd's), they cost its instances nothing. */
int rf_cgroup_device_fence (rf_cgroup_t *cg, const char *path, rf_error_t *err);
/* The container's directory in the v2 hierarchy, or NULL where it has none. */
const char *rf_cgroup_v2_dir (const rf_cgroup_t *cg);
/* The v2 directory as an fd for clone3's CLONE_INTO_CGROUP, or -1. */
int rf_cgroup_open_into (const rf_cgroup_t *cg);
/* The `tasks` files of the v1 directories, opened for writing (fds at or
   above min_fd): a process writing "0" to them moves itself in. */
int rf_cgroup_open_tasks (const rf_cgroup_t *cg, int min_fd, int *fds, size_t max, size_t *n,
                          rf_error_t *err);
int rf_cgroup_enter (const rf_cgroup_t *cg, pid_t pid, rf_error_t *err);
int rf_cgroup_enter_v2 (const rf_cgroup_t *cg, pid_t pid, rf_error_t *err);
int rf_cgroup_apply (const rf_cgroup_t *cg, const rf_resources_t *res, bool rootless,
                     rf_error_t *err);
/* SIGKILL every process of the cgroup at once through v2's cgroup.kill
   (Linux 5.14+; on hybrid hosts the v2 directory holds them all too), also
   those forking meanwhile.  false where there is none. */
bool rf_cgroup_kill (const rf_cgroup_t *cg);
/* Remove the directories, waiting for the kernel to let go of them; a
   unit's is stopped through systemd first. */
int rf_cgroup_destroy (const rf_cgroup_t *cg, rf_error_t *err);
int rf_cgroup_freeze (const rf_cgroup_t *cg, bool frozen, rf_error_t *err);
bool rf_cgroup_frozen_p (const rf_cgroup_t *cg);
int rf_cgroup_pids (const rf_cgroup_t *cg, pid_t **pids, size_t *n, rf_error_t *err);
/* runc's stats object (cpu, cpuset, memory, pids, blkio, hugetlb). */
json_t *rf_cgroup_stats (const rf_cgroup_t *cg, rf_error_t *err);
/* Compact JSON of a document holding stats: numbers above INT64_MAX (an
   unlimited v2 limit is UINT64_MAX in runc's output) come out as numbers.
   Owned by the caller. */
char *rf_cgroup_json_dumps (const json_t *doc);

/* OOM notifications of the container's memory cgroup (cgroup_oom.c).  fd
   is -1 when the container has no memory controller; poll it for input,
   then call rf_oom_watch_read. */
typedef struct
{
  int fd;
  bool v2;
  char *dir;
  unsigned long long oom_kills; /* v2: the last oom_kill count seen */
} rf_oom_watch_t;

/* Start watching; call rf_oom_watch_close whatever it returns. */
int rf_cgroup_oom_watch (const rf_cgroup_t *cg, rf_oom_watch_t *w, rf_error_t *err);
/* 1 when an OOM happened since the last call, 0 when not, -1 when the
   cgroup is gone. */
int rf_oom_watch_read (rf_oom_watch_t *w);
void rf_oom_watch_close (rf_oom_watch_t *w);
/* The processes the kernel's OOM killer killed in the memory cgroup so far
   (oom_kill of memory.events, or of memory.oom_control on v1); 0 without
   a memory cgroup or where the count cannot be read. */
unsigned long long rf_cgroup_oom_kills (const rf_cgroup_t *cg);

/* A cgroup used again, by the next container of the same resources
   (runfd's spawners keep their instances' cgroups instead of an rmdir and
   a mkdir each; cgroup_reuse.c).  Once nothing is in it, what can be
   reset is (v1 memory.max_usage_in_bytes and its memsw twin,
   cpuacct.usage), and the CPU quota is written again, which refills what
   the last container spent of the current period.  -1, saying why, where
   it cannot be made as good as new: a process still in it, frozen.  The
   caller removes it then, and also where rf_cgroup_oom_kills counts a
   kill, which no file resets. */
int rf_cgroup_reset (const rf_cgroup_t *cg, const rf_resources_t *res, rf_error_t *err);
/* The directory of a controller ("memory"), or NULL. */
const rf_cgroup_dir_t *rf_cgroup_find (const rf_cgroup_t *cg, const char *controller);

json_t *rf_cgroup_to_json (const rf_cgroup_t *cg);
int rf_cgroup_from_json (json_t *j, rf_cgroup_t *cg, rf_error_t *err);
void rf_cgroup_clear (rf_cgroup_t *cg);

/* The per-version writers. */
typedef struct
{
  int (*apply) (const rf_cgroup_t *cg, const rf_resources_t *res, bool rootless, rf_error_t *err);
} rf_cgroup_ops_t;

extern const rf_cgroup_ops_t rf_cgroup_v1_ops;
extern const rf_cgroup_ops_t rf_cgroup_v2_ops;

/* Helpers for cgroup_v1.c and cgroup_v2.c. */
int rf_cgroup_write (const char *dir, const char *file, const char *value, const char *field,
                     rf_error_t *err);
int rf_cgroup_writef (const char *dir, const char *file, const char *field, rf_error_t *err,
                      const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));
bool rf_cgroup_has_file (const char *dir, const char *file);
/* The rules the device controller gets: deny all, linux.resources.devices
   in order, then runc's default allowed devices.  linux.devices only makes
   the nodes: using them takes a rule, as with runc. */
rf_device_rule_t *rf_cgroup_device_rules (const rf_resources_t *res, size_t *n);
/* Attach a BPF_CGROUP_DEVICE program enforcing rules to the v2 directory,
   replacing the ones runf attached before. */
int rf_cgroup_bpf_devices (const char *dir, const rf_device_rule_t *rules, size_t n,
                           rf_error_t *err);

#endif
