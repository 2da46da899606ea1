/* /metrics in Prometheus' text format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "runfd.h"

static const double bounds[RFD_BUCKETS] = {
  0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5,
};

void
rfd_histogram_add (rfd_histogram_t *h, double seconds)
{
  int i = 0;
  while (i < RFD_BUCKETS && seconds > bounds[i])
    i++;
  h->counts[i]++;
  h->sum += seconds;
  h->n++;
}

typedef struct
{
  char *buf;
  size_t len, cap;
} text_t;

static void __attribute__ ((format (printf, 2, 3)))
add (text_t *t, const char *fmt, ...)
{
  va_list ap;
  int n;
  for (;;)
    {
      va_start (ap, fmt);
      n = vsnprintf (t->buf + t->len, t->cap - t->len, fmt, ap);
      va_end (ap);
      if (n >= 0 && (size_t) n < t->cap - t->len)
        break;
      t->cap = t->cap * 2 + (size_t) n + 256;
      t->buf = xrealloc (t->buf, t->cap);
    }
  t->len += (size_t) n;
}

static void
histogram (text_t *t, const char *name, const rfd_function_t *fn, const rfd_histogram_t *h)
{
  uint64_t cum = 0;
  for (int i = 0; i < RFD_BUCKETS; i++)
    {
      cum += h->counts[i];
      add (t, "%s_bucket{function=\"%s\",le=\"%g\"} %llu\n", name, fn->name, bounds[i], (unsigned long long) cum);
    }
  cum += h->counts[RFD_BUCKETS];
  add (t, "%s_bucket{function=\"%s\",le=\"+Inf\"} %llu\n", name, fn->name, (unsigned long long) cum);
  add (t, "%s_sum{function=\"%s\"} %g\n", name, fn->name, h->sum);
  add (t, "%s_count{function=\"%s\"} %llu\n", name, fn->name, (unsigned long long) h->n);
}

/* A function being replaced or removed is left out: its successor (which
   took over its counters) is the one series of its name. */
char *
rfd_metrics_text (void)
{
  static const char *const codes[RFD_REQ_N] = { "200", "400", "404", "408", "429", "502", "503", "504" };
  text_t t = { xmalloc (4096), 0, 4096 };

  t.buf[0] = '\0';
  add (&t, "# HELP runfd_requests_total Requests by function and outcome (200: handed to a handler).\n"
           "# TYPE runfd_requests_total counter\n");
  for (const rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    if (!fn->removing)
      for (int i = 0; i < RFD_REQ_N; i++)
        add (&t, "runfd_requests_total{function=\"%s\",code=\"%s\"} %llu\n", fn->name, codes[i],
             (unsigned long long) fn->requests[i]);
  add (&t, "# HELP runfd_cold_starts_total Requests that found no created instance ready.\n"
           "# TYPE runfd_cold_starts_total counter\n");
  for (const rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    if (!fn->removing)
      add (&t, "runfd_cold_starts_total{function=\"%s\"} %llu\n", fn->name, (unsigned long long) fn->cold_starts);
  add (&t, "# HELP runfd_start_seconds From the handover to the handler's exec.\n"
           "# TYPE runfd_start_seconds histogram\n");
  for (const rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    if (!fn->removing)
      histogram (&t, "runfd_start_seconds", fn, &fn->cold_hist);
  add (&t, "# HELP runfd_dispatch_seconds From accept to the handover to an instance.\n"
           "# TYPE runfd_dispatch_seconds histogram\n");
  for (const rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    if (!fn->removing)
      histogram (&t, "runfd_dispatch_seconds", fn, &fn->latency_hist);
  add (&t, "# HELP runfd_request_seconds From accept to the instance's exit: the whole request (not in warm mode).\n"
           "# TYPE runfd_request_seconds histogram\n");
  for (const rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    if (!fn->removing)
      histogram (&t, "runfd_request_seconds", fn, &fn->request_hist);
  add (&t, "# HELP runfd_create_seconds From asking the spawner for an instance to its init waiting for START.\n"
           "# TYPE runfd_create_seconds histogram\n");
  for (const rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    if (!fn->removing)
      histogram (&t, "runfd_create_seconds", fn, &fn->create_hist);
  add (&t, "# HELP runfd_create_failures_total Instances the spawner could not create.\n"
           "# TYPE runfd_create_failures_total counter\n");
  for (const rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    if (!fn->removing)
      add (&t, "runfd_create_failures_total{function=\"%s\"} %llu\n", fn->name,
           (unsigned long long) fn->create_failures);
  add (&t, "# HELP runfd_oom_kills_total Instances killed for their memory.\n"
           "# TYPE runfd_oom_kills_total counter\n");
  for (const rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    if (!fn->removing)
      add (&t, "runfd_oom_kills_total{function=\"%s\"} %llu\n", fn->name, (unsigned long long) fn->oom_kills);
  add (&t, "# HELP runfd_spawner_restarts_total Spawners started again after one died.\n"
           "# TYPE runfd_spawner_restarts_total counter\nrunfd_spawner_restarts_total %llu\n",
       (unsigned long long) rfd_spawner_restarts ());
  add (&t, "# HELP runfd_pool_ready Created instances waiting for a request.\n# TYPE runfd_pool_ready gauge\n");
  for (const rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    if (!fn->removing)
      add (&t, "runfd_pool_ready{function=\"%s\"} %d\n", fn->name, fn->n_ready);
  add (&t, "# HELP runfd_pool_starting Pre-started instances coming up (their handler starting).\n"
           "# TYPE runfd_pool_starting gauge\n");
  for (const rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    if (!fn->removing)
      add (&t, "runfd_pool_starting{function=\"%s\"} %d\n", fn->name, fn->n_starting);
  add (&t, "# HELP runfd_instances_creating Instances the spawner is creating.\n"
           "# TYPE runfd_instances_creating gauge\n");
  for (const rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    if (!fn->removing)
      add (&t, "runfd_instances_creating{function=\"%s\"} %d\n", fn->name, fn->n_creating);
  add (&t, "# HELP runfd_instances_running Instances serving a request.\n# TYPE runfd_instances_running gauge\n");
  for (const rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    if (!fn->removing)
      add (&t, "runfd_instances_running{function=\"%s\"} %d\n", fn->name, fn->n_running);
  add (&t, "# HELP runfd_queue_depth Connections waiting for an instance.\n# TYPE runfd_queue_depth gauge\n");
  for (const rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    if (!fn->removing)
      add (&t, "runfd_queue_depth{function=\"%s\"} %d\n", fn->name, fn->n_queued);
  {
    char *async = rfd_async_metrics_text ();
    add (&t, "%s", async);
    free (async);
  }
  return t.buf;
}
