/* Messages with fds (SCM_RIGHTS) over a unix socket: one message, a few
   fds, either way. */
#ifndef RF_FDPASS_H
#define RF_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

#define RF_FDPASS_MAX 8

/* Send len bytes of data with nfds fds (0 to RF_FDPASS_MAX), without
   SIGPIPE; whether it may block is the socket's (O_NONBLOCK).  0, or -1
   with errno. */
int rf_send_fds (int sock, const void *data, size_t len, const int *fds, size_t nfds);
/* Receive a message, without blocking, of up to len bytes and up to nfds
   fds into fds (each -1 where none came; close-on-exec).  Fds beyond nfds are closed, and a
   truncated message is an error (EMSGSIZE) with nothing kept.  The bytes
   received, 0 at EOF, or -1 with errno. */
ssize_t rf_recv_fds (int sock, void *data, size_t len, int *fds, size_t nfds);

#endif
