/* Messages with fds over unix sockets (fdpass.h). */
#include "fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef union
{
  char buf[CMSG_SPACE (RF_FDPASS_MAX * sizeof (int))];
  struct cmsghdr align;
} fd_control_t;

int
rf_send_fds (int sock, const void *data, size_t len, const int *fds, size_t nfds)
{
  struct iovec iov = { (void *) data, len };
  fd_control_t control;
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

  if (nfds > RF_FDPASS_MAX)
    {
      errno = EINVAL;
      return -1;
    }
  if (nfds)
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

ssize_t
rf_recv_fds (int sock, void *data, size_t len, int *fds, size_t nfds)
{
  struct iovec iov = { data, len };
  fd_control_t control;
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf };
  size_t got = 0;
  ssize_t n;

  for (size_t i = 0; i < nfds; i++)
    fds[i] = -1;
  do
    n = recvmsg (sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -1;
  for (struct cmsghdr *cm = CMSG_FIRSTHDR (&mh); cm; cm = CMSG_NXTHDR (&mh, cm))
    {
      size_t k;
      if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
        continue;
      k = (cm->cmsg_len - CMSG_LEN (0)) / sizeof (int);
      for (size_t i = 0; i < k; i++)
        {
          int fd;
          memcpy (&fd, CMSG_DATA (cm) + i * sizeof (int), sizeof fd);
          if (got < nfds)
            fds[got++] = fd;
          else
            close (fd);
        }
    }
  if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
    {
      for (size_t i = 0; i < got; i++)
        {
          close (fds[i]);
          fds[i] = -1;
        }
      errno = EMSGSIZE;
      return -1;
    }
  return n;
}
