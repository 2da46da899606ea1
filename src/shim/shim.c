/* runf-shim: any command as an HTTP handler (the stdio handler mode).
 *
 *   runf-shim -- CMD ARGS...
 *
 * Started like an inetd handler: the client's socket is fd 3 (LISTEN_FDS=1)
 * and also stdin and stdout.  The shim reads one request, runs CMD with the
 * body on its stdin and the request in CGI variables, and answers with what
 * CMD wrote on stdout (CGI header lines first, if it wrote any).  The body
 * streams through; the output is kept in memory up to OUT_MEM_MAX, then in
 * a memfd, so neither is held whole in the heap.  docs/functions.md is the
 * reference.
 *
 * It is linked statically and bind-mounted into containers whose images
 * have no libc of their own, so it uses nothing but libc and http.c. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/http.h"

#define REQUEST_LINE_MAX 8192
#define HEAD_MAX 32768
#define IO_CHUNK 65536
#define OUT_MEM_MAX (1024 * 1024)
#define CGI_HEAD_MAX 16384
#define LINGER_MS 1000
#define EXIT_REQUEST_ERROR 2 /* the shim answered a bad request by itself */

extern char **environ;

static struct
{
  int in, out;         /* the client connection (often one fd) */
  int timeout_ms;      /* RUNF_SHIM_READ_TIMEOUT */
  uint64_t max_body;   /* RUNF_SHIM_MAX_BODY */
  uint64_t max_output; /* RUNF_SHIM_MAX_OUTPUT */
  pid_t child;
} shim = { .in = 0, .out = 1, .child = -1 };

/* The command's stdout: the first OUT_MEM_MAX bytes in mem, the rest in
   spill (a memfd), so a large answer costs no heap. */
typedef struct
{
  char *mem;
  size_t mem_len, mem_size;
  int spill;
  uint64_t total;
} output_t;

static void
note (const char *fmt, ...)
{
  va_list ap;
  fputs ("runf-shim: ", stderr);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
}

static uint64_t
env_number (const char *name, uint64_t def, uint64_t min, uint64_t max)
{
  const char *v = getenv (name);
  char *end;
  unsigned long long n;

  if (v == NULL || *v == '\0')
    return def;
  errno = 0;
  n = strtoull (v, &end, 10);
  if (errno || *end || n < min || n > max || *v == '-')
    {
      note ("%s=%s: not a number from %llu to %llu; using %llu", name, v, (unsigned long long) min,
            (unsigned long long) max, (unsigned long long) def);
      return def;
    }
  return n;
}

static long long
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events, at most timeout_ms (-1: forever).
   1 ready, 0 timed out, -1 error. */
static int
wait_fd (int fd, short events, int timeout_ms)
{
  struct pollfd p = { .fd = fd, .events = events };
  long long deadline = timeout_ms < 0 ? 0 : now_ms () + timeout_ms;

  for (;;)
    {
      int left = timeout_ms < 0 ? -1 : (int) (deadline - now_ms ());
      int r;
      if (timeout_ms >= 0 && left < 0)
        left = 0;
      r = poll (&p, 1, left);
      if (r > 0)
        return 1;
      if (r == 0)
        return 0;
      if (errno != EINTR)
        return -1;
    }
}

/* Read what is there within timeout_ms: bytes, 0 at EOF, -1 on error,
   -2 on timeout. */
static ssize_t
read_some (int fd, char *buf, size_t len, int timeout_ms)
{
  int w = wait_fd (fd, POLLIN, timeout_ms);
  ssize_t n;

  if (w <= 0)
    return w == 0 ? -2 : -1;
  do
    n = read (fd, buf, len);
  while (n < 0 && errno == EINTR);
  return n;
}

/* Write all of buf to the client; each step must make progress within
   the timeout.  Sockets are written without blocking so that the timeout
   holds; SIGPIPE is ignored, so a gone client is EPIPE. */
static int
write_all (int fd, const char *buf, size_t len)
{
  bool sock = true;

  while (len > 0)
    {
      ssize_t n;
      if (wait_fd (fd, POLLOUT, shim.timeout_ms) <= 0)
        return -1;
      n = sock ? send (fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) : write (fd, buf, len);
      if (n < 0 && errno == ENOTSOCK && sock)
        {
          sock = false;
          continue;
        }
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n <= 0)
        return -1;
      buf += n;
      len -= (size_t) n;
    }
  return 0;
}

