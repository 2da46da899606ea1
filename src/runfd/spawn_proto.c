#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "spawn_proto.h"

int
rfd_spawn_send (int sock, const spawn_msg_t *m, const int *fds, int nfds)
{
  struct iovec iov = { (void *) m, offsetof (spawn_msg_t, text) + strnlen (m->text, sizeof m->text - 1) + 1 };
  union
  {
    char buf[CMSG_SPACE (4 * sizeof (int))];
    struct cmsghdr align;
  } control;
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
  if (nfds > 0)
    {
      struct cmsghdr *cm;
      memset (&control, 0, sizeof control);
      mh.msg_control = control.buf;
      mh.msg_controllen = CMSG_SPACE (nfds * sizeof (int));
      cm = CMSG_FIRSTHDR (&mh);
      cm->cmsg_level = SOL_SOCKET;
      cm->cmsg_type = SCM_RIGHTS;
      cm->cmsg_len = CMSG_LEN (nfds * sizeof (int));
      memcpy (CMSG_DATA (cm), fds, nfds * sizeof (int));
    }
  while (sendmsg (sock, &mh, MSG_NOSIGNAL) < 0)
    if (errno != EINTR)
      return -1;
  return 0;
}

int
rfd_spawn_recv (int sock, spawn_msg_t *m, int fds[4])
{
  struct iovec iov = { m, sizeof *m };
  union
  {
    char buf[CMSG_SPACE (4 * sizeof (int))];
    struct cmsghdr align;
  } control;
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf };
  ssize_t n;

  for (int i = 0; i < 4; i++)
    fds[i] = -1;
  do
    n = recvmsg (sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return n < 0 ? -1 : 0;
  m->text[sizeof m->text - 1] = '\0';
  for (struct cmsghdr *cm = CMSG_FIRSTHDR (&mh); cm; cm = CMSG_NXTHDR (&mh, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
      {
        size_t k = (cm->cmsg_len - CMSG_LEN (0)) / sizeof (int);
        memcpy (fds, CMSG_DATA (cm), (k > 4 ? 4 : k) * sizeof (int));
      }
  return 1;
}
