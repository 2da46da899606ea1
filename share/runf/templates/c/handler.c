/* A runf function in inetd mode: a fresh container per connection, the
   accepted socket as fd 3 and as stdin/stdout (LISTEN_FDS=1, systemd's
   Accept=yes).  Read one request, write one response, exit.  stderr goes
   to the function's log.  Edit handle().

   Built static, it needs nothing of its image: `make` writes out/handler,
   which runfctl image build puts in an image from scratch. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEAD_MAX 16384
#define BODY_MAX (1 << 20)

static void
handle (const char *method, const char *path, const char *body, size_t len, FILE *out)
{
  const char *name = getenv ("RUNF_FUNCTION");
  fprintf (out, "Hello from %s: %s %s\n", name ? name : "__NAME__", method, path);
  fwrite (body, 1, len, out);
}

static void
reply (int fd, const char *status, const char *body, size_t len)
{
  dprintf (fd, "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
               "Connection: close\r\n\r\n", status, len);
  while (len > 0)
    {
      ssize_t n = write (fd, body, len);
      if (n <= 0)
        return;
      body += n;
      len -= (size_t) n;
    }
}

int
main (void)
{
  static char buf[HEAD_MAX + BODY_MAX];
  char method[16], path[2048], *end, *cl, *out = NULL;
  size_t have = 0, need, body_len = 0, out_len = 0;
  /* The socket, or (run by hand) stdin and stdout. */
  int fd = getenv ("LISTEN_FDS") ? 3 : 0, out_fd = fd ? fd : 1;
  FILE *f;

  /* The head, up to its empty line. */
  for (;;)
    {
      ssize_t n = read (fd, buf + have, HEAD_MAX - have);
      if (n <= 0)
        return 1;
      have += (size_t) n;
      buf[have] = '\0';
      if ((end = strstr (buf, "\r\n\r\n")) != NULL)
        break;
      if (have == HEAD_MAX)
        {
          reply (out_fd, "431 Request Header Fields Too Large", "", 0);
          return 1;
        }
    }
  if (sscanf (buf, "%15s %2047s", method, path) != 2)
    {
      reply (out_fd, "400 Bad Request", "", 0);
      return 1;
    }
  cl = strcasestr (buf, "\r\ncontent-length:");
  if (cl && cl < end)
    body_len = strtoul (cl + 17, NULL, 10);
  if (body_len > BODY_MAX)
    {
      reply (out_fd, "413 Content Too Large", "", 0);
      return 1;
    }
  need = (size_t) (end + 4 - buf) + body_len;
  while (have < need)
    {
      ssize_t n = read (fd, buf + have, need - have);
      if (n <= 0)
        return 1;
      have += (size_t) n;
    }
  f = open_memstream (&out, &out_len);
  handle (method, path, end + 4, body_len, f);
  fclose (f);
  reply (out_fd, "200 OK", out, out_len);
  free (out);
  return 0;
}
