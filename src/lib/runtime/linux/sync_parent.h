/* runf's side of the sync protocol (sync.h) with a child of its own: the
 * container's init (container.c) or a process joining the container
 * (exec.c).  What runf does alike for both is here: reading the messages,
 * a pty passed on to the console socket or kept, a seccomp notify fd sent
 * to its listener, the child's error; each caller handles its own
 * messages (SETUP, HOOKS, CHILD_PID, READY) as they come. */
#ifndef RF_SYNC_PARENT_H
#define RF_SYNC_PARENT_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/seccomp.h"
#include "sync.h"

/* A message type in rf_sync_parent_t.accept. */
#define RF_SYNC_BIT(type) (1u << (type))

typedef struct
{
  int fd;                      /* runf's end of the socketpair */
  const char *child;           /* names the child in errors ("the process") */
  const char *verb;            /* --debug: "VERB `ID`: SPEAKER says TYPE" */
  const char *speaker;
  const char *id;              /* the container's */
  const char *console_socket;  /* where a pty goes; NULL: kept in *pty_master */
  int *pty_master;
  const rf_seccomp_t *seccomp; /* a notify fd goes to its listener, */
  const char *status;          /* with the container's state: */
  const pid_t *pid;            /* (read when the fd comes) */
  const char *bundle;
  char *const *annotations;
  unsigned accept;             /* the caller's own message types (RF_SYNC_BIT) */
} rf_sync_parent_t;

/* The next message of a type the caller accepts, after handling those runf
   takes alike: 1 with it in *msg (an fd that came with it closed), 0 at
   EOF, -1 with *err (a failed read, the child's ERROR, a type nobody
   expects). */
int rf_sync_parent_next (const rf_sync_parent_t *p, rf_sync_msg_t *msg, rf_error_t *err);

/* The socketpair (SOCK_SEQPACKET, close-on-exec), both ends at min_fd or
   above: the fds a caller passes into the container never hold one. */
int rf_sync_socketpair (int fds[2], int min_fd, rf_error_t *err);
/* Wait for a child of runf's to exit, whatever its status. */
void rf_child_reap (pid_t pid);
/* How the child died, for an error line: " (exit status 1)", " (killed by
   signal 9)", or "" where that is not known (with wait false, when it has
   not exited yet).  Reaps it.  Owned by the caller. */
char *rf_child_exit_text (pid_t pid, bool wait);

#endif