/* Let the client see the whole answer: end our side, then read (and drop)
   what it still sends for a moment, since closing with unread input would
   reset the connection and could destroy the answer in flight. */
static void
finish_connection (void)
{
  char buf[4096];
  long long deadline = now_ms () + LINGER_MS;
  size_t drained = 0;

  if (shutdown (shim.out, SHUT_WR) < 0)
    return;
  while (drained < (1u << 20))
    {
      long long left = deadline - now_ms ();
      ssize_t n;
      if (left <= 0)
        break;
      n = read_some (shim.in, buf, sizeof buf, (int) left);
      if (n <= 0)
        break;
      drained += (size_t) n;
    }
}

static void
kill_child (void)
{
  if (shim.child > 0)
    {
      kill (shim.child, SIGKILL);
      while (waitpid (shim.child, NULL, 0) < 0 && errno == EINTR)
        ;
      shim.child = -1;
    }
}

/* Answer a request the command does not see (or no longer may answer),
   and exit. */
static void __attribute__ ((noreturn))
fail (int status, int exit_code, const char *fmt, ...)
{
  char msg[512], resp[1024];
  va_list ap;
  int n, len;

  kill_child ();
  va_start (ap, fmt);
  n = vsnprintf (msg, sizeof msg - 1, fmt, ap);
  va_end (ap);
  if (n < 0)
    n = 0;
  if ((size_t) n > sizeof msg - 2)
    n = sizeof msg - 2;
  note ("%d: %s", status, msg);
  msg[n++] = '\n';
  len = rf_http_format_response (resp, sizeof resp, status, "text/plain", msg, (size_t) n);
  if (len > 0 && (size_t) len < sizeof resp)
    write_all (shim.out, resp, (size_t) len);
  finish_connection ();
  exit (exit_code);
}

static int
parse_error_status (long r)
{
  switch (r)
    {
    case RF_HTTP_URI_LONG: return 414;
    case RF_HTTP_HEAD_LONG: return 431;
    default: return 400;
    }
}

/* Read the request head into buf: its length; *len is all that was read
   (the head and maybe the start of the body).  The whole head must come
   within the read timeout, so a client dribbling bytes cannot hold the
   handler. */
static size_t
read_head (char *buf, size_t *len, rf_http_request_t *req)
{
  long long deadline = now_ms () + shim.timeout_ms;

  for (;;)
    {
      long long left = deadline - now_ms ();
      ssize_t n;
      long r;

      n = read_some (shim.in, buf + *len, HEAD_MAX - *len, left > 0 ? (int) left : 0);
      if (n == -2)
        fail (408, EXIT_REQUEST_ERROR, "no complete request within %d s", shim.timeout_ms / 1000);
      if (n < 0)
        {
          note ("read the request: %s", strerror (errno));
          exit (EXIT_REQUEST_ERROR);
        }
      if (n == 0)
        {
          if (*len == 0)
            exit (0); /* connected and left: nothing to answer */
          fail (400, EXIT_REQUEST_ERROR, "the request ends inside its head");
        }
      *len += (size_t) n;
      r = rf_http_parse_request_line (buf, *len, REQUEST_LINE_MAX, req);
      if (r > 0)
        r = rf_http_parse_head (buf, *len, HEAD_MAX, req);
      if (r > 0)
        return (size_t) r;
      if (r < 0)
        fail (parse_error_status (r), EXIT_REQUEST_ERROR, "%s",
              r == RF_HTTP_URI_LONG    ? "the request line is too long"
              : r == RF_HTTP_HEAD_LONG ? "the request's headers are too large"
                                       : "malformed request");
    }
}

/* --- the command's environment ------------------------------------------ */

typedef struct
{
  char **v;
  size_t n, size;
} strv_t;

static void
strv_add (strv_t *s, char *entry)
{
  if (s->n + 2 > s->size)
    {
      s->size = s->size ? s->size * 2 : 64;
      s->v = realloc (s->v, s->size * sizeof *s->v);
      if (s->v == NULL)
        abort ();
    }
  s->v[s->n++] = entry;
  s->v[s->n] = NULL;
}

