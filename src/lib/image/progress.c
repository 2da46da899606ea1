#include "progress.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/xalloc.h"
#include "text.h"

struct rf_progress_s
{
  FILE *out;
  bool tty;
  char *label;
  const char *verb; /* "fetched", "pushed" */
  int64_t total, done;
  double start, last_draw;
};

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

rf_progress_t *
rf_progress_new (FILE *out, bool tty)
{
  rf_progress_t *p = xzalloc (sizeof *p);
  p->out = out;
  p->tty = tty;
  p->verb = "fetched";
  return p;
}

void
rf_progress_set_verb (rf_progress_t *p, const char *verb)
{
  if (p)
    p->verb = verb;
}

void
rf_progress_free (rf_progress_t *p)
{
  if (p == NULL)
    return;
  free (p->label);
  free (p);
}

static void
draw (rf_progress_t *p, const char *status)
{
  char done[32], total[32], speed[32];
  double secs = now () - p->start;
  rf_format_size ((double) p->done, done, sizeof done);
  rf_format_size (p->total >= 0 ? (double) p->total : 0, total, sizeof total);
  rf_format_size (secs > 0.001 ? p->done / secs : 0, speed, sizeof speed);
  if (p->tty)
    fprintf (p->out, "\r\033[K%s: %s / %s  %s/s%s%s", p->label, done, total, speed,
             status ? "  " : "", status ? status : "");
  else
    fprintf (p->out, "%s: %s %s in %.1fs (%s/s)\n", p->label, status, done, secs, speed);
  fflush (p->out);
}

void
rf_progress_start (rf_progress_t *p, const char *label, int64_t total)
{
  if (p == NULL)
    return;
  free (p->label);
  p->label = xstrdup (label);
  p->total = total;
  p->done = 0;
  p->start = p->last_draw = now ();
  if (p->out && p->tty)
    draw (p, NULL);
}

void
rf_progress_update (rf_progress_t *p, int64_t done)
{
  double t;
  if (p == NULL)
    return;
  p->done = done;
  if (p->out == NULL || !p->tty)
    return;
  t = now ();
  if (t - p->last_draw < 0.1)
    return;
  p->last_draw = t;
  draw (p, NULL);
}

void
rf_progress_restart (rf_progress_t *p, const char *why)
{
  if (p == NULL || p->out == NULL)
    return;
  if (p->tty)
    fprintf (p->out, "\r\033[K%s: %s, retrying\n", p->label ? p->label : "request", why);
  else
    fprintf (p->out, "%s: %s, retrying\n", p->label ? p->label : "request", why);
  p->done = 0;
}

void
rf_progress_done (rf_progress_t *p, bool ok)
{
  if (p == NULL || p->out == NULL)
    return;
  if (p->tty)
    {
      draw (p, ok ? "done" : "failed");
      fputc ('\n', p->out);
    }
  else if (ok)
    draw (p, p->verb);
}

void
rf_progress_line (rf_progress_t *p, const char *fmt, ...)
{
  va_list ap;
  if (p == NULL || p->out == NULL)
    return;
  va_start (ap, fmt);
  vfprintf (p->out, fmt, ap);
  va_end (ap);
  fputc ('\n', p->out);
  fflush (p->out);
}
