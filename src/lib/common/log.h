/* Diagnostics.  Text goes to stderr as "<program>: <message>"; with a log
 * file (runc's --log) each line is also written there, as text or as the
 * JSON lines containerd and docker read back. */
#ifndef RF_LOG_H
#define RF_LOG_H

#include <stdbool.h>

typedef enum { RF_LOG_DEBUG, RF_LOG_INFO, RF_LOG_WARN, RF_LOG_ERROR } rf_log_level_t;

void rf_log_init (const char *program);
void rf_log_set_debug (bool on);
bool rf_log_debug_p (void);
/* Open FILE for appending (O_CLOEXEC); format is "text" or "json". */
int rf_log_open (const char *file, const char *format, char **why);
/* The log file's fd, or -1: what a forked worker that closes everything
   else must keep (or another file could take its number). */
int rf_log_fd (void);
void rf_log (rf_log_level_t level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#define rf_debug(...) do { if (rf_log_debug_p ()) rf_log (RF_LOG_DEBUG, __VA_ARGS__); } while (0)
#define rf_warn(...) rf_log (RF_LOG_WARN, __VA_ARGS__)

#endif
