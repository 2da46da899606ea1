/* The lock-step protocol between runf and the container's init over a
 * SOCK_SEQPACKET socketpair: one message per packet, an fd alongside when
 * one is handed over (the pty master). */
#ifndef RF_SYNC_H
#define RF_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef enum
{
  RF_SYNC_SETUP = 1, /* child: do the parent's part (id maps, cgroup) */
  RF_SYNC_SETUP_DONE,
  RF_SYNC_CHILD_PID, /* child: `pid` is init now (after a second fork) */
  RF_SYNC_PTY,       /* child: the pty master, as an fd */
  RF_SYNC_READY,     /* child: set up, waiting to exec */
  RF_SYNC_START,     /* parent: exec the process now */
  RF_SYNC_ERROR,     /* child: failed; `code` is errno, `text` says what */
  RF_SYNC_HOOKS,     /* child: mounts made; run prestart and createRuntime */
  RF_SYNC_HOOKS_DONE, /* parent: done; `pid` is init's pid on the host */
  RF_SYNC_SECCOMP,   /* child: the seccomp notify fd, for the listener */
  RF_SYNC_MOUNT_SOURCE, /* parent: the source of bind mount `pid`, as an O_PATH fd */
} rf_sync_type_t;

typedef struct
{
  int32_t type;
  int32_t code;
  int32_t pid;
  char text[2048];
} rf_sync_msg_t;

/* The message's name, for --debug. */
const char *rf_sync_type_name (int32_t type);
int rf_sync_send (int fd, rf_sync_type_t type, int pid, int passfd);
/* With a payload of len bytes (at most sizeof text) in `text`. */
int rf_sync_send_data (int fd, rf_sync_type_t type, int pid, int passfd, const char *data,
                       size_t len);
int rf_sync_send_error (int fd, const rf_error_t error);
int rf_sync_send_error_text (int fd, int code, const char *text);
/* The child's side: send passfd as a message of `type` and close it here,
   sent or not; `what` names it in the error ("the pty"). */
int rf_sync_hand_over (int fd, rf_sync_type_t type, int passfd, const char *what, rf_error_t *err);
/* 1 with a message, 0 at EOF, -1 on error.  *passfd gets a received fd. */
int rf_sync_recv (int fd, rf_sync_msg_t *msg, int *passfd);
/* Wait for one message of `type`; an RF_SYNC_ERROR or EOF becomes *err. */
int rf_sync_expect (int fd, rf_sync_type_t type, rf_sync_msg_t *msg,
                    int *passfd, rf_error_t *err);
/* A connected, non-blocking unix stream socket to path (the console
   socket, the seccomp listener): one that nobody accepts on fails after
   RF_UNIX_CONNECT_TIMEOUT_MS instead of blocking forever.  `what` names it
   in errors. */
#define RF_UNIX_CONNECT_TIMEOUT_MS 10000
int rf_unix_connect (const char *path, const char *what, rf_error_t *err);
/* Send an fd over a unix socket with a short payload (the console socket). */
int rf_send_fd (int sock, int fd, const char *payload, rf_error_t *err);

#endif
