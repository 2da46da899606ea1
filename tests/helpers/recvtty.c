/* A console socket for tests: listen on a unix socket, take one pty master
 * over SCM_RIGHTS (as engines do with --console-socket), then copy what the
 * container writes to its terminal to stdout until it hangs up.  With -i,
 * also write the given text into the terminal first. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  const char *input = NULL;
  char buf[4096], payload[256];
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { payload, sizeof payload };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = control.buf, .msg_controllen = sizeof control.buf };
  struct cmsghdr *cm;
  int sock, conn, master = -1, opt;

  while ((opt = getopt (argc, argv, "i:")) != -1)
    if (opt == 'i')
      input = optarg;
  if (optind >= argc || strlen (argv[optind]) >= sizeof addr.sun_path)
    {
      fprintf (stderr, "usage: recvtty [-i TEXT] SOCKET\n");
      return 2;
    }
  strcpy (addr.sun_path, argv[optind]);
  sock = socket (AF_UNIX, SOCK_STREAM, 0);
  unlink (addr.sun_path);
  if (sock < 0 || bind (sock, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (sock, 1) < 0)
    {
      perror ("recvtty: listen");
      return 1;
    }
  conn = accept (sock, NULL, NULL);
  if (conn < 0 || recvmsg (conn, &mh, 0) < 0)
    {
      perror ("recvtty: receive");
      return 1;
    }
  for (cm = CMSG_FIRSTHDR (&mh); cm; cm = CMSG_NXTHDR (&mh, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
      memcpy (&master, CMSG_DATA (cm), sizeof (int));
  if (master < 0)
    {
      fprintf (stderr, "recvtty: no fd received\n");
      return 1;
    }
  if (isatty (master))
    fprintf (stderr, "recvtty: got a terminal\n");
  if (input)
    {
      ssize_t ignored = write (master, input, strlen (input));
      (void) ignored;
    }
  for (;;)
    {
      ssize_t n = read (master, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      if (write (STDOUT_FILENO, buf, n) < 0)
        break;
    }
  unlink (addr.sun_path);
  return 0;
}
