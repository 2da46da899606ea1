/* Hand a TCP socket on 127.0.0.1 to a handler the way runfd does, for tests
 * that run handlers without the daemon.  It listens on a free port, writes
 * the port to PORTFILE (renamed into place: its existence means ready),
 * then:
 *
 *   sockserve PORTFILE inetd CMD [ARG]...
 *       accept one connection; exec CMD with it as fd 3, stdin and stdout,
 *       LISTEN_FDS=1 and LISTEN_PID=its pid
 *   sockserve PORTFILE warm CMD [ARG]...
 *       exec CMD with the listening socket as fd 3, LISTEN_FDS=1
 *   sockserve PORTFILE control SOCKPATH [COUNT]
 *       also listen on the unix socket SOCKPATH; COUNT times (default 1):
 *       accept a TCP connection and a control connection, and send the
 *       TCP socket over it (SCM_RIGHTS, payload "fd")
 *
 * Everything it waits for is bounded by SOCKSERVE_TIMEOUT seconds
 * (default 60), so a broken test cannot hang on it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void __attribute__ ((noreturn))
die (const char *what)
{
  fprintf (stderr, "sockserve: %s: %s\n", what, strerror (errno));
  exit (1);
}

static void
write_port (const char *file, int sock)
{
  struct sockaddr_in addr;
  socklen_t len = sizeof addr;
  char tmp[4096];
  FILE *f;

  if (getsockname (sock, (struct sockaddr *) &addr, &len) < 0)
    die ("getsockname");
  snprintf (tmp, sizeof tmp, "%s.tmp", file);
  f = fopen (tmp, "w");
  if (f == NULL)
    die (tmp);
  fprintf (f, "%u\n", ntohs (addr.sin_port));
  if (fclose (f) != 0 || rename (tmp, file) < 0)
    die (file);
}

static int
listen_tcp (void)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
  int s = socket (AF_INET, SOCK_STREAM, 0);

  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (s < 0 || bind (s, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (s, 64) < 0)
    die ("listen on 127.0.0.1");
  return s;
}

static void
exec_with_fd3 (int fd, char **cmd)
{
  char pid[32];

  if (dup2 (fd, 3) < 0)
    die ("dup2");
  if (fd != 3)
    close (fd);
  snprintf (pid, sizeof pid, "%d", (int) getpid ());
  setenv ("LISTEN_FDS", "1", 1);
  setenv ("LISTEN_PID", pid, 1);
  alarm (0);
  execvp (cmd[0], cmd);
  die (cmd[0]);
}

static void
send_fd (int over, int fd)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = "fd", .iov_len = 2 };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf };
  struct cmsghdr *cm = CMSG_FIRSTHDR (&mh);

  memset (control.buf, 0, sizeof control.buf);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cm), &fd, sizeof fd);
  if (sendmsg (over, &mh, MSG_NOSIGNAL) != 2)
    die ("sendmsg");
}

int
main (int argc, char **argv)
{
  const char *timeout = getenv ("SOCKSERVE_TIMEOUT");
  int tcp;

  if (argc < 4)
    {
      fprintf (stderr, "usage: sockserve PORTFILE inetd|warm CMD [ARG]...\n"
                       "       sockserve PORTFILE control SOCKPATH [COUNT]\n");
      return 2;
    }
  signal (SIGPIPE, SIG_IGN);
  alarm (timeout ? (unsigned) atoi (timeout) : 60);
  tcp = listen_tcp ();

  if (strcmp (argv[2], "inetd") == 0)
    {
      int c;
      write_port (argv[1], tcp);
      c = accept (tcp, NULL, NULL);
      if (c < 0)
        die ("accept");
      close (tcp);
      if (dup2 (c, 0) < 0 || dup2 (c, 1) < 0)
        die ("dup2");
      exec_with_fd3 (c, argv + 3);
    }
  if (strcmp (argv[2], "warm") == 0)
    {
      write_port (argv[1], tcp);
      exec_with_fd3 (tcp, argv + 3);
    }
  if (strcmp (argv[2], "control") == 0)
    {
      struct sockaddr_un addr = { .sun_family = AF_UNIX };
      int count = argc > 4 ? atoi (argv[4]) : 1;
      int u = socket (AF_UNIX, SOCK_STREAM, 0);

      if (strlen (argv[3]) >= sizeof addr.sun_path)
        {
          fprintf (stderr, "sockserve: %s: path too long\n", argv[3]);
          return 2;
        }
      strcpy (addr.sun_path, argv[3]);
      unlink (argv[3]);
      if (u < 0 || bind (u, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (u, 16) < 0)
        die (argv[3]);
      write_port (argv[1], tcp);
      for (int i = 0; i < count; i++)
        {
          int c = accept (tcp, NULL, NULL), h;
          if (c < 0)
            die ("accept");
          h = accept (u, NULL, NULL);
          if (h < 0)
            die ("accept on the control socket");
          send_fd (h, c);
          close (h);
          close (c);
        }
      unlink (argv[3]);
      return 0;
    }
  fprintf (stderr, "sockserve: unknown mode %s\n", argv[2]);
  return 2;
}
