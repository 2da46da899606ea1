/* hello: one function handler for every socket handler mode of runfd.
 *
 * It answers each request with
 *
 *     Hello from <RUNF_FUNCTION>!
 *     <METHOD> <target> (<mode>)
 *
 * The mode is RUNF_MODE; when that is not set it is guessed the way a
 * handler can see it: fd 3 a listening socket means warm, fd 3 a connected
 * socket means inetd, a /control.sock means control-socket.
 *
 *   inetd           the connection is fd 3 (also stdin and stdout):
 *                   serve one request, exit
 *   control-socket  connect to /control.sock, receive the connection as
 *                   an SCM_RIGHTS fd, serve one request, exit
 *   warm            fd 3 is the function's listening socket: accept and
 *                   serve connections (eight threads, each accepting)
 *                   until SIGTERM, then finish those in flight and exit
 *   http            an ordinary server: listen on $PORT (8080 unless set)
 *                   and serve connections one after another (runfd
 *                   relays one request per instance by default)
 *
 * Self-contained on purpose (libc only): build it with
 * `cc -O2 -static -pthread -o hello hello.c`, or better `musl-gcc ...`: a
 * static glibc program spends much of a short life asking the CPU about
 * itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX 16384
#define READ_TIMEOUT_MS 10000
#define CONTROL_SOCKET "/control.sock"

static const char *function_name = "runf";
static const char *mode;

static void
warn (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static void
warn (const char *fmt, ...)
{
  va_list ap;
  fputs ("hello: ", stderr);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
}

static int
wait_readable (int fd, int timeout_ms)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  int r;
  do
    r = poll (&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  return r;
}

static int
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t n = send (fd, buf, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -1;
      buf += n;
      len -= (size_t) n;
    }
  return 0;
}

static void
respond (int fd, int status, const char *reason, const char *body)
{
  char buf[HEAD_MAX + 512];
  int n = snprintf (buf, sizeof buf,
                    "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                    "Connection: close\r\n\r\n%s",
                    status, reason, strlen (body), body);
  if (n > 0 && (size_t) n < sizeof buf)
    write_all (fd, buf, (size_t) n);
}

/* The value of a header in a complete head, or NULL. */
static const char *
find_header (const char *head, const char *name, size_t *len)
{
  size_t nl = strlen (name);
  for (const char *line = strchr (head, '\n'); line && line[1]; line = strchr (line + 1, '\n'))
    {
      const char *p = line + 1;
      if (strncasecmp (p, name, nl) == 0 && p[nl] == ':')
        {
          p += nl + 1;
          while (*p == ' ' || *p == '\t')
            p++;
          *len = strcspn (p, "\r\n");
          return p;
        }
    }
  return NULL;
}

/* One request on a connection: read its head, answer, close. */
static void
serve (int fd)
{
  char head[HEAD_MAX + 1], body[HEAD_MAX + 256], *end = NULL, *sp1, *sp2;
  size_t len = 0, head_len = 0, cl_len;
  const char *cl;
  long long left = 0;

  while (end == NULL)
    {
      ssize_t n;
      if (len == HEAD_MAX)
        {
          respond (fd, 431, "Request Header Fields Too Large", "request head too large\n");
          goto out;
        }
      if (wait_readable (fd, READ_TIMEOUT_MS) <= 0)
        {
          respond (fd, 408, "Request Timeout", "no request\n");
          goto out;
        }
      n = recv (fd, head + len, HEAD_MAX - len, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        goto out;
      len += (size_t) n;
      head[len] = '\0';
      if (memchr (head, '\0', len))
        break;
      if ((end = strstr (head, "\r\n\r\n")) != NULL)
        head_len = (size_t) (end - head) + 4;
      else if ((end = strstr (head, "\n\n")) != NULL)
        head_len = (size_t) (end - head) + 2;
    }
  sp1 = end ? memchr (head, ' ', (size_t) (end - head)) : NULL;
  sp2 = sp1 ? memchr (sp1 + 1, ' ', (size_t) (end - sp1 - 1)) : NULL;
  if (sp2 == NULL || strncmp (sp2 + 1, "HTTP/1.", 7) != 0)
    {
      respond (fd, 400, "Bad Request", "bad request\n");
      goto out;
    }
  snprintf (body, sizeof body, "Hello from %s!\n%.*s %.*s (%s)\n", function_name, (int) (sp1 - head),
            head, (int) (sp2 - sp1 - 1), sp1 + 1, mode);
  respond (fd, 200, "OK", body);

  /* Read the body the client sent, if any (not too much), so that closing
     does not reset the connection under the answer. */
  *end = '\0';
  if ((cl = find_header (head, "Content-Length", &cl_len)) != NULL)
    left = strtoll (cl, NULL, 10) - (long long) (len - head_len);
  shutdown (fd, SHUT_WR);
  while (left > 0 && left < (1 << 20) && wait_readable (fd, 1000) > 0)
    {
      ssize_t n = recv (fd, head, sizeof head, 0);
      if (n <= 0)
        break;
      left -= n;
    }
out:
  close (fd);
}

static int
socket_listening_p (int fd, int *listening)
{
  socklen_t len = sizeof *listening;
  return getsockopt (fd, SOL_SOCKET, SO_ACCEPTCONN, listening, &len) == 0;
}

static const char *
guess_mode (void)
{
  int listening;
  if (socket_listening_p (3, &listening))
    return listening ? "warm" : "inetd";
  if (access (CONTROL_SOCKET, F_OK) == 0)
    return "control-socket";
  return "inetd"; /* classic inetd: the connection on stdin alone */
}

/* --- inetd ------------------------------------------------------------ */

static int
run_inetd (void)
{
  int listening;
  const char *pid = getenv ("LISTEN_PID");

  /* Socket activation names the process the fds are for. */
  if (pid && atol (pid) != (long) getpid ())
    warn ("LISTEN_PID=%s is not this process (%ld)", pid, (long) getpid ());
  if (socket_listening_p (3, &listening) && !listening)
    serve (3);
  else if (socket_listening_p (0, &listening) && !listening)
    serve (0);
  else
    {
      warn ("inetd mode, but neither fd 3 nor stdin is a connected socket");
      return 1;
    }
  return 0;
}

/* --- control-socket --------------------------------------------------- */

static int
run_control (void)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX, .sun_path = CONTROL_SOCKET };
  char payload[2];
  union
  {
    struct cmsghdr align;
    char buf[CMSG_SPACE (sizeof (int))];
  } control;
  struct iovec iov = { .iov_base = payload, .iov_len = sizeof payload };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                        .msg_controllen = sizeof control.buf };
  struct cmsghdr *c;
  int s = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), fd = -1;
  ssize_t n;

  if (s < 0 || connect (s, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      warn ("connect to %s: %s", CONTROL_SOCKET, strerror (errno));
      return 1;
    }
  do
    n = recvmsg (s, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  c = n > 0 ? CMSG_FIRSTHDR (&msg) : NULL;
  if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN (sizeof (int)))
    memcpy (&fd, CMSG_DATA (c), sizeof fd);
  if (fd < 0 || (msg.msg_flags & MSG_CTRUNC))
    {
      warn ("no connection came over %s", CONTROL_SOCKET);
      return 1;
    }
  close (s);
  serve (fd);
  return 0;
}

