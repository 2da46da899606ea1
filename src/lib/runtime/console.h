/* The caller's side of process.terminal: the pty's master, made inside the
 * container (linux/terminal.h), goes to the engine's console socket, or
 * stays with runf, which relays it to the caller's terminal. */
#ifndef RF_CONSOLE_H
#define RF_CONSOLE_H

#include "common/error.h"

/* Hand the master to the engine listening on `path` (--console-socket). */
int rf_console_socket_send (const char *path, int master, rf_error_t *err);
/* Before relaying the master: the caller's terminal raw, and its window
   size given to the pty. */
int rf_terminal_relay_open (int master, rf_error_t *err);
/* The caller's terminal as it was. */
void rf_terminal_restore (void);

#endif
