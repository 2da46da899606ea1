/* One HTTP request at a time between a client and a handler that runfd
 * does not hand the client's socket to: connections that come through
 * the shared gateway (or the admin socket's /function/...), where the
 * next request on the same connection may name another function.
 *
 * The relay forwards exactly one request: its head (whole, the listener
 * waited for it), then its body as Content-Length or the chunked coding
 * say, reading from the client no byte past the request, so that whatever
 * the client sends next stays in the socket for runfd to route.  It
 * forwards the answer until its own framing ends it (1xx answers first,
 * no body for HEAD, 204 and 304), then gives the client's connection back
 * to its owner for the next request.  An answer that ends only with the
 * connection, a request or answer that asks to close, and a protocol
 * switch (101) keep the relay to the end of the connection.
 *
 * Work per byte is a recv and a send, never more than a buffer at a time;
 * nothing blocks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/http.h"
#include "relay.h"

#define HEAD_MAX 65536 /* the most a head may take, either way */
#define BUF_SIZE 65536

typedef enum
{
  BODY_NONE,
  BODY_LENGTH,
  BODY_CHUNKED,
  BODY_UNTIL_CLOSE, /* answers only */
  BODY_DONE,
} body_t;

struct rfd_relay
{
  rfd_watch_t client, inner;
  rfd_timer_t idle;
  uint64_t idle_ns;
  rfd_relay_end_fn on_end;
  rfd_relay_unanswered_fn on_unanswered;
  void *data;
  char *strip; /* a prefix the request's target loses, or NULL */

  /* client -> inner */
  char *up;
  size_t up_len;
  bool request_head_seen; /* the head is parsed, its framing known */
  size_t head_left;       /* bytes of the head still to take */
  size_t head_total;      /* the head's size */
  body_t req_body;
  uint64_t req_left;
  rf_http_chunked_t req_chunks;
  bool head_request;   /* HEAD: the answer has no body */
  bool req_keep_alive;
  bool client_eof; /* read to its end */
  bool client_hup; /* it shut down its side: no other request comes */

  /* inner -> client */
  char *down;
  size_t down_len;  /* bytes waiting to go to the client */
  size_t down_head; /* of those, bytes of an answer head not parsed yet */
  bool in_head;     /* reading an answer's head */
  body_t res_body;
  uint64_t res_left;
  rf_http_chunked_t res_chunks;
  bool res_keep_alive;
  bool inner_eof;
  uint64_t answered; /* bytes the handler sent */

  bool tunnel; /* 101: bytes both ways, to the end */
  bool awaiting_verdict; /* the handler is gone without a word: the owner says why */
  bool ending;
};

static void relay_pump (rfd_relay_t *r);
static bool pull_answer (rfd_relay_t *r);

static void
relay_destroy (void *p)
{
  rfd_relay_t *r = p;
  free (r->up);
  free (r->down);
  free (r->strip);
  free (r);
}

/* The end: give the client's connection back when it may carry another
   request, else close it. */
static void
relay_end (rfd_relay_t *r, bool reusable)
{
  int client = -1;
  if (r->ending)
    return;
  r->ending = true;
  rfd_timer_cancel (&r->idle);
  rfd_watch_close (&r->inner);
  rfd_watch_del (&r->client);
  if (reusable && !r->client_eof && !r->client_hup)
    client = r->client.fd;
  else if (r->client.fd >= 0)
    rfd_linger_close (r->client.fd);
  r->client.fd = -1;
  if (r->on_end)
    r->on_end (r, client, r->data);
  else if (client >= 0)
    close (client); /* its owner let go: nobody to route it */
  rfd_defer_free (r, relay_destroy);
}

void
rfd_relay_fail (rfd_relay_t *r, int status, const char *body)
{
  char buf[1024];
  int n;
  if (r->ending)
    return;
  n = rf_http_format_response (buf, sizeof buf, status, "text/plain", body, strlen (body));
  if (r->answered == 0 && n > 0 && (size_t) n < sizeof buf)
    {
      ssize_t ignored = send (r->client.fd, buf, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT);
      (void) ignored;
    }
  relay_end (r, false);
}

void
rfd_relay_detach (rfd_relay_t *r)
{
  r->on_unanswered = NULL;
  r->on_end = NULL;
  r->data = NULL;
}

void
rfd_relay_handover (rfd_relay_t *r, rfd_relay_end_fn on_end, rfd_relay_unanswered_fn on_unanswered, void *data)
{
  r->on_end = on_end;
  r->on_unanswered = on_unanswered;
  r->data = data;
}

bool
rfd_relay_handler_gone (rfd_relay_t *r, int status, const char *body)
{
  rfd_relay_detach (r);
  if (r->ending)
    return r->answered > 0;
  /* What the handler wrote before it ended may still be in the socket. */
  if (!r->awaiting_verdict && r->answered == 0)
    pull_answer (r);
  if (r->answered == 0)
    {
      rfd_relay_fail (r, status, body);
      return false;
    }
  relay_pump (r);
  return true;
}

