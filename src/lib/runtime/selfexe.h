/* The runtime's own binary, out of the containers' reach (CVE-2019-5736).
 *
 * A container's init and exec'd processes are forks of runf (or of
 * runfd's spawner): until their execve, /proc/PID/exe is runf's binary, and
 * a container whose program is `#!/proc/self/exe` makes the kernel exec
 * that binary again, inside the container, where its processes can open
 * it.  On the host, that file is the one root runs next: as root in the
 * container (or as the user who owns it, rootless) they could rewrite it.
 *
 * Two defences, one for each kind of process:
 * - runf's commands (create, run, exec) make their processes exec the
 *   container's program through runf-trampoline (src/trampoline), a tiny
 *   program runf writes into a sealed memfd: the exec the container can
 *   reach through /proc is that copy.  While runf's code runs inside the
 *   container, the process is not dumpable (linux/process.h), so its
 *   /proc/PID/exe cannot be opened by the container's processes either.
 * - runfd's spawners, which live long and fork every instance, re-exec
 *   themselves once from a sealed memfd copy of their binary: then every
 *   instance runs from that copy already.
 * Sealed means no writes, no resizing, and no unsealing. */
#ifndef RF_SELFEXE_H
#define RF_SELFEXE_H

#include <stdbool.h>

#include "common/error.h"
#include "runtime/spec.h"

/* Whether this process runs from a sealed memfd. */
bool rf_self_exe_sealed_p (void);
/* Re-exec this program from a sealed memfd copy of itself, with the same
   argv and environment, unless it already runs from one.  Returns only
   when it already does (0), or on failure (-1). */
int rf_self_exe_protect (char **argv, rf_error_t *err);
/* Whether a process of the container described by spec could open this
   program's binary for writing: no user namespace of its own, or one that
   maps the file's owner or group, or a file anyone may write.  A created
   container's init runs runf's code until start; where the binary is out
   of the container's reach it may become dumpable again at READY (so that
   an unprivileged runf can exec into it), else it may not. */
bool rf_self_exe_exposed_p (const rf_spec_t *spec);
/* A sealed memfd with runf-trampoline, close-on-exec. */
int rf_trampoline_open (rf_error_t *err);

#endif
