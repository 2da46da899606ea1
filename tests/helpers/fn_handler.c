#define _GNU_SOURCE
/* The function handler of runfd's tests, one static binary for every
 * socket mode (RUNF_MODE): inetd (the socket is fd 3), control-socket (ask
 * /control.sock for it), warm (fd 3 listens: accept until SIGTERM).  What
 * it does depends on the request's path:
 *   /            "hello <function>"
 *   /sleep/N     answer after N seconds
 *   /crash       exit 1 without answering
 *   /alloc/N     touch N MiB, then answer
 *   /env         the environment (what fits in a response)
 *   /envsize/K   the length of variable K's value
 *   /log         write a line to stderr (the function's log), then answer
 *   /log/N       write N KiB of lines to stderr, then answer
 *   /dev         which of /dev's default entries work: a write to
 *                null, a read of urandom and zero, the fd links
 *   /confined    its Seccomp, NoNewPrivs and CapEff lines of
 *                /proc/self/status, and what unshare(CLONE_NEWUSER) did
 *   /echo        the request body back
 *   /cwd         its working directory, or why getcwd failed
 *   /read/PATH   the file at PATH (relative to its cwd unless PATH starts
 *                with a second /), or "error: ..."
 *   /write/PATH  "ok" if PATH opens for writing and takes a byte, else
 *                "error: ..."
 *   /stat/PATH   "MODE UID GID" of PATH (octal mode, ids as it sees them),
 *                or "error: ..."
 *   /flood/N     write to stderr as fast as it can for N seconds, then answer
 *   /spew/N      write N KiB to stderr without a newline, then answer
 *   /flags       whether its socket (fd 0 and the one it serves) blocks
 *   /fork/N      start N processes that wait, answer how many it could
 *   /limits      its /proc/self/limits
 *   /ka          "hello <function>", as an answer that keeps the connection
 *                (no Connection: close)
 *   /head        "<function>:" and the request's head as it came
 *   /tcp/A.B.C.D:PORT  "connected: " and the first line a GET there got,
 *                or "error: ..." (3 s at most)
 *   /dns/NAME    NAME's IPv4 address, asked of /etc/resolv.conf's first
 *                nameserver over UDP, or "error: ..."
 *   /abstract/NAME  "connected" if the abstract unix socket NAME takes a
 *                connection, else "error: ..." */
#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/time.h>
#include <unistd.h>

extern char **environ;

static void
respond (int fd, const char *body, size_t len)
{
  char head[256];
  int n = snprintf (head, sizeof head,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                    len);
  if (write (fd, head, (size_t) n) < 0 || write (fd, body, len) < 0)
    perror ("write");
}

/* --- reaching out (the network tests) ------------------------------------ */

/* snprintf's result as what was written. */
static size_t
fit (int n, size_t size)
{
  return n < 0 ? 0 : (size_t) n >= size ? size - 1 : (size_t) n;
}