bool
rfd_relay_answered_p (const rfd_relay_t *r)
{
  return r->answered > 0;
}

/* How many of the client's next bytes still belong to the request; 0 when
   it is all forwarded (or the bytes must be looked at first). */
static size_t
request_take (rfd_relay_t *r, size_t room, bool *bad)
{
  char peek[BUF_SIZE];
  ssize_t n;

  *bad = false;
  if (r->tunnel)
    return room;
  if (!r->request_head_seen)
    {
      rf_http_request_t req;
      long len;
      n = recv (r->client.fd, peek, sizeof peek < HEAD_MAX ? sizeof peek : HEAD_MAX, MSG_PEEK | MSG_DONTWAIT);
      if (n <= 0)
        return 0;
      len = rf_http_parse_head (peek, (size_t) n, HEAD_MAX, &req);
      if (len == RF_HTTP_INCOMPLETE)
        return 0;
      if (len < 0)
        {
          *bad = true;
          return 0;
        }
      r->request_head_seen = true;
      r->head_left = r->head_total = (size_t) len;
      r->head_request = req.method_len == 4 && memcmp (req.method, "HEAD", 4) == 0;
      r->req_keep_alive = req.keep_alive && !req.upgrade;
      memset (&r->req_chunks, 0, sizeof r->req_chunks);
      if (req.chunked)
        r->req_body = BODY_CHUNKED;
      else if (req.content_length > 0)
        {
          r->req_body = BODY_LENGTH;
          r->req_left = (uint64_t) req.content_length;
        }
      else
        r->req_body = BODY_NONE;
    }
  if (r->head_left)
    return r->head_left < room ? r->head_left : room;
  switch (r->req_body)
    {
    case BODY_LENGTH:
      return r->req_left < room ? (size_t) r->req_left : room;
    case BODY_CHUNKED:
      {
        rf_http_chunked_t copy = r->req_chunks;
        size_t consumed = 0;
        n = recv (r->client.fd, peek, room < sizeof peek ? room : sizeof peek, MSG_PEEK | MSG_DONTWAIT);
        if (n <= 0)
          return 0;
        if (rf_http_chunked_decode (&copy, peek, (size_t) n, &consumed) < 0)
          {
            *bad = true;
            return 0;
          }
        return consumed;
      }
    default:
      return 0;
    }
}

/* The request's first n bytes are in r->up, its request line whole (the
   listener waited for the head), accounted for as taken from the client:
   the target loses r->strip, "/function/NAME" becoming "/" and
   "/function/NAME/x?y" "/x?y".  Returns the count of bytes to forward. */
static size_t
strip_target (rfd_relay_t *r, size_t n)
{
  char *sp = memchr (r->up, ' ', n);
  size_t plen = strlen (r->strip), cut;
  char *t, after;

  if (sp == NULL || (size_t) (sp + 1 - r->up) + plen >= n)
    return n;
  t = sp + 1;
  if (memcmp (t, r->strip, plen) != 0)
    return n;
  after = t[plen];
  if (after != '/' && after != '?' && after != ' ')
    return n;
  cut = after == '/' ? plen : plen - 1;
  if (after != '/')
    t[plen - 1] = '/';
  memmove (t, t + cut, n - (size_t) (t - r->up) - cut);
  return n - cut;
}

/* Account for n bytes of the request taken from the client. */
static void
request_took (rfd_relay_t *r, const char *bytes, size_t n)
{
  if (r->tunnel)
    return;
  if (r->head_left)
    {
      size_t h = n < r->head_left ? n : r->head_left;
      r->head_left -= h;
      bytes += h;
      n -= h;
      if (r->head_left == 0 && r->req_body == BODY_NONE)
        r->req_body = BODY_DONE;
    }
  if (n == 0)
    return;
  if (r->req_body == BODY_LENGTH)
    {
      r->req_left -= n;
      if (r->req_left == 0)
        r->req_body = BODY_DONE;
    }
  else if (r->req_body == BODY_CHUNKED)
    {
      char scratch[BUF_SIZE];
      size_t consumed = 0;
      memcpy (scratch, bytes, n);
      rf_http_chunked_decode (&r->req_chunks, scratch, n, &consumed);
      if (r->req_chunks.done)
        r->req_body = BODY_DONE;
    }
}

/* The answer's framing, from the head at the start of r->down; false when
   it is malformed. */
