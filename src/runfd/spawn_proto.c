/* The spawner protocol's messages (spawn_proto.h), over common/fdpass. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/fdpass.h"
#include "spawn_proto.h"

int
rfd_spawn_send (int sock, const spawn_msg_t *m, const int *fds, int nfds)
{
  /* The text's used part only: a message is a fixed head and a string. */
  size_t len = offsetof (spawn_msg_t, text) + strnlen (m->text, sizeof m->text - 1) + 1;
  return rf_send_fds (sock, m, len, fds, nfds > 0 ? (size_t) nfds : 0);
}

int
rfd_spawn_recv (int sock, spawn_msg_t *m, int fds[4])
{
  ssize_t n = rf_recv_fds (sock, m, sizeof *m, fds, 4);
  if (n <= 0)
    return n < 0 ? -1 : 0;
  m->text[sizeof m->text - 1] = '\0';
  return 1;
}
