/* Small file-system helpers that report through rf_error_t. */
#ifndef RF_FSUTIL_H
#define RF_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Read a whole file (at most max bytes; 0 = no limit) as a NUL-terminated
   buffer. dirfd may be AT_FDCWD. */
int rf_read_file_at (int dirfd, const char *path, size_t max, char **out,
                     size_t *len, rf_error_t *err);
/* The same for what is left of an open fd (len may be NULL). */
int rf_read_fd (int fd, size_t max, char **out, size_t *len, rf_error_t *err);
/* Write buf to an existing file (e.g. under /proc), in one write. */
int rf_write_file_at (int dirfd, const char *path, const char *buf,
                      size_t len, rf_error_t *err);
/* Write to path.tmp.<pid> then rename over path, so readers see either the
   old or the new content, never a part. */
int rf_write_file_atomic (const char *path, const char *buf, size_t len,
                          mode_t mode, rf_error_t *err);
/* mkdir -p; existing directories are fine. */
int rf_mkdir_p (const char *path, mode_t mode, rf_error_t *err);
/* rm -r of a directory tree; never follows symlinks, never crosses into
   another file system. A missing path is not an error. */
int rf_rm_rf (const char *path, rf_error_t *err);
int rf_rm_rf_at (int dirfd, const char *name, rf_error_t *err);
ssize_t rf_write_all (int fd, const void *buf, size_t len);
ssize_t rf_read_all (int fd, void *buf, size_t len);
/* The lines' numeric fields; a string parse with range checks. */
int rf_parse_uint64 (const char *s, unsigned long long max,
                     unsigned long long *out);
/* Move an internal fd to min or above (close-on-exec), so that the range
   a caller passes into a container (--preserve-fds) can never hold it.
   Returns the new fd; fd itself is closed either way. */
int rf_fd_above (int fd, int min, rf_error_t *err);
/* --pid-file: the pid in decimal, written atomically. */
int rf_write_pid_file (const char *path, pid_t pid, rf_error_t *err);

#endif
