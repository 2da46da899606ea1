/* The process's scheduling and security attributes that config.json may
 * set besides its identity: CPU affinity, I/O priority, the scheduler,
 * the execution domain (personality) and the LSM label of the exec. */
#ifndef RF_PROCATTR_H
#define RF_PROCATTR_H

#include "common/error.h"
#include "runtime/spec.h"

int rf_sched_affinity (const char *where, const char *cpus, rf_error_t *err);
/* I/O priority and scheduler, while init still has the capabilities. */
int rf_sched_apply (const rf_process_t *p, rf_error_t *err);
int rf_sched_personality (const rf_spec_t *spec, rf_error_t *err);
/* The exec's label (AppArmor or SELinux) is written to
   /proc/thread-self/attr/exec (apparmor/exec where the kernel has it) by
   the process that then execs, and only by it: the kernel refuses a write
   through a file opened with other credentials, which any exec makes new
   (so runf-trampoline opens the file itself, after its own exec).  Open
   that attr directory (O_PATH), from the /proc of proc_fd (AT_FDCWD:
   /proc): before pivot_root, or before joining the container's mount
   namespace, so that nothing of the container's decides what it is.  -1
   when p asks for no label. */
int rf_lsm_open_exec_attr (const rf_process_t *p, int proc_fd, rf_error_t *err);
/* The file below attr_dir that takes p's label. */
const char *rf_lsm_exec_attr_name (int attr_dir, const rf_process_t *p);
/* What that file gets for p's label ("exec PROFILE" for AppArmor); NULL
   when p has none. */
char *rf_lsm_exec_value (const rf_process_t *p);
int rf_lsm_write_exec_attr (int attr_dir, const char *name, const char *value, rf_error_t *err);
/* p's label for the next exec; nothing when attr_dir is -1. */
int rf_lsm_set_exec_label (int attr_dir, const rf_process_t *p, rf_error_t *err);

#endif
