/* The protocol between runfd and its spawner (runfd-spawner): one
 * SOCK_SEQPACKET message each way per event, fds with SCM_RIGHTS.
 *   daemon  → spawner  DEFINE fn mode (text: its directory NUL its name; the log fd,
 *                      and as root the network namespace its instances enter)
 *                      FORGET fn
 *                      CREATE fn inst
 *   spawner → daemon   CREATED inst pid (the sync socket and a pidfd)
 *                      FAILED inst why
 *                      EXITED inst status */
#ifndef RFD_SPAWN_PROTO_H
#define RFD_SPAWN_PROTO_H

#include <stdint.h>

enum { MSG_DEFINE = 1, MSG_FORGET, MSG_CREATE, MSG_CREATED, MSG_FAILED, MSG_EXITED };

typedef struct
{
  uint32_t type;
  uint32_t fn;
  uint64_t inst;
  int32_t pid;
  int32_t status; /* EXITED: the wait status */
  int32_t mode;   /* DEFINE: the function's rfd_mode_t */
  char text[1024];
} spawn_msg_t;

/* 0, or -1 with errno. */
int rfd_spawn_send (int sock, const spawn_msg_t *m, const int *fds, int nfds);
/* 1 with a message, 0 at EOF, -1 on error; fds gets up to 4 fds, -1 padded. */
int rfd_spawn_recv (int sock, spawn_msg_t *m, int fds[4]);

#endif