/* --- warm ------------------------------------------------------------- */

/* A fixed set of threads, each blocked in accept on the shared listening
   socket: the kernel wakes exactly one per connection, and no thread is
   made per request.  A slow client holds one thread for at most
   READ_TIMEOUT_MS; the others go on. */
#define WARM_THREADS 8

static atomic_int stopping;

static void *
accept_loop (void *arg)
{
  (void) arg;
  while (!atomic_load (&stopping))
    {
      int c = accept4 (3, NULL, NULL, SOCK_CLOEXEC);
      if (c >= 0)
        {
          serve (c);
          continue;
        }
      /* The 1 s receive timeout brings the thread back to look at
         `stopping`; a connection another instance took leaves nothing. */
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
        {
          warn ("accept: %s", strerror (errno));
          break;
        }
    }
  return NULL;
}

static int
run_warm (void)
{
  struct timeval accept_timeout = { .tv_sec = 1 };
  pthread_t threads[WARM_THREADS];
  pthread_attr_t attr;
  int n = 0, sig;
  sigset_t term;

  /* SIGTERM and SIGINT are taken by sigwait below, never by a worker. */
  sigemptyset (&term);
  sigaddset (&term, SIGTERM);
  sigaddset (&term, SIGINT);
  pthread_sigmask (SIG_BLOCK, &term, NULL);
  setsockopt (3, SOL_SOCKET, SO_RCVTIMEO, &accept_timeout, sizeof accept_timeout);
  /* serve() keeps about 50 KiB on its stack: more than some libcs give a
     thread by default (musl: 128 KiB), so say it. */
  pthread_attr_init (&attr);
  pthread_attr_setstacksize (&attr, 256 << 10);
  for (int i = 0; i < WARM_THREADS; i++)
    if (pthread_create (&threads[n], &attr, accept_loop, NULL) == 0)
      n++;
  pthread_attr_destroy (&attr);
  if (n == 0)
    {
      warn ("no thread to accept with: %s", strerror (errno));
      return 1;
    }
  sigwait (&term, &sig);
  /* Each thread finishes the request it serves (bounded by its read
     timeout) and comes back from accept within a second. */
  atomic_store (&stopping, 1);
  for (int i = 0; i < n; i++)
    pthread_join (threads[i], NULL);
  return 0;
}

/* --- http ------------------------------------------------------------- */

static int
run_http (void)
{
  const char *port = getenv ("PORT");
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_ANY) };
  int one = 1, s = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  addr.sin_port = htons ((unsigned short) atoi (port && *port ? port : "8080"));
  setsockopt (s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (s < 0 || bind (s, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (s, 64) < 0)
    {
      warn ("listen on port %s: %s", port ? port : "8080", strerror (errno));
      return 1;
    }
  for (;;)
    {
      int c = accept4 (s, NULL, NULL, SOCK_CLOEXEC);
      if (c >= 0)
        serve (c);
      else if (errno != EINTR && errno != ECONNABORTED)
        {
          warn ("accept: %s", strerror (errno));
          return 1;
        }
    }
}

int
main (void)
{
  const char *name = getenv ("RUNF_FUNCTION");

  if (name && *name)
    function_name = name;
  mode = getenv ("RUNF_MODE");
  if (mode == NULL || *mode == '\0')
    mode = guess_mode ();
  if (strcmp (mode, "inetd") == 0)
    return run_inetd ();
  if (strcmp (mode, "control-socket") == 0)
    return run_control ();
  if (strcmp (mode, "warm") == 0)
    return run_warm ();
  if (strcmp (mode, "http") == 0)
    return run_http ();
  warn ("RUNF_MODE=%s: this handler knows inetd, control-socket, warm and http", mode);
  return 1;
}