static int
tcp_get (const char *target, char *out, size_t size)
{
  char host[64];
  const char *colon = strrchr (target, ':');
  struct sockaddr_in sa = { .sin_family = AF_INET };
  struct timeval tv = { 3, 0 };
  int s, n;
  if (colon == NULL || (size_t) (colon - target) >= sizeof host)
    return snprintf (out, size, "error: expected A.B.C.D:PORT");
  memcpy (host, target, (size_t) (colon - target));
  host[colon - target] = '\0';
  sa.sin_port = htons ((uint16_t) atoi (colon + 1));
  if (inet_pton (AF_INET, host, &sa.sin_addr) != 1)
    return snprintf (out, size, "error: bad address");
  s = socket (AF_INET, SOCK_STREAM, 0);
  setsockopt (s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  setsockopt (s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (s < 0 || connect (s, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      n = snprintf (out, size, "error: %s", strerror (errno));
      if (s >= 0)
        close (s);
      return n;
    }
  if (write (s, "GET / HTTP/1.0\r\n\r\n", 18) != 18)
    {
      close (s);
      return snprintf (out, size, "error: write");
    }
  {
    char buf[256];
    ssize_t r = read (s, buf, sizeof buf - 1);
    close (s);
    if (r <= 0)
      return snprintf (out, size, "error: no answer");
    buf[r] = '\0';
    buf[strcspn (buf, "\r\n")] = '\0';
    return snprintf (out, size, "connected: %s", buf);
  }
}

static int
dns_a (const char *name, char *out, size_t size)
{
  unsigned char q[512], r[512];
  char ns[64] = "";
  char line[256];
  size_t len = 12;
  FILE *f = fopen ("/etc/resolv.conf", "r");
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (53) };
  struct timeval tv = { 3, 0 };
  ssize_t n;
  int s;

  while (f && fgets (line, sizeof line, f) && !*ns)
    if (sscanf (line, "nameserver %63s", ns) != 1)
      *ns = '\0';
  if (f)
    fclose (f);
  if (!*ns || inet_pton (AF_INET, ns, &sa.sin_addr) != 1)
    return snprintf (out, size, "error: no nameserver");
  memset (q, 0, 12);
  q[0] = 0x12, q[1] = 0x34, q[2] = 0x01, q[5] = 1; /* id, RD, one question */
  for (const char *label = name; *label;)
    {
      size_t l = strcspn (label, ".");
      if (l == 0 || l > 63 || len + l + 6 > sizeof q)
        return snprintf (out, size, "error: bad name");
      q[len++] = (unsigned char) l;
      memcpy (q + len, label, l);
      len += l;
      label += l + (label[l] == '.');
    }
  q[len++] = 0;
  q[len++] = 0, q[len++] = 1, q[len++] = 0, q[len++] = 1; /* A, IN */
  s = socket (AF_INET, SOCK_DGRAM, 0);
  setsockopt (s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (s < 0 || sendto (s, q, len, 0, (struct sockaddr *) &sa, sizeof sa) < 0
      || (n = recv (s, r, sizeof r, 0)) < 12)
    {
      int e = errno;
      if (s >= 0)
        close (s);
      return snprintf (out, size, "error: %s", strerror (e));
    }
  close (s);
  if (r[3] & 0x0f)
    return snprintf (out, size, "error: rcode %d", r[3] & 0x0f);
  {
    /* Skip the question, then the first A record's address. */
    size_t off = len;
    int answers = (r[6] << 8) | r[7];
    for (int i = 0; i < answers && off + 12 <= (size_t) n; i++)
      {
        unsigned type, rdlen;
        if ((r[off] & 0xc0) == 0xc0)
          off += 2;
        else
          {
            while (off < (size_t) n && r[off])
              off += r[off] + 1u;
            off++;
          }
        if (off + 10 > (size_t) n)
          break;
        type = (unsigned) (r[off] << 8 | r[off + 1]);
        rdlen = (unsigned) (r[off + 8] << 8 | r[off + 9]);
        off += 10;
        if (type == 1 && rdlen == 4 && off + 4 <= (size_t) n)
          return snprintf (out, size, "%u.%u.%u.%u", r[off], r[off + 1], r[off + 2], r[off + 3]);
        off += rdlen;
      }
  }
  return snprintf (out, size, "error: no address");
}

static int
abstract_connect (const char *name, char *out, size_t size)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  size_t l = strlen (name);
  int s = socket (AF_UNIX, SOCK_STREAM, 0), n;
  if (l + 1 > sizeof sa.sun_path)
    return snprintf (out, size, "error: name too long");
  memcpy (sa.sun_path + 1, name, l);
  if (s >= 0 && connect (s, (struct sockaddr *) &sa, (socklen_t) (offsetof (struct sockaddr_un, sun_path) + 1 + l)) == 0)
    n = snprintf (out, size, "connected");
  else
    n = snprintf (out, size, "error: %s", strerror (errno));
  if (s >= 0)
    close (s);
  return n;
}

static char token[33];
static int served;
static struct timespec born;

static void
serve (int fd)
{
  char req[65536], out[65536];
  size_t n = 0;
  char *end = NULL, *path, *sp;
  long clen = 0;

  while (n < sizeof req - 1)
    {
      ssize_t r = read (fd, req + n, sizeof req - 1 - n);
      if (r <= 0)
        break;
      n += (size_t) r;
      req[n] = '\0';
      if ((end = strstr (req, "\r\n\r\n")) != NULL)
        {
          char *cl = strcasestr (req, "\r\nContent-Length:");
          clen = cl ? atol (cl + 17) : 0;
          if (n >= (size_t) (end + 4 - req) + (size_t) clen)
            break;
        }
    }
  if (end == NULL)
    return;
  path = strchr (req, ' ');
  if (path == NULL)
    return;
  path++;
  sp = strchr (path, ' ');
  if (sp)
    *sp = '\0';
  {
    /* Through the gateway the path starts with /function/<name>. */
    const char *prefix = getenv ("RUNF_PATH_PREFIX");
    if (prefix && strncmp (path, prefix, strlen (prefix)) == 0)
      path += strlen (prefix);
  }
  served++;
  if (strcmp (path, "/whoami") == 0)
    {
      struct timespec now;
      int len;
      clock_gettime (CLOCK_MONOTONIC, &now);
      len = snprintf (out, sizeof out, "%s %d %lld\n", token, served,
                      (long long) ((now.tv_sec - born.tv_sec) * 1000 + (now.tv_nsec - born.tv_nsec) / 1000000));
      respond (fd, out, (size_t) len);
    }
  else if (strncmp (path, "/sleep/", 7) == 0)
    {
      sleep ((unsigned) atoi (path + 7));
      respond (fd, "slept\n", 6);
    }
  else if (strcmp (path, "/crash") == 0)
    exit (1);
  else if (strncmp (path, "/alloc/", 7) == 0)
    {
      size_t mb = (size_t) atol (path + 7);
      char *p = malloc (mb << 20);
      if (p)
        for (size_t i = 0; i < (mb << 20); i += 4096)
          p[i] = 1;
      respond (fd, "allocated\n", 10);
    }
  else if (strcmp (path, "/env") == 0)
    {
      size_t len = 0;
      for (char **e = environ; *e && strlen (*e) + 1 < sizeof out - len; e++)
        len += (size_t) snprintf (out + len, sizeof out - len, "%s\n", *e);
      respond (fd, out, len);
    }
  else if (strncmp (path, "/envsize/", 9) == 0)
    {
      const char *v = getenv (path + 9);
      int len = v ? snprintf (out, sizeof out, "%zu\n", strlen (v)) : snprintf (out, sizeof out, "unset\n");
      respond (fd, out, (size_t) len);
    }
  else if (strcmp (path, "/dev") == 0)
    {
      static const char *const names[] = { "null", "zero", "full", "random", "urandom", "tty",
                                           "fd", "stdin", "stdout", "stderr", "ptmx" };
      size_t len = 0;
      char byte;
      int f;
      for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        {
          char p[64];
          struct stat st;
          snprintf (p, sizeof p, "/dev/%s", names[i]);
          if (lstat (p, &st) == 0)
            len += (size_t) snprintf (out + len, sizeof out - len, "%s ", names[i]);
        }
      f = open ("/dev/null", O_WRONLY);
      len += (size_t) snprintf (out + len, sizeof out - len, "\nnull-write:%s",
                                f >= 0 && write (f, "x", 1) == 1 ? "ok" : strerror (errno));
      if (f >= 0)
        close (f);
      f = open ("/dev/urandom", O_RDONLY);
      len += (size_t) snprintf (out + len, sizeof out - len, " urandom-read:%s",
                                f >= 0 && read (f, &byte, 1) == 1 ? "ok" : strerror (errno));
      if (f >= 0)
        close (f);
      len += (size_t) snprintf (out + len, sizeof out - len, " fd-link:%s\n",
                                access ("/dev/fd/0", F_OK) == 0 ? "ok" : strerror (errno));
      respond (fd, out, len);
    }
  else if (strcmp (path, "/confined") == 0)
    {
      size_t len = 0;
      char line[256];
      FILE *f = fopen ("/proc/self/status", "r");
      while (f && fgets (line, sizeof line, f))
        if (strncmp (line, "Seccomp:", 8) == 0 || strncmp (line, "NoNewPrivs:", 11) == 0
            || strncmp (line, "CapEff:", 7) == 0)
          len += (size_t) snprintf (out + len, sizeof out - len, "%s", line);
      if (f)
        fclose (f);
      len += (size_t) snprintf (out + len, sizeof out - len, "unshare: %s\n",
                                unshare (CLONE_NEWUSER) == 0 ? "allowed" : strerror (errno));
      respond (fd, out, len);
    }
  else if (strcmp (path, "/log") == 0)
    {
      fprintf (stderr, "fn_handler: a line for the log\n");
      respond (fd, "logged\n", 7);
    }
  else if (strncmp (path, "/log/", 5) == 0)
    {
      long kib = atol (path + 5);
      for (long i = 0; i < kib * 16; i++)
        fprintf (stderr, "fn_handler: sixty-four bytes of log, line %09ld............\n", i);
      respond (fd, "logged\n", 7);
    }
  else if (strcmp (path, "/echo") == 0)
    respond (fd, end + 4, (size_t) clen);
  else if (strncmp (path, "/tcp/", 5) == 0)
    respond (fd, out, fit (tcp_get (path + 5, out, sizeof out), sizeof out));
  else if (strncmp (path, "/dns/", 5) == 0)
    respond (fd, out, fit (dns_a (path + 5, out, sizeof out), sizeof out));
  else if (strncmp (path, "/abstract/", 10) == 0)
    respond (fd, out, fit (abstract_connect (path + 10, out, sizeof out), sizeof out));
  else if (strcmp (path, "/head") == 0)
    {
      const char *f = getenv ("RUNF_FUNCTION");
      /* The request line was cut at the target: its headers follow. */
      int len = snprintf (out, sizeof out, "%s:\n%.*s", f ? f : "?", sp ? (int) (end - sp - 1) : 0,
                          sp ? sp + 1 : "");
      respond (fd, out, (size_t) len);
    }
  else if (strcmp (path, "/ka") == 0)
    {
      const char *f = getenv ("RUNF_FUNCTION");
      char body[128];
      int blen = snprintf (body, sizeof body, "hello %s\n", f ? f : "?");
      int len = snprintf (out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s",
                          blen, body);
      if (write (fd, out, (size_t) len) < 0)
        perror ("write");
    }
  else if (strcmp (path, "/cwd") == 0)
    {
      int len = getcwd (out, sizeof out - 1) ? (int) strlen (out)
                                             : snprintf (out, sizeof out, "error: %s", strerror (errno));
      respond (fd, out, (size_t) len);
    }
  else if (strncmp (path, "/read/", 6) == 0)
    {
      int f = open (path + 6, O_RDONLY);
      ssize_t len = f >= 0 ? read (f, out, sizeof out) : -1;
      if (len < 0)
        len = snprintf (out, sizeof out, "error: %s", strerror (errno));
      if (f >= 0)
        close (f);
      respond (fd, out, (size_t) len);
    }
  else if (strncmp (path, "/stat/", 6) == 0)
    {
      struct stat st;
      int len = stat (path + 6, &st) == 0
                  ? snprintf (out, sizeof out, "%o %u %u", (unsigned) (st.st_mode & 07777), (unsigned) st.st_uid,
                              (unsigned) st.st_gid)
                  : snprintf (out, sizeof out, "error: %s", strerror (errno));
      respond (fd, out, (size_t) len);
    }
  else if (strncmp (path, "/write/", 7) == 0)
    {
      int f = open (path + 7, O_WRONLY);
      int len = f >= 0 && write (f, "x", 1) == 1 ? snprintf (out, sizeof out, "ok")
                                                  : snprintf (out, sizeof out, "error: %s", strerror (errno));
      if (f >= 0)
        close (f);
      respond (fd, out, (size_t) len);
    }
  else if (strncmp (path, "/flood/", 7) == 0)
    {
      time_t until = time (NULL) + atol (path + 7);
      static char block[4096];
      memset (block, 'f', sizeof block - 1);
      block[sizeof block - 1] = '\n';
      while (time (NULL) < until)
        if (write (2, block, sizeof block) < 0)
          break;
      respond (fd, "flooded\n", 8);
    }
  else if (strncmp (path, "/spew/", 6) == 0)
    {
      long kib = atol (path + 6);
      static char block[1024];
      memset (block, 's', sizeof block);
      for (long i = 0; i < kib; i++)
        if (write (2, block, sizeof block) < 0)
          break;
      respond (fd, "spewed\n", 7);
    }
  else if (strcmp (path, "/flags") == 0)
    {
      int len = snprintf (out, sizeof out, "fd0:%s served:%s\n",
                          fcntl (0, F_GETFL) & O_NONBLOCK ? "nonblocking" : "blocking",
                          fcntl (fd, F_GETFL) & O_NONBLOCK ? "nonblocking" : "blocking");
      respond (fd, out, (size_t) len);
    }
  else if (strcmp (path, "/limits") == 0)
    {
      int f = open ("/proc/self/limits", O_RDONLY);
      ssize_t len = f >= 0 ? read (f, out, sizeof out) : -1;
      if (f >= 0)
        close (f);
      respond (fd, out, len > 0 ? (size_t) len : 0);
    }
  else if (strncmp (path, "/fork/", 6) == 0)
    {
      long want = atol (path + 6), made = 0;
      int len;
      for (long i = 0; i < want; i++)
        {
          pid_t p = fork ();
          if (p == 0)
            {
              sleep (5);
              _exit (0);
            }
          if (p < 0)
            break;
          made++;
        }
      len = snprintf (out, sizeof out, "forked %ld of %ld\n", made, want);
      respond (fd, out, (size_t) len);
    }
  else
    {
      const char *f = getenv ("RUNF_FUNCTION");
      int len = snprintf (out, sizeof out, "hello %s\n", f ? f : "?");
      respond (fd, out, (size_t) len);
    }
}

static int
from_control_socket (void)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/control.sock" };
  char buf[16];
  union
  {
    char b[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { buf, sizeof buf };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.b,
                       .msg_controllen = sizeof control.b };
  int s = socket (AF_UNIX, SOCK_STREAM, 0), fd = -1;
  if (s < 0 || connect (s, (struct sockaddr *) &sa, sizeof sa) < 0 || recvmsg (s, &mh, 0) < 0)
    {
      perror ("fn_handler: /control.sock");
      exit (2);
    }
  for (struct cmsghdr *cm = CMSG_FIRSTHDR (&mh); cm; cm = CMSG_NXTHDR (&mh, cm))
    if (cm->cmsg_type == SCM_RIGHTS)
      memcpy (&fd, CMSG_DATA (cm), sizeof fd);
  close (s);
  return fd;
}

static void
on_term (int sig)
{
  (void) sig;
  _exit (0);
}

static void
draw_token (void)
{
  unsigned char r[16];
  int fd = open ("/dev/urandom", O_RDONLY);
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  born = ts;
  memcpy (r, &ts, sizeof r < sizeof ts ? sizeof r : sizeof ts);
  if (fd >= 0)
    {
      ssize_t ignored = read (fd, r, sizeof r);
      (void) ignored;
      close (fd);
    }
  for (size_t i = 0; i < sizeof r; i++)
    snprintf (token + 2 * i, 3, "%02x", r[i]);
}

static int
http_server (void)
{
  const char *port = getenv ("FN_LISTEN_PORT") ? getenv ("FN_LISTEN_PORT") : getenv ("PORT");
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) atoi (port ? port : "8080")) };
  int one = 1, s;
  if (getenv ("FN_EXIT_AT_START"))
    return atoi (getenv ("FN_EXIT_AT_START"));
  s = socket (AF_INET, SOCK_STREAM, 0);
  setsockopt (s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (s < 0 || bind (s, (struct sockaddr *) &sa, sizeof sa) < 0 || listen (s, 64) < 0)
    {
      perror ("fn_handler: listen");
      return 2;
    }
  for (;;)
    {
      int c = accept (s, NULL, NULL);
      if (c < 0)
        {
          if (errno == EINTR)
            continue;
          return 0;
        }
      serve (c);
      close (c);
    }
}

int
main (void)
{
  const char *mode = getenv ("RUNF_MODE");
  draw_token ();
  if (mode && strcmp (mode, "http") == 0)
    return http_server ();
  if (mode && strcmp (mode, "warm") == 0)
    {
      signal (SIGCHLD, SIG_IGN);
      signal (SIGTERM, on_term);
      for (;;)
        {
          int c = accept (3, NULL, NULL);
          if (c < 0)
            {
              if (errno == EINTR)
                continue;
              return 0;
            }
          if (fork () == 0)
            {
              serve (c);
              _exit (0);
            }
          close (c);
        }
    }
  if (mode && strcmp (mode, "control-socket") == 0)
    for (;;)
      {
        /* One request after another, for as long as runfd hands them
           (with requestsPerInstance 1 it ends the instance instead). */
        int fd = from_control_socket ();
        serve (fd);
        close (fd);
      }
  serve (3);
  return 0;
}
