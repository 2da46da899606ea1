/* A seccomp notify listener for tests: accept connections on a unix
 * socket (one per process whose filter notifies: the container's init and
 * each exec'd process), take the notify fd runf sends with the container
 * process state, print that state, then answer each trapped system call
 * with EPERM, printing its number.  It stops when every process it served
 * is gone, or at once after the first state with -1 (an agent that dies
 * while the container runs). */
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_FDS 16

/* The notify fd that came with one connection's state, or -1. */
static int
take_fd (int sock)
{
  char payload[8192];
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { payload, sizeof payload - 1 };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = control.buf, .msg_controllen = sizeof control.buf };
  struct cmsghdr *cm;
  int conn = accept (sock, NULL, NULL), fd = -1;
  ssize_t n = conn < 0 ? -1 : recvmsg (conn, &mh, 0);

  if (n < 0)
    {
      perror ("receive");
      exit (1);
    }
  close (conn);
  payload[n] = '\0';
  for (cm = CMSG_FIRSTHDR (&mh); cm; cm = CMSG_NXTHDR (&mh, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
      memcpy (&fd, CMSG_DATA (cm), sizeof (int));
  printf ("state %s\n", payload);
  fflush (stdout);
  return fd;
}

/* Answer one trapped call on fd; 0 when its processes are gone. */
static int
answer (int fd)
{
  struct seccomp_notif req;
  struct seccomp_notif_resp resp;
  memset (&req, 0, sizeof req);
  if (ioctl (fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
    return errno == EINTR || errno == ENOENT;
  printf ("syscall %d\n", req.data.nr);
  fflush (stdout);
  memset (&resp, 0, sizeof resp);
  resp.id = req.id;
  resp.error = -EPERM;
  ioctl (fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
  return 1;
}

int
main (int argc, char **argv)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  struct pollfd p[MAX_FDS + 1];
  int sock, n = 0, served = 0, die_early = 0;
  const char *path;

  if (argc == 3 && strcmp (argv[1], "-1") == 0)
    die_early = 1;
  else if (argc != 2)
    {
      fprintf (stderr, "usage: seccomp_listener [-1] SOCKET\n");
      return 2;
    }
  path = argv[argc - 1];
  if (strlen (path) >= sizeof addr.sun_path)
    {
      fprintf (stderr, "seccomp_listener: socket path too long\n");
      return 2;
    }
  strcpy (addr.sun_path, path);
  sock = socket (AF_UNIX, SOCK_STREAM, 0);
  if (sock < 0 || bind (sock, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (sock, 8) < 0)
    {
      perror ("listen");
      return 1;
    }
  p[0] = (struct pollfd) { .fd = sock, .events = POLLIN };
  for (;;)
    {
      if (poll (p, (nfds_t) n + 1, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          perror ("poll");
          return 1;
        }
      if ((p[0].revents & POLLIN) && n < MAX_FDS)
        {
          int fd = take_fd (sock);
          if (die_early)
            return 0;
          if (fd >= 0)
            {
              p[++n] = (struct pollfd) { .fd = fd, .events = POLLIN };
              served++;
            }
        }
      for (int i = 1; i <= n; i++)
        {
          if (p[i].revents & POLLIN && answer (p[i].fd))
            continue;
          if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
          /* Every process of this filter is gone. */
          close (p[i].fd);
          p[i--] = p[n--];
        }
      if (served > 0 && n == 0)
        break;
    }
  unlink (path);
  return 0;
}