static bool
answer_head (rfd_relay_t *r, bool *complete)
{
  rf_http_response_t res;
  long len = rf_http_parse_response_head (r->down + (r->down_len - r->down_head), r->down_head, HEAD_MAX, &res);
  *complete = false;
  if (len == RF_HTTP_INCOMPLETE)
    return r->down_head < HEAD_MAX;
  if (len < 0)
    return false;
  *complete = true;
  r->down_head -= (size_t) len;
  memset (&r->res_chunks, 0, sizeof r->res_chunks);
  r->res_keep_alive = res.keep_alive;
  if (res.status == 101)
    {
      r->tunnel = true;
      r->res_body = BODY_UNTIL_CLOSE;
    }
  else if (res.status < 200)
    r->res_body = BODY_NONE; /* 100 Continue and friends: the answer follows */
  else if (r->head_request || res.status == 204 || res.status == 304)
    r->res_body = BODY_DONE;
  else if (res.chunked)
    r->res_body = BODY_CHUNKED;
  else if (res.content_length >= 0)
    {
      r->res_left = (uint64_t) res.content_length;
      r->res_body = r->res_left ? BODY_LENGTH : BODY_DONE;
    }
  else
    r->res_body = BODY_UNTIL_CLOSE;
  if (res.status >= 100 && res.status < 200 && res.status != 101)
    r->in_head = true; /* another head follows */
  else
    r->in_head = false;
  return true;
}

/* Account for the body bytes at the end of r->down (n of them, after any
   head), dropping whatever follows the answer's end. */
static void
answer_body (rfd_relay_t *r, size_t n)
{
  char *bytes = r->down + r->down_len - n;
  if (r->res_body == BODY_LENGTH)
    {
      if (n >= r->res_left)
        {
          r->down_len -= n - (size_t) r->res_left;
          r->res_left = 0;
          r->res_body = BODY_DONE;
        }
      else
        r->res_left -= n;
    }
  else if (r->res_body == BODY_CHUNKED)
    {
      char scratch[BUF_SIZE];
      size_t consumed = 0;
      memcpy (scratch, bytes, n);
      if (rf_http_chunked_decode (&r->res_chunks, scratch, n, &consumed) < 0)
        r->res_body = BODY_UNTIL_CLOSE; /* no end to agree on: to the close */
      else if (r->res_chunks.done)
        {
          r->down_len -= n - consumed;
          r->res_body = BODY_DONE;
        }
    }
  else if (r->res_body == BODY_DONE || r->res_body == BODY_NONE)
    r->down_len -= n; /* past the end of a bodiless answer */
}

/* Read what the handler sent, following the answers' heads. */
static bool
pull_answer (rfd_relay_t *r)
{
  while (!r->inner_eof && r->down_len < BUF_SIZE && r->res_body != BODY_DONE)
    {
      ssize_t n = recv (r->inner.fd, r->down + r->down_len, BUF_SIZE - r->down_len, MSG_DONTWAIT);
      if (n == 0)
        r->inner_eof = true;
      if (n < 0)
        {
          if (errno == EAGAIN || errno == EINTR)
            break;
          r->inner_eof = true;
        }
      if (n <= 0)
        break;
      r->answered += (uint64_t) n;
      r->down_len += (size_t) n;
      if (r->tunnel || r->res_body == BODY_UNTIL_CLOSE)
        continue;
      if (r->in_head)
        {
          bool complete;
          r->down_head += (size_t) n;
          while (r->in_head)
            {
              size_t rest;
              if (!answer_head (r, &complete))
                return false;
              if (!complete)
                break;
              rest = r->down_head;
              r->down_head = 0;
              if (r->in_head)
                r->down_head = rest; /* the next head starts here */
              else if (rest)
                answer_body (r, rest);
            }
        }
      else
        answer_body (r, (size_t) n);
    }
  return true;
}

