/* What a process keeps open when it hands itself over to code that is not
 * runf's: a container's init and exec'd processes close every fd of the
 * runtime's own before they resolve a single path a container controls
 * (a leaked directory fd is a way out of the root: CVE-2024-21626). */
#ifndef RF_FDS_H
#define RF_FDS_H

#include <stddef.h>

/* Close every open fd except the n in keep (any order; negative entries
   are ignored).  close_range, one call per gap, where the kernel and any
   seccomp filter around the process allow it; else the fds listed in
   /proc/self/fd; else every number up to the fd limit.  Never fails: each
   way on is tried in turn. */
void rf_fds_close_except (const int *keep, size_t n);

/* Mark every fd from first up close-on-exec, the same three ways.  Returns
   -1 only when no way worked (no close_range and no /proc). */
int rf_fds_cloexec_from (int first);

#endif