static char *
format (const char *fmt, ...)
{
  va_list ap;
  char *s;
  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) < 0)
    abort ();
  va_end (ap);
  return s;
}

static void
set_var (strv_t *env, const char *name, const char *value, size_t len)
{
  strv_add (env, format ("%s=%.*s", name, (int) len, value));
}

/* Variables of the environment the shim got that the request's own would
   contradict: CGI names, HTTP_*, and the socket activation of the shim. */
static bool
request_owned_p (const char *entry)
{
  static const char *const names[] = {
    "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "GATEWAY_INTERFACE", "SERVER_SOFTWARE",
    "SERVER_PROTOCOL", "SERVER_NAME", "SERVER_ADDR", "SERVER_PORT", "REMOTE_ADDR", "REMOTE_PORT",
    "REQUEST_METHOD", "REQUEST_URI", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_LENGTH",
    "CONTENT_TYPE",
  };
  size_t len = strcspn (entry, "=");

  if (strncmp (entry, "HTTP_", 5) == 0)
    return true;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strlen (names[i]) == len && strncmp (entry, names[i], len) == 0)
      return true;
  return false;
}

static void
add_address (strv_t *env, const char *addr_var, const char *port_var, const struct sockaddr_storage *ss)
{
  char host[INET6_ADDRSTRLEN];
  unsigned port;

  if (ss->ss_family == AF_INET)
    {
      const struct sockaddr_in *in = (const struct sockaddr_in *) ss;
      inet_ntop (AF_INET, &in->sin_addr, host, sizeof host);
      port = ntohs (in->sin_port);
    }
  else if (ss->ss_family == AF_INET6)
    {
      const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) ss;
      inet_ntop (AF_INET6, &in6->sin6_addr, host, sizeof host);
      port = ntohs (in6->sin6_port);
    }
  else
    return;
  strv_add (env, format ("%s=%s", addr_var, host));
  strv_add (env, format ("%s=%u", port_var, port));
}

static int
hex_digit (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
    return (c | 0x20) - 'a' + 10;
  return -1;
}

/* The path, percent-decoded as CGI's PATH_INFO is; a %00 cannot be put in
   the environment and is an error. */
static char *
decode_path (const char *p, size_t len)
{
  char *out = malloc (len + 1), *o = out;

  if (out == NULL)
    abort ();
  for (size_t i = 0; i < len; i++)
    {
      int hi, lo;
      if (p[i] == '%' && i + 2 < len && (hi = hex_digit (p[i + 1])) >= 0 && (lo = hex_digit (p[i + 2])) >= 0)
        {
          if (hi == 0 && lo == 0)
            fail (400, EXIT_REQUEST_ERROR, "%%00 in the path");
          *o++ = (char) (hi * 16 + lo);
          i += 2;
        }
      else
        *o++ = p[i];
    }
  *o = '\0';
  return out;
}

