/* The child side of `exec`: everything between fork and execve of a
 * process that joins an existing container.  runf fills rf_exec_init_t,
 * forks, and the child calls rf_exec_init_main(), which reports every
 * failure over the sync socket and never returns. */
#ifndef RF_EXEC_INIT_H
#define RF_EXEC_INIT_H

#include <stdbool.h>
#include <stdnoreturn.h>

#include "runtime/spec.h"

typedef struct
{
  const char *id;
  const rf_process_t *process;
  const rf_spec_t *spec; /* the container's: seccomp, personality; or NULL */
  int sync_fd; /* the child's end of the socketpair */
  /* The namespaces of the container's init, in rf_namespace_join_order;
     -1 where runf is in that namespace already. */
  int ns_fds[RF_NAMESPACE_TYPES];
  int preserve_fds; /* fds 3 .. 3+preserve_fds-1 stay open across exec */
  int trampoline_fd; /* runf-trampoline for the exec, or -1 (runtime/selfexe.h) */
  bool userns;      /* the process ends up in a user namespace */
} rf_exec_init_t;

noreturn void rf_exec_init_main (rf_exec_init_t *ctx);

#endif
