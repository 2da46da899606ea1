/* process.terminal: a pty made inside the container (from its devpts),
 * whose master goes to runf, and from there to the caller's terminal or
 * over --console-socket, as runc does (runtime/console.h). */
#ifndef RF_TERMINAL_H
#define RF_TERMINAL_H

#include <stdbool.h>

#include "common/error.h"
#include "runtime/spec.h"

/* Inside the container (after the pivot, or after joining its mount
   namespace): open a pty, make its slave the controlling terminal and fds
   0-2, and for init bind it on /dev/console.  Returns the master. */
int rf_terminal_setup (const rf_process_t *p, bool bind_console, rf_error_t *err);

#endif