static strv_t
build_environment (const rf_http_request_t *req)
{
  strv_t env = { 0 };
  const char *target = req->target, *path, *query, *prefix, *v;
  size_t target_len = req->target_len, path_len, len;
  struct sockaddr_storage ss;
  socklen_t sl;

  for (char **e = environ; *e; e++)
    if (!request_owned_p (*e))
      strv_add (&env, strdup (*e));

  strv_add (&env, strdup ("GATEWAY_INTERFACE=CGI/1.1"));
  strv_add (&env, strdup ("SERVER_SOFTWARE=runf-shim"));
  strv_add (&env, format ("SERVER_PROTOCOL=HTTP/1.%d", req->minor_version));
  set_var (&env, "REQUEST_METHOD", req->method, req->method_len);
  set_var (&env, "REQUEST_URI", target, target_len);

  /* absolute-form ("http://host/path") names the path after the host. */
  path = target;
  if (target_len > 7 && (strncasecmp (target, "http://", 7) == 0 || strncasecmp (target, "https://", 8) == 0))
    {
      const char *host = memchr (target, ':', target_len) + 3;
      const char *slash = memchr (host, '/', (size_t) (target + target_len - host));
      const char *q = memchr (host, '?', (size_t) (target + target_len - host));
      path = slash && (!q || slash < q) ? slash : (q ? q : target + target_len);
    }
  query = memchr (path, '?', (size_t) (target + target_len - path));
  path_len = (size_t) ((query ? query : target + target_len) - path);
  if (query)
    set_var (&env, "QUERY_STRING", query + 1, (size_t) (target + target_len - query - 1));
  else
    strv_add (&env, strdup ("QUERY_STRING="));

  /* Through the shared gateway, the prefix names the function (SCRIPT_NAME)
     and PATH_INFO is what follows it. */
  prefix = getenv ("RUNF_PATH_PREFIX");
  if (prefix && *prefix && rf_http_path_has_prefix (path, path_len, prefix))
    {
      size_t pl = strlen (prefix);
      set_var (&env, "SCRIPT_NAME", prefix, pl);
      path += pl;
      path_len -= pl;
    }
  else
    strv_add (&env, strdup ("SCRIPT_NAME="));
  {
    char *decoded = decode_path (path, path_len);
    strv_add (&env, format ("PATH_INFO=%s", decoded));
    free (decoded);
  }

  if (req->content_length > 0)
    strv_add (&env, format ("CONTENT_LENGTH=%lld", (long long) req->content_length));
  if ((v = rf_http_header (req, "Content-Type", &len)))
    set_var (&env, "CONTENT_TYPE", v, len);

  sl = sizeof ss;
  if (getsockname (shim.in, (struct sockaddr *) &ss, &sl) == 0)
    add_address (&env, "SERVER_ADDR", "SERVER_PORT", &ss);
  sl = sizeof ss;
  if (getpeername (shim.in, (struct sockaddr *) &ss, &sl) == 0)
    add_address (&env, "REMOTE_ADDR", "REMOTE_PORT", &ss);
  if ((v = rf_http_header (req, "Host", &len)) && len > 0)
    {
      /* The host without its port ("[::1]:80" keeps its brackets). */
      const char *colon = memrchr (v, ':', len);
      if (colon && !memchr (colon, ']', (size_t) (v + len - colon)))
        len = (size_t) (colon - v);
      set_var (&env, "SERVER_NAME", v, len);
    }

  /* HTTP_<NAME>, repeated fields joined with ", ".  Names with '_' are
     dropped: "X_Y" and "X-Y" would both become HTTP_X_Y, and a client
     could pass one off as the other.  Proxy is dropped (httpoxy). */
  for (size_t i = 0; i < req->n_headers; i++)
    {
      const rf_http_header_t *h = &req->headers[i];
      char *entry;
      size_t off;
      bool seen = false;

      if (memchr (h->name, '_', h->name_len)
          || (h->name_len == 14 && strncasecmp (h->name, "Content-Length", 14) == 0)
          || (h->name_len == 12 && strncasecmp (h->name, "Content-Type", 12) == 0)
          || (h->name_len == 5 && strncasecmp (h->name, "Proxy", 5) == 0))
        continue;
      for (size_t j = 0; j < i && !seen; j++)
        seen = req->headers[j].name_len == h->name_len
               && strncasecmp (req->headers[j].name, h->name, h->name_len) == 0;
      if (seen)
        continue;
      entry = format ("HTTP_%.*s=%.*s", (int) h->name_len, h->name, (int) h->value_len, h->value);
      for (off = 5; entry[off] != '='; off++)
        entry[off] = entry[off] == '-' ? '_' : (char) toupper ((unsigned char) entry[off]);
      for (size_t j = i + 1; j < req->n_headers; j++)
        {
          const rf_http_header_t *o = &req->headers[j];
          if (o->name_len == h->name_len && strncasecmp (o->name, h->name, h->name_len) == 0)
            {
              char *joined = format ("%s, %.*s", entry, (int) o->value_len, o->value);
              free (entry);
              entry = joined;
            }
        }
      strv_add (&env, entry);
    }
  return env;
}

/* --- running the command -------------------------------------------------- */

#define EXIT_SHIM_FAILURE 125 /* the shim itself failed (as env(1) and docker use it) */

