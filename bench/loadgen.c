/* loadgen: a small HTTP load generator for loopback benchmarks.
 *
 *   loadgen [-c CONNECTIONS] [-n REQUESTS | -d SECONDS] [-H HOST:PORT] [-p PATH] [-t TIMEOUT]
 *
 * Each of the -c connections loops: connect, send one GET with
 * "Connection: close", read until the server closes, record the latency
 * (from connect to close) and the status.  It stops after -n requests in
 * all, or after -d seconds (default 5) and the requests then in flight.
 * One thread, epoll, non-blocking sockets: the load generator should cost
 * the server's machine little.
 *
 * Prints a human line, then one line of key=value (requests, ok, seconds,
 * rps, p50_ms, p90_ms, p99_ms, max_ms, errors, connect_errors, non2xx,
 * read_errors, timeouts, concurrency).  rps counts 2xx answers; the
 * latencies are theirs.  Exits 1 when no request succeeded. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct
{
  int fd;
  bool sending;       /* connecting, then sending; else reading */
  int64_t start_ns;   /* connect() */
  char status[16];    /* the first bytes of the answer */
  size_t status_len;
} conn_t;

static struct
{
  struct sockaddr_in addr;
  char request[1024];
  size_t request_len;
  int64_t timeout_ns;
  long limit;      /* -n: requests to start in all; 0 for -d */
  int64_t end_ns;  /* -d: no new request after this */
  long started, ok, connect_errors, non2xx, read_errors, timeouts;
  uint32_t *lat_us; /* of the 2xx answers */
  size_t lat_n, lat_size;
  int epfd;
} lg;

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void __attribute__ ((noreturn))
usage (void)
{
  fprintf (stderr, "usage: loadgen [-c CONNECTIONS] [-n REQUESTS | -d SECONDS] [-H HOST:PORT] [-p PATH]"
                   " [-t TIMEOUT_SECONDS]\n");
  exit (2);
}

static void
record_latency (int64_t ns)
{
  if (lg.lat_n == lg.lat_size)
    {
      lg.lat_size = lg.lat_size ? lg.lat_size * 2 : 65536;
      lg.lat_us = realloc (lg.lat_us, lg.lat_size * sizeof *lg.lat_us);
      if (lg.lat_us == NULL)
        abort ();
    }
  lg.lat_us[lg.lat_n++] = (uint32_t) (ns / 1000 > UINT32_MAX ? UINT32_MAX : ns / 1000);
}

static bool
may_start (void)
{
  if (lg.limit > 0)
    return lg.started < lg.limit;
  return now_ns () < lg.end_ns;
}

/* Start the next request on c; false when there is none to start or the
   connect failed at once (counted). */
static bool
conn_start (conn_t *c)
{
  struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

  c->fd = -1;
  if (!may_start ())
    return false;
  lg.started++;
  c->start_ns = now_ns ();
  c->sending = true;
  c->status_len = 0;
  c->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0)
    {
      lg.connect_errors++;
      return false;
    }
  if (connect (c->fd, (struct sockaddr *) &lg.addr, sizeof lg.addr) < 0 && errno != EINPROGRESS)
    {
      close (c->fd);
      c->fd = -1;
      lg.connect_errors++;
      return false;
    }
  if (epoll_ctl (lg.epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
    {
      perror ("loadgen: epoll_ctl");
      exit (1);
    }
  return true;
}

static void
conn_close (conn_t *c)
{
  if (c->fd >= 0)
    close (c->fd); /* also takes it out of the epoll set */
  c->fd = -1;
}

/* The answer is complete: the server closed. */
static void
conn_done (conn_t *c)
{
  int64_t took = now_ns () - c->start_ns;
  bool two_xx = c->status_len >= 12 && memcmp (c->status, "HTTP/1.", 7) == 0 && c->status[9] == '2';

  if (two_xx)
    {
      lg.ok++;
      record_latency (took);
    }
  else if (c->status_len == 0)
    lg.read_errors++; /* closed without a word */
  else
    lg.non2xx++;
  conn_close (c);
}

static void
conn_event (conn_t *c, uint32_t events)
{
  if (c->sending)
    {
      int err = 0;
      socklen_t len = sizeof err;
      struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
      ssize_t n;

      getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0 || (events & EPOLLERR))
        {
          lg.connect_errors++;
          conn_close (c);
          return;
        }
      /* The request is small: one send, or a read error. */
      n = send (c->fd, lg.request, lg.request_len, MSG_NOSIGNAL);
      if (n != (ssize_t) lg.request_len)
        {
          lg.read_errors++;
          conn_close (c);
          return;
        }
      c->sending = false;
      epoll_ctl (lg.epfd, EPOLL_CTL_MOD, c->fd, &ev);
      return;
    }
  for (;;)
    {
      char buf[16384];
      ssize_t n = recv (c->fd, buf, sizeof buf, 0);
      if (n > 0)
        {
          size_t take = sizeof c->status - c->status_len;
          if (take > (size_t) n)
            take = (size_t) n;
          memcpy (c->status + c->status_len, buf, take);
          c->status_len += take;
          continue;
        }
      if (n == 0)
        conn_done (c);
      else if (errno != EAGAIN && errno != EINTR)
        {
          lg.read_errors++;
          conn_close (c);
        }
      return;
    }
}

