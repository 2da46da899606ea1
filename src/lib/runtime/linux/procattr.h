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
/* Open the file through which the exec's label is set (AppArmor or
   SELinux); -1 when none is asked for.  Opened before pivot_root, so the
   container needs no /proc of its own for it. */
int rf_lsm_open_exec_attr (const rf_process_t *p, rf_error_t *err);
/* What attr/exec gets for p's label ("exec PROFILE" for AppArmor); NULL
   when p has none. */
char *rf_lsm_exec_value (const rf_process_t *p);
int rf_lsm_set_exec_label (int fd, const rf_process_t *p, rf_error_t *err);

#endif