static void
output_add (output_t *o, const char *buf, size_t len)
{
  if (o->total + len > shim.max_output)
    fail (500, EXIT_SHIM_FAILURE, "the command wrote more than RUNF_SHIM_MAX_OUTPUT (%llu bytes)",
          (unsigned long long) shim.max_output);
  o->total += len;
  if (o->spill < 0 && o->mem_len + len <= OUT_MEM_MAX)
    {
      if (o->mem_len + len > o->mem_size)
        {
          size_t size = o->mem_size ? o->mem_size : 16384;
          while (size < o->mem_len + len)
            size *= 2;
          o->mem = realloc (o->mem, size);
          if (o->mem == NULL)
            abort ();
          o->mem_size = size;
        }
      memcpy (o->mem + o->mem_len, buf, len);
      o->mem_len += len;
      return;
    }
  if (o->spill < 0)
    {
      o->spill = memfd_create ("runf-shim-output", MFD_CLOEXEC);
      if (o->spill < 0)
        o->spill = open ("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
      if (o->spill < 0)
        fail (500, EXIT_SHIM_FAILURE, "no room for more than %d bytes of output: %s", OUT_MEM_MAX,
              strerror (errno));
    }
  while (len > 0)
    {
      ssize_t n = write (o->spill, buf, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        fail (500, EXIT_SHIM_FAILURE, "keep the command's output: %s", strerror (errno));
      buf += n;
      len -= (size_t) n;
    }
}

/* CMD with its stdin and stdout on pipes whose other ends are returned
   (non-blocking); stderr is the shim's (the function's log). */
static void
spawn_command (char **argv, char **envp, int *to_child, int *from_child)
{
  int in[2], out[2], rc;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t none, pipe_only;

  if (pipe2 (in, O_CLOEXEC) < 0 || pipe2 (out, O_CLOEXEC) < 0)
    fail (500, EXIT_SHIM_FAILURE, "pipe: %s", strerror (errno));
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, in[0], 0);
  posix_spawn_file_actions_adddup2 (&fa, out[1], 1);
  posix_spawnattr_init (&attr);
  sigemptyset (&none);
  sigemptyset (&pipe_only);
  sigaddset (&pipe_only, SIGPIPE);
  /* The shim ignores SIGPIPE; the command gets the default back. */
  posix_spawnattr_setsigdefault (&attr, &pipe_only);
  posix_spawnattr_setsigmask (&attr, &none);
  posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  rc = posix_spawnp (&shim.child, argv[0], &fa, &attr, argv, envp);
  posix_spawn_file_actions_destroy (&fa);
  posix_spawnattr_destroy (&attr);
  close (in[0]);
  close (out[1]);
  if (rc != 0)
    {
      shim.child = -1;
      fail (500, rc == ENOENT ? 127 : 126, "run `%s`: %s", argv[0], strerror (rc));
    }
  fcntl (in[1], F_SETFL, O_NONBLOCK);
  fcntl (out[0], F_SETFL, O_NONBLOCK);
  *to_child = in[1];
  *from_child = out[0];
}

/* The request body, as it streams from the client to the command. */
typedef struct
{
  bool chunked, done;
  uint64_t left; /* of a Content-Length body */
  uint64_t total;
  rf_http_chunked_t decoder;
  char *pending; /* decoded, not yet written to the command */
  size_t pending_len;
} body_t;

static void
body_feed (body_t *b, char *buf, size_t len)
{
  b->pending = buf;
  if (b->chunked)
    {
      size_t consumed = 0;
      long got = rf_http_chunked_decode (&b->decoder, buf, len, &consumed);
      if (got < 0)
        fail (400, EXIT_REQUEST_ERROR, "malformed chunked body");
      b->pending_len = (size_t) got;
      b->done = b->decoder.done;
    }
  else
    {
      b->pending_len = len < b->left ? len : (size_t) b->left;
      b->left -= b->pending_len;
      b->done = b->left == 0;
    }
  b->total += b->pending_len;
  if (b->total > shim.max_body)
    fail (413, EXIT_REQUEST_ERROR, "the body is larger than %llu bytes", (unsigned long long) shim.max_body);
}

/* Stream the body to the command and collect what it writes, until the
   body is in and the command has closed its stdout.  The client must keep
   the body coming: RUNF_SHIM_READ_TIMEOUT without a byte is a 408. */
static void
run_exchange (body_t *body, int to_child, int from_child, output_t *out)
{
  static char rbuf[IO_CHUNK], obuf[IO_CHUNK];
  long long deadline = 0;
  bool waiting = false;

  for (;;)
    {
      struct pollfd p[3];
      int n = 0, isock = -1, ichild_in = -1, ichild_out = -1, r, timeout = -1;

      if (to_child < 0)
        body->pending_len = 0; /* the command stopped reading: the rest is dropped */
      if (body->done && body->pending_len == 0 && to_child >= 0)
        {
          close (to_child);
          to_child = -1;
        }
      if (body->done && to_child < 0 && from_child < 0)
        return;
      if (!body->done && body->pending_len == 0)
        {
          if (!waiting)
            deadline = now_ms () + shim.timeout_ms;
          waiting = true;
          timeout = (int) (deadline - now_ms ());
          if (timeout < 0)
            timeout = 0;
          p[isock = n++] = (struct pollfd) { .fd = shim.in, .events = POLLIN };
        }
      else
        waiting = false;
      if (body->pending_len > 0)
        p[ichild_in = n++] = (struct pollfd) { .fd = to_child, .events = POLLOUT };
      if (from_child >= 0)
        p[ichild_out = n++] = (struct pollfd) { .fd = from_child, .events = POLLIN };

      r = poll (p, (nfds_t) n, timeout);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        fail (500, EXIT_SHIM_FAILURE, "poll: %s", strerror (errno));
      if (r == 0 && isock >= 0 && now_ms () >= deadline)
        fail (408, EXIT_REQUEST_ERROR, "the body stopped coming: nothing for %d s, %llu bytes short",
              shim.timeout_ms / 1000, body->chunked ? 0ULL : (unsigned long long) body->left);

      if (ichild_out >= 0 && p[ichild_out].revents)
        {
          ssize_t got = read (from_child, obuf, sizeof obuf);
          if (got > 0)
            output_add (out, obuf, (size_t) got);
          else if (got == 0 || (errno != EAGAIN && errno != EINTR))
            {
              close (from_child);
              from_child = -1;
            }
        }
      if (ichild_in >= 0 && p[ichild_in].revents)
        {
          ssize_t put = write (to_child, body->pending, body->pending_len);
          if (put > 0)
            {
              body->pending += put;
              body->pending_len -= (size_t) put;
            }
          else if (errno != EAGAIN && errno != EINTR)
            {
              close (to_child); /* EPIPE: the command is done with its stdin */
              to_child = -1;
            }
        }
      if (isock >= 0 && p[isock].revents)
        {
          ssize_t got = read (shim.in, rbuf, sizeof rbuf);
          if (got == 0)
            fail (400, EXIT_REQUEST_ERROR, "the client ended the connection inside the body");
          if (got < 0 && errno != EAGAIN && errno != EINTR)
            {
              note ("read the body: %s", strerror (errno));
              kill_child ();
              exit (EXIT_REQUEST_ERROR);
            }
          if (got > 0)
            {
              waiting = false;
              body_feed (body, rbuf, (size_t) got);
            }
        }
    }
}

/* --- the response ----------------------------------------------------------- */

static bool
token_char_p (unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
         || (c && strchr ("!#$%&'*+-.^_`|~", c));
}

typedef struct
{
  int status;
  char reason[64];
  char *headers; /* "Name: value\r\n"..., from the command */
  size_t headers_len;
  bool has_type;
  size_t head_len; /* bytes of output that were CGI header lines */
} answer_t;

/* When the output starts with CGI header lines and an empty line, take
   them: their length; 0 when the output is all body. */
static size_t
cgi_head_length (const char *buf, size_t len)
{
  size_t off = 0, limit = len < CGI_HEAD_MAX ? len : CGI_HEAD_MAX;

  while (off < limit)
    {
      const char *line = buf + off, *nl = memchr (line, '\n', limit - off), *end, *colon;
      if (nl == NULL)
        return 0;
      end = nl > line && nl[-1] == '\r' ? nl - 1 : nl;
      if (end == line)
        return off == 0 ? 0 : (size_t) (nl - buf + 1);
      colon = memchr (line, ':', (size_t) (end - line));
      if (colon == NULL || colon == line)
        return 0;
      for (const char *c = line; c < colon; c++)
        if (!token_char_p ((unsigned char) *c))
          return 0;
      for (const char *c = colon + 1; c < end; c++)
        if (((unsigned char) *c < ' ' && *c != '\t') || *c == 0x7f)
          return 0;
      off = (size_t) (nl - buf + 1);
    }
  return 0;
}

static bool
name_eq (const char *name, size_t len, const char *want)
{
  return len == strlen (want) && strncasecmp (name, want, len) == 0;
}

static void
make_answer (const output_t *out, int exit_status, answer_t *a)
{
  size_t head = cgi_head_length (out->mem, out->mem_len), off = 0;
  bool has_location = false, has_status = false;

  memset (a, 0, sizeof *a);
  a->head_len = head;
  if (head == 0)
    {
      a->status = exit_status != 0 && out->total == 0 ? 500 : 200;
      return;
    }
  /* Each line may grow by two bytes: ": " for ":", CRLF for LF. */
  a->headers = malloc (2 * head + 1);
  if (a->headers == NULL)
    abort ();
  while (off < head)
    {
      const char *line = out->mem + off, *nl = memchr (line, '\n', head - off);
      const char *end = nl > line && nl[-1] == '\r' ? nl - 1 : nl;
      const char *colon = memchr (line, ':', (size_t) (end - line)), *v = colon + 1;
      size_t name_len;

      off = (size_t) (nl - out->mem + 1);
      if (end == line)
        break;
      name_len = (size_t) (colon - line);
      while (v < end && (*v == ' ' || *v == '\t'))
        v++;
      while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
      if (name_eq (line, name_len, "Status"))
        {
          size_t vl = (size_t) (end - v);
          if (vl < 3 || v[0] < '2' || v[0] > '5' || v[1] < '0' || v[1] > '9' || v[2] < '0' || v[2] > '9'
              || (vl > 3 && v[3] != ' '))
            fail (500, EXIT_SHIM_FAILURE, "the command's Status is not a status from 200 to 599: %.*s",
                  (int) (vl > 64 ? 64 : vl), v);
          a->status = (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
          if (vl > 4)
            snprintf (a->reason, sizeof a->reason, "%.*s", (int) (vl - 4), v + 4);
          has_status = true;
          continue;
        }
      /* Framing is the shim's to say. */
      if (name_eq (line, name_len, "Content-Length") || name_eq (line, name_len, "Transfer-Encoding")
          || name_eq (line, name_len, "Connection"))
        continue;
      if (name_eq (line, name_len, "Location"))
        has_location = true;
      if (name_eq (line, name_len, "Content-Type"))
        a->has_type = true;
      a->headers_len += (size_t) sprintf (a->headers + a->headers_len, "%.*s: %.*s\r\n", (int) name_len,
                                          line, (int) (end - v), v);
    }
  if (!has_status)
    a->status = has_location ? 302 : 200;
}

static void
send_response (const rf_http_request_t *req, const output_t *out, const answer_t *a)
{
  uint64_t body_len = out->total - a->head_len;
  bool no_body = a->status == 204 || a->status == 304;
  bool head_only = name_eq (req->method, req->method_len, "HEAD");
  size_t size = a->headers_len + 512, len;
  char *head = malloc (size);

  if (head == NULL)
    abort ();
  len = (size_t) snprintf (head, size, "HTTP/1.1 %d %s\r\n%s%.*s", a->status,
                           a->reason[0] ? a->reason : rf_http_reason (a->status),
                           a->has_type ? "" : "Content-Type: text/plain\r\n", (int) a->headers_len,
                           a->headers ? a->headers : "");
  if (!no_body)
    len += (size_t) snprintf (head + len, size - len, "Content-Length: %llu\r\n", (unsigned long long) body_len);
  len += (size_t) snprintf (head + len, size - len, "Connection: close\r\n\r\n");
  if (write_all (shim.out, head, len) < 0)
    goto gone;
  if (no_body || head_only)
    goto done;
  if (out->mem_len > a->head_len && write_all (shim.out, out->mem + a->head_len, out->mem_len - a->head_len) < 0)
    goto gone;
  if (out->spill >= 0)
    {
      static char buf[IO_CHUNK];
      off_t off = 0;
      for (;;)
        {
          ssize_t n = pread (out->spill, buf, sizeof buf, off);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            break;
          if (write_all (shim.out, buf, (size_t) n) < 0)
            goto gone;
          off += n;
        }
    }
done:
  free (head);
  return;
gone:
  note ("the client went away before the whole answer: %s", strerror (errno));
  free (head);
}

/* A closed 0, 1 or 2 would be taken by the pipes and then mixed up with
   the command's stdio. */
static void
ensure_stdio (void)
{
  for (int fd = 0; fd < 3; fd++)
    if (fcntl (fd, F_GETFD) < 0)
      {
        int n = open ("/dev/null", O_RDWR);
        if (n >= 0 && n != fd)
          {
            dup2 (n, fd);
            close (n);
          }
      }
}

int
main (int argc, char **argv)
{
  static char headbuf[HEAD_MAX];
  char **cmd = argv + 1;
  const char *listen_fds = getenv ("LISTEN_FDS"), *expect;
  rf_http_request_t req;
  size_t got = 0, head_len, expect_len = 0;
  body_t body = { 0 };
  output_t out = { .spill = -1 };
  answer_t answer;
  strv_t env;
  int to_child, from_child, status = 0, exit_status;

  if (argc > 1 && strcmp (argv[1], "--") == 0)
    cmd++;
  if (*cmd == NULL)
    {
      fputs ("usage: runf-shim -- CMD [ARG]...\n", stderr);
      return EXIT_SHIM_FAILURE;
    }
  ensure_stdio ();
  signal (SIGPIPE, SIG_IGN);
  /* Socket activation: the connection is fd 3.  Otherwise stdin/stdout. */
  if (listen_fds && atoi (listen_fds) >= 1 && fcntl (3, F_GETFD) >= 0)
    shim.in = shim.out = 3;
  /* Nothing but the pipes reaches the command: not the client's socket. */
  if (close_range (3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    for (int fd = 3; fd < 1024; fd++)
      fcntl (fd, F_SETFD, FD_CLOEXEC);
  shim.timeout_ms = (int) env_number ("RUNF_SHIM_READ_TIMEOUT", 10, 1, 3600) * 1000;
  shim.max_body = env_number ("RUNF_SHIM_MAX_BODY", 64ULL << 20, 0, 1ULL << 50);
  shim.max_output = env_number ("RUNF_SHIM_MAX_OUTPUT", 256ULL << 20, 0, 1ULL << 50);

  head_len = read_head (headbuf, &got, &req);
  body.chunked = req.chunked;
  body.left = req.content_length > 0 ? (uint64_t) req.content_length : 0;
  body.done = !body.chunked && body.left == 0;
  if (!body.chunked && body.left > shim.max_body)
    fail (413, EXIT_REQUEST_ERROR, "the body is larger than %llu bytes", (unsigned long long) shim.max_body);
  /* A client that asked first waits for the go-ahead before the body. */
  expect = rf_http_header (&req, "Expect", &expect_len);
  if (expect && expect_len == 12 && strncasecmp (expect, "100-continue", 12) == 0 && !body.done
      && req.minor_version == 1 && got == head_len)
    write_all (shim.out, "HTTP/1.1 100 Continue\r\n\r\n", 25);

  env = build_environment (&req);
  spawn_command (cmd, env.v, &to_child, &from_child);
  if (got > head_len && !body.done)
    body_feed (&body, headbuf + head_len, got - head_len);
  run_exchange (&body, to_child, from_child, &out);

  while (waitpid (shim.child, &status, 0) < 0)
    if (errno != EINTR)
      fail (500, EXIT_SHIM_FAILURE, "wait for the command: %s", strerror (errno));
  shim.child = -1;
  exit_status = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);

  make_answer (&out, exit_status, &answer);
  send_response (&req, &out, &answer);
  finish_connection ();
  return exit_status;
}