static void
relay_pump (rfd_relay_t *r)
{
  bool progress = false, bad = false, want_in, first;

  if (r->awaiting_verdict)
    {
      if (r->client_hup)
        relay_end (r, false);
      return;
    }

  /* Client to handler: only the request's own bytes. */
  while (!r->client_eof && r->up_len == 0 && (r->tunnel || r->req_body != BODY_DONE))
    {
      size_t want = request_take (r, BUF_SIZE, &bad);
      ssize_t n;
      if (bad)
        {
          rfd_relay_fail (r, 400, "malformed request\n");
          return;
        }
      if (want == 0)
        {
          char probe;
          /* Nothing of the request yet: is the client still there? */
          n = recv (r->client.fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
          if (n == 0)
            r->client_eof = r->client_hup = true;
          break;
        }
      n = recv (r->client.fd, r->up, want, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        r->client_eof = r->client_hup = true;
      if (n <= 0)
        break;
      first = r->head_left == r->head_total && !r->tunnel;
      request_took (r, r->up, (size_t) n);
      if (first && r->strip)
        n = (ssize_t) strip_target (r, (size_t) n);
      r->up_len = (size_t) n;
      progress = true;
    }
  if (r->up_len)
    {
      ssize_t n = send (r->inner.fd, r->up, r->up_len, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0)
        {
          memmove (r->up, r->up + n, r->up_len - (size_t) n);
          r->up_len -= (size_t) n;
          progress = true;
        }
      else if (n < 0 && errno != EAGAIN && errno != EINTR)
        r->up_len = 0; /* the handler stopped reading: its answer may still come */
    }
  if (r->client_eof && r->up_len == 0)
    shutdown (r->inner.fd, SHUT_WR);

  /* Handler to client: the answer, up to its end. */
  if (!pull_answer (r))
    {
      rfd_relay_fail (r, 502, "the function's answer is not HTTP\n");
      return;
    }
  if (r->down_len > r->down_head)
    {
      size_t ready = r->down_len - r->down_head;
      ssize_t n = send (r->client.fd, r->down, ready, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0)
        {
          memmove (r->down, r->down + n, r->down_len - (size_t) n);
          r->down_len -= (size_t) n;
          progress = true;
        }
      else if (n < 0 && errno != EAGAIN && errno != EINTR)
        {
          relay_end (r, false); /* the client is gone */
          return;
        }
    }
  if (r->down_len == 0 && r->res_body == BODY_DONE && !r->in_head && !r->tunnel)
    {
      /* The answer is complete: the connection carries the next request
         if the request is complete too and neither side asked to close. */
      relay_end (r, r->req_body == BODY_DONE && r->req_keep_alive && r->res_keep_alive);
      return;
    }
  if (r->inner_eof && r->down_len == 0)
    {
      if (r->answered == 0 && r->on_unanswered)
        {
          /* The owner knows why (502, 504) and calls rfd_relay_fail. */
          rfd_relay_unanswered_fn fn = r->on_unanswered;
          rfd_watch_close (&r->inner);
          r->awaiting_verdict = true;
          r->on_unanswered = NULL;
          rfd_watch_mod (&r->client, r->client_hup ? 0 : EPOLLRDHUP);
          fn (r, r->data);
          return;
        }
      if (r->answered == 0)
        {
          rfd_relay_fail (r, 502, "the function ended without answering\n");
          return;
        }
      relay_end (r, false);
      return;
    }
  if (progress)
    rfd_timer_arm (&r->idle, r->idle_ns);
  /* Level-triggered: the client is only read while its request lasts,
     else the next request waiting in its socket would wake us for ever. */
  want_in = !r->client_eof && r->up_len == 0 && (r->tunnel || r->req_body != BODY_DONE);
  if (r->client.fd >= 0)
    rfd_watch_mod (&r->client, (want_in ? EPOLLIN : 0) | (r->client_hup ? 0 : EPOLLRDHUP)
                                   | (r->down_len > r->down_head ? EPOLLOUT : 0));
  if (r->inner.fd >= 0)
    rfd_watch_mod (&r->inner, (r->inner_eof || r->down_len >= BUF_SIZE ? 0 : EPOLLIN)
                                  | (r->up_len ? EPOLLOUT : 0));
}

static void
on_relay (rfd_watch_t *w, uint32_t events)
{
  rfd_relay_t *r = w->data;
  if (r->ending)
    return; /* an event of the batch that ended it */
  if (w == &r->client && (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
    r->client_hup = true;
  relay_pump (r);
}

static void
on_idle (rfd_timer_t *t)
{
  rfd_relay_t *r = t->data;
  rfd_relay_fail (r, 504, "the function did not answer in time\n");
}

rfd_relay_t *
rfd_relay_new (int client, int inner, uint64_t idle_ns, const char *strip, rfd_relay_end_fn on_end,
               rfd_relay_unanswered_fn on_unanswered, void *data)
{
  rfd_relay_t *r = xzalloc (sizeof *r);
  r->strip = strip ? xstrdup (strip) : NULL;
  r->up = xmalloc (BUF_SIZE);
  r->down = xmalloc (BUF_SIZE);
  r->client.fd = client;
  r->inner.fd = inner;
  r->client.fn = r->inner.fn = on_relay;
  r->client.data = r->inner.data = r;
  r->on_end = on_end;
  r->on_unanswered = on_unanswered;
  r->data = data;
  r->in_head = true;
  r->res_body = BODY_NONE;
  r->idle_ns = idle_ns;
  rfd_timer_init (&r->idle, on_idle, r);
  rfd_timer_arm (&r->idle, idle_ns);
  if (rfd_watch_add (&r->client, EPOLLIN | EPOLLRDHUP) < 0 || rfd_watch_add (&r->inner, EPOLLIN) < 0)
    {
      relay_end (r, false);
      return NULL;
    }
  relay_pump (r);
  /* Already over (a malformed request, a client gone): on_end has run. */
  return r->ending ? NULL : r;
}
