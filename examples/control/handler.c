/* A control-socket handler: the protocol of the seed FaaS design, followed
 * to the letter.
 *
 *   1. connect to the unix stream socket /control.sock;
 *   2. receive one message: the 2-byte payload "fd" with one SCM_RIGHTS
 *      file descriptor, the client's TCP connection;
 *   3. read the request from it, write the HTTP response, exit.
 *
 * stdout and stderr go to the function's log.  libc only:
 * `cc -O2 -static -o handler handler.c`. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CONTROL_SOCKET "/control.sock"
#define HEAD_MAX 8192

/* Step 1 and 2: the connection, or -1. */
static int
receive_connection (void)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX, .sun_path = CONTROL_SOCKET };
  char payload[2];
  size_t got = 0;
  int fd = -1, s = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (s < 0 || connect (s, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      fprintf (stderr, "handler: connect to %s: %s\n", CONTROL_SOCKET, strerror (errno));
      return -1;
    }
  /* A stream may deliver the payload in two reads; the fd rides on the
     first byte. */
  while (got < sizeof payload)
    {
      union
      {
        struct cmsghdr align;
        char buf[CMSG_SPACE (sizeof (int))];
      } control;
      struct iovec iov = { .iov_base = payload + got, .iov_len = sizeof payload - got };
      struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                            .msg_controllen = sizeof control.buf };
      struct cmsghdr *c;
      ssize_t n = recvmsg (s, &msg, MSG_CMSG_CLOEXEC);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      if (msg.msg_flags & MSG_CTRUNC)
        {
          fprintf (stderr, "handler: more file descriptors than one came\n");
          break;
        }
      for (c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS
            && c->cmsg_len == CMSG_LEN (sizeof (int)) && fd < 0)
          memcpy (&fd, CMSG_DATA (c), sizeof fd);
      got += (size_t) n;
    }
  close (s);
  if (got != sizeof payload || memcmp (payload, "fd", 2) != 0 || fd < 0)
    {
      fprintf (stderr, "handler: expected the payload \"fd\" with one file descriptor\n");
      if (fd >= 0)
        close (fd);
      return -1;
    }
  return fd;
}

static void
answer (int fd, int status, const char *reason, const char *body)
{
  char buf[HEAD_MAX + 512];
  int n = snprintf (buf, sizeof buf,
                    "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                    "Connection: close\r\n\r\n%s",
                    status, reason, strlen (body), body);
  for (int off = 0; n > 0 && off < n;)
    {
      ssize_t w = send (fd, buf + off, (size_t) (n - off), MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        break;
      off += (int) w;
    }
}

int
main (void)
{
  char head[HEAD_MAX + 1], body[HEAD_MAX + 128], *nl, *sp1, *sp2;
  size_t len = 0;
  const char *name = getenv ("RUNF_FUNCTION");
  int fd = receive_connection ();

  if (fd < 0)
    return 1;
  /* Step 3: the request line is all this handler needs, but it reads the
     whole head: closing a socket with unread input resets the connection,
     which can take the answer with it.  A client that sends nothing gets
     10 seconds. */
  head[0] = '\0';
  while (!strstr (head, "\n\r\n") && !strstr (head, "\n\n") && len < HEAD_MAX)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      ssize_t n;
      if (poll (&p, 1, 10000) <= 0)
        break;
      n = recv (fd, head + len, HEAD_MAX - len, 0);
      if (n <= 0)
        break;
      len += (size_t) n;
      head[len] = '\0';
    }
  nl = strchr (head, '\n');
  sp1 = nl ? memchr (head, ' ', (size_t) (nl - head)) : NULL;
  sp2 = sp1 ? memchr (sp1 + 1, ' ', (size_t) (nl - sp1 - 1)) : NULL;
  if (sp2 == NULL)
    {
      answer (fd, 400, "Bad Request", "bad request\n");
      return 1;
    }
  snprintf (body, sizeof body, "%s answered over the control socket: %.*s %.*s\n",
            name && *name ? name : "handler", (int) (sp1 - head), head, (int) (sp2 - sp1 - 1), sp1 + 1);
  answer (fd, 200, "OK", body);
  printf ("served %.*s %.*s\n", (int) (sp1 - head), head, (int) (sp2 - sp1 - 1), sp1 + 1);
  shutdown (fd, SHUT_WR);
  close (fd);
  return 0;
}
