/* The event loop: epoll for fds, a binary heap of deadlines for timers. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runfd.h"

static int epfd = -1;
static struct
{
  void *p;
  void (*fn) (void *);
} *graveyard;
static size_t graveyard_len, graveyard_cap;

void
rfd_defer_free (void *p, void (*fn) (void *))
{
  if (graveyard_len == graveyard_cap)
    {
      graveyard_cap = graveyard_cap ? graveyard_cap * 2 : 64;
      graveyard = xrealloc (graveyard, graveyard_cap * sizeof *graveyard);
    }
  graveyard[graveyard_len].p = p;
  graveyard[graveyard_len].fn = fn;
  graveyard_len++;
}
static bool stopping;
static rfd_timer_t **heap;
static size_t heap_len, heap_cap;

uint64_t
rfd_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * RFD_S + (uint64_t) ts.tv_nsec;
}

int
rfd_loop_init (rf_error_t *err)
{
  epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (epfd < 0)
    return rf_error_sys (err, "epoll_create1");
  return 0;
}

int
rfd_watch_add (rfd_watch_t *w, uint32_t events)
{
  struct epoll_event ev = { .events = events, .data.ptr = w };
  return epoll_ctl (epfd, EPOLL_CTL_ADD, w->fd, &ev);
}

int
rfd_watch_mod (rfd_watch_t *w, uint32_t events)
{
  struct epoll_event ev = { .events = events, .data.ptr = w };
  return epoll_ctl (epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

void
rfd_watch_del (rfd_watch_t *w)
{
  if (w->fd >= 0)
    epoll_ctl (epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

void
rfd_watch_close (rfd_watch_t *w)
{
  if (w->fd < 0)
    return;
  rfd_watch_del (w);
  close (w->fd);
  w->fd = -1;
}

static void
heap_swap (size_t a, size_t b)
{
  rfd_timer_t *t = heap[a];
  heap[a] = heap[b];
  heap[b] = t;
  heap[a]->slot = a;
  heap[b]->slot = b;
}

static void
heap_up (size_t i)
{
  while (i > 0 && heap[(i - 1) / 2]->when > heap[i]->when)
    {
      heap_swap (i, (i - 1) / 2);
      i = (i - 1) / 2;
    }
}

static void
heap_down (size_t i)
{
  for (;;)
    {
      size_t l = 2 * i + 1, r = l + 1, m = i;
      if (l < heap_len && heap[l]->when < heap[m]->when)
        m = l;
      if (r < heap_len && heap[r]->when < heap[m]->when)
        m = r;
      if (m == i)
        return;
      heap_swap (i, m);
      i = m;
    }
}

void
rfd_timer_init (rfd_timer_t *t, rfd_timer_fn fn, void *data)
{
  t->fn = fn;
  t->data = data;
  t->slot = SIZE_MAX;
  t->when = 0;
}

bool
rfd_timer_armed_p (const rfd_timer_t *t)
{
  return t->slot != SIZE_MAX;
}

void
rfd_timer_cancel (rfd_timer_t *t)
{
  size_t i = t->slot;
  if (i == SIZE_MAX)
    return;
  if (i >= heap_len || heap[i] != t)
    abort (); /* a timer used without rfd_timer_init */
  heap_len--;
  if (i != heap_len)
    {
      heap[i] = heap[heap_len];
      heap[i]->slot = i;
      heap_up (i);
      heap_down (heap[i]->slot);
    }
  t->slot = SIZE_MAX;
}

void
rfd_timer_arm (rfd_timer_t *t, uint64_t delay_ns)
{
  rfd_timer_cancel (t);
  if (heap_len == heap_cap)
    {
      heap_cap = heap_cap ? heap_cap * 2 : 64;
      heap = xrealloc (heap, heap_cap * sizeof *heap);
    }
  t->when = rfd_now () + delay_ns;
  t->slot = heap_len;
  heap[heap_len++] = t;
  heap_up (t->slot);
}

void
rfd_loop_stop (void)
{
  stopping = true;
}

int
rfd_loop_run (void)
{
  struct epoll_event events[64];

  while (!stopping)
    {
      int timeout = -1, n;
      if (heap_len)
        {
          uint64_t now = rfd_now ();
          timeout = heap[0]->when <= now ? 0 : (int) ((heap[0]->when - now + RFD_MS - 1) / RFD_MS);
        }
      n = epoll_wait (epfd, events, 64, timeout);
      if (n < 0 && errno != EINTR)
        return -1;
      for (int i = 0; i < n; i++)
        {
          rfd_watch_t *w = events[i].data.ptr;
          /* A callback earlier in this batch may have closed it. */
          if (w->fd >= 0)
            w->fn (w, events[i].events);
        }
      {
        /* Only the timers due before this pass: one that re-arms itself
           with no delay (a job done one step per wakeup) runs again in the
           next pass, after the events that came meanwhile. */
        uint64_t now = rfd_now ();
        while (heap_len && heap[0]->when < now)
          {
            rfd_timer_t *t = heap[0];
            rfd_timer_cancel (t);
            t->fn (t);
          }
      }
      /* What the batch let go of is freed only now that no event of it
         can point there any more. */
      while (graveyard_len)
        {
          graveyard_len--;
          graveyard[graveyard_len].fn (graveyard[graveyard_len].p);
        }
    }
  return 0;
}
