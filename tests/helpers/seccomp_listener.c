/* A seccomp notify listener for tests: accept one connection on a unix
 * socket, take the notify fd runf sends with the container process state,
 * print that state, then answer each trapped system call with EPERM,
 * printing its number, until the container is gone. */
#include <errno.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
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
  int sock, conn, fd = -1;
  ssize_t n;

  if (argc != 2 || strlen (argv[1]) >= sizeof addr.sun_path)
    {
      fprintf (stderr, "usage: seccomp_listener SOCKET\n");
      return 2;
    }
  strcpy (addr.sun_path, argv[1]);
  sock = socket (AF_UNIX, SOCK_STREAM, 0);
  if (sock < 0 || bind (sock, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (sock, 1) < 0)
    {
      perror ("listen");
      return 1;
    }
  conn = accept (sock, NULL, NULL);
  n = conn < 0 ? -1 : recvmsg (conn, &mh, 0);
  if (n < 0)
    {
      perror ("receive");
      return 1;
    }
  payload[n] = '\0';
  for (cm = CMSG_FIRSTHDR (&mh); cm; cm = CMSG_NXTHDR (&mh, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
      memcpy (&fd, CMSG_DATA (cm), sizeof (int));
  printf ("state %s\n", payload);
  fflush (stdout);
  if (fd < 0)
    return 1;
  for (;;)
    {
      struct seccomp_notif req;
      struct seccomp_notif_resp resp;
      memset (&req, 0, sizeof req);
      if (ioctl (fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
        {
          if (errno == EINTR)
            continue;
          break; /* the container is gone */
        }
      printf ("syscall %d\n", req.data.nr);
      fflush (stdout);
      memset (&resp, 0, sizeof resp);
      resp.id = req.id;
      resp.error = -EPERM;
      ioctl (fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    }
  unlink (argv[1]);
  return 0;
}