static int
cmp_u32 (const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
  return x < y ? -1 : x > y;
}

/* Nearest rank, in milliseconds. */
static double
percentile (double p)
{
  size_t rank;
  if (lg.lat_n == 0)
    return 0;
  rank = (size_t) (p / 100.0 * (double) lg.lat_n + 0.999999);
  if (rank < 1)
    rank = 1;
  if (rank > lg.lat_n)
    rank = lg.lat_n;
  return lg.lat_us[rank - 1] / 1000.0;
}

int
main (int argc, char **argv)
{
  const char *hostport = "127.0.0.1:8080", *path = "/";
  char host[256];
  const char *colon;
  int conns = 10, opt;
  double seconds = 0, timeout = 10;
  conn_t *slots;
  int64_t t0, t_end;
  long active = 0, errors;
  double elapsed, rps;

  while ((opt = getopt (argc, argv, "c:n:d:H:p:t:")) != -1)
    switch (opt)
      {
      case 'c': conns = atoi (optarg); break;
      case 'n': lg.limit = atol (optarg); break;
      case 'd': seconds = atof (optarg); break;
      case 'H': hostport = optarg; break;
      case 'p': path = optarg; break;
      case 't': timeout = atof (optarg); break;
      default: usage ();
      }
  if (optind != argc || conns < 1 || conns > 65536 || lg.limit < 0 || seconds < 0 || timeout <= 0
      || (lg.limit > 0 && seconds > 0))
    usage ();
  if (lg.limit == 0 && seconds == 0)
    seconds = 5;
  colon = strrchr (hostport, ':');
  if (colon == NULL || (size_t) (colon - hostport) >= sizeof host)
    usage ();
  snprintf (host, sizeof host, "%.*s", (int) (colon - hostport), hostport);
  lg.addr.sin_family = AF_INET;
  lg.addr.sin_port = htons ((uint16_t) atoi (colon + 1));
  if (inet_pton (AF_INET, host, &lg.addr.sin_addr) != 1)
    {
      fprintf (stderr, "loadgen: %s: not an IPv4 address\n", host);
      return 2;
    }
  lg.request_len = (size_t) snprintf (lg.request, sizeof lg.request,
                                      "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: runf-loadgen\r\n"
                                      "Connection: close\r\n\r\n",
                                      path, hostport);
  if (lg.request_len >= sizeof lg.request)
    usage ();
  lg.timeout_ns = (int64_t) (timeout * 1e9);
  signal (SIGPIPE, SIG_IGN);
  lg.epfd = epoll_create1 (EPOLL_CLOEXEC);
  slots = calloc ((size_t) conns, sizeof *slots);
  if (lg.epfd < 0 || slots == NULL)
    {
      perror ("loadgen");
      return 1;
    }

  t0 = now_ns ();
  lg.end_ns = t0 + (int64_t) (seconds * 1e9);
  for (int i = 0; i < conns; i++)
    {
      while (!conn_start (&slots[i]) && may_start ())
        ;
      if (slots[i].fd >= 0)
        active++;
    }
  t_end = now_ns ();
  while (active > 0)
    {
      struct epoll_event evs[256];
      int n = epoll_wait (lg.epfd, evs, 256, 100);
      int64_t now;

      if (n < 0 && errno != EINTR)
        {
          perror ("loadgen: epoll_wait");
          return 1;
        }
      for (int i = 0; i < n; i++)
        conn_event (evs[i].data.ptr, evs[i].events);
      now = now_ns ();
      /* Refill the slots that finished; time out the ones that hang. */
      active = 0;
      for (int i = 0; i < conns; i++)
        {
          conn_t *c = &slots[i];
          if (c->fd >= 0 && now - c->start_ns > lg.timeout_ns)
            {
              lg.timeouts++;
              conn_close (c);
            }
          if (c->fd < 0)
            {
              t_end = now;
              while (!conn_start (c) && may_start ())
                ;
            }
          if (c->fd >= 0)
            active++;
        }
    }

  elapsed = (double) (t_end - t0) / 1e9;
  if (elapsed <= 0)
    elapsed = 1e-9;
  qsort (lg.lat_us, lg.lat_n, sizeof *lg.lat_us, cmp_u32);
  errors = lg.connect_errors + lg.non2xx + lg.read_errors + lg.timeouts;
  rps = (double) lg.ok / elapsed;
  printf ("%ld requests in %.2f s over %d connections: %.1f requests/s; latency p50 %.2f ms, p90 %.2f ms, "
          "p99 %.2f ms, max %.2f ms; %ld errors (%ld connect, %ld non-2xx, %ld read, %ld timeouts)\n",
          lg.started, elapsed, conns, rps, percentile (50), percentile (90), percentile (99),
          percentile (100), errors, lg.connect_errors, lg.non2xx, lg.read_errors, lg.timeouts);
  printf ("requests=%ld ok=%ld seconds=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f "
          "errors=%ld connect_errors=%ld non2xx=%ld read_errors=%ld timeouts=%ld concurrency=%d\n",
          lg.started, lg.ok, elapsed, rps, percentile (50), percentile (90), percentile (99), percentile (100),
          errors, lg.connect_errors, lg.non2xx, lg.read_errors, lg.timeouts, conns);
  free (lg.lat_us);
  free (slots);
  return lg.ok > 0 ? 0 : 1;
}
