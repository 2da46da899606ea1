/* `runf events [--stats] [--interval D] ID`: runc's event stream, one
 * compact JSON object per line.  --stats prints the container's stats once;
 * without it a stats object comes every interval (default 5s) and an
 * {"type":"oom"} object whenever the kernel's OOM killer acts in the
 * container's cgroup, until the container stops. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "common/units.h"
#include "runf.h"
#include "runtime/cgroup.h"
#include "common/syscalls.h"
#include "runtime/state.h"

enum { O_INTERVAL = 1, O_STATS };

static const runf_option_t options[] = {
  { "interval", 0, true, O_INTERVAL },
  { "stats", 0, false, O_STATS },
  { 0 },
};

static void
emit (const char *type, const char *id, json_t *data)
{
  cleanup_json json_t *ev = json_pack ("{s:s, s:s}", "type", type, "id", id);
  cleanup_free char *text = NULL;
  if (data)
    json_object_set (ev, "data", data);
  text = rf_cgroup_json_dumps (ev);
  if (text)
    {
      puts (text);
      fflush (stdout);
    }
}

static int
emit_stats (const rf_state_t *st, rf_error_t *err)
{
  cleanup_json json_t *stats = rf_cgroup_stats (&st->cgroup, err);
  if (stats == NULL)
    return -1;
  emit ("stats", st->id, stats);
  return 0;
}

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
check_oom (rf_oom_watch_t *oom, const char *id)
{
  int r = rf_oom_watch_read (oom);
  if (r > 0)
    emit ("oom", id, NULL);
  else if (r < 0)
    rf_oom_watch_close (oom); /* the cgroup is gone: nothing more to hear */
}

/* Until the container's init is gone: stats every interval, OOMs as they
   come. */
static int
stream (const rf_state_t *st, int64_t interval, rf_error_t *err)
{
  rf_oom_watch_t oom;
  int pidfd = rf_pidfd_open (st->pid);
  int64_t next = now_ns () + interval;

  /* The pidfd is for the process runf started, not a later one with the
     same pid: check once it pins the process. */
  if (!rf_state_alive_p (st))
    {
      if (pidfd >= 0)
        close (pidfd);
      return 0;
    }
  if (rf_cgroup_oom_watch (&st->cgroup, &oom, err) < 0)
    {
      rf_oom_watch_close (&oom);
      if (pidfd >= 0)
        close (pidfd);
      return rf_error_wrap (err, "events: watch for OOM kills");
    }
  for (;;)
    {
      struct pollfd fds[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = oom.fd, .events = POLLIN } };
      int64_t left = next - now_ns ();
      int timeout = left <= 0 ? 0 : (int) ((left + 999999) / 1000000);
      int r;

      /* Without pidfds, look at the process at least every 100 ms. */
      if (pidfd < 0 && timeout > 100)
        timeout = 100;
      r = poll (fds, 2, timeout);
      if (r < 0 && errno != EINTR)
        {
          rf_error_sys (err, "events: poll");
          break;
        }
      if (r > 0 && (fds[1].revents & POLLIN))
        check_oom (&oom, st->id);
      if ((r > 0 && (fds[0].revents & POLLIN)) || (pidfd < 0 && !rf_state_alive_p (st)))
        {
          /* An OOM kill of init ends the container: report it first. */
          check_oom (&oom, st->id);
          break;
        }
      if (now_ns () >= next)
        {
          rf_error_t ignored = NULL;
          /* As runc: a failed read of the stats is skipped, not fatal. */
          if (emit_stats (st, &ignored) < 0)
            rf_error_free (&ignored);
          next += interval;
          if (next < now_ns ())
            next = now_ns () + interval;
        }
    }
  rf_oom_watch_close (&oom);
  if (pidfd >= 0)
    close (pidfd);
  return err && *err ? -1 : 0;
}

int
runf_cmd_events (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  const char *value;
  bool stats = false;
  int64_t interval = 5000000000LL;
  int index = 1, id, ret;
  rf_state_t st;

  while ((id = runf_next_option (argc, argv, &index, options, &value, err)) > 0)
    switch (id)
      {
      case O_INTERVAL:
        if (rf_parse_duration_ns (value, &interval) < 0)
          return rf_error_make (err, EINVAL, "events: --interval `%s`: expected a duration like 5s, 500ms or 1m",
                                value);
        if (interval <= 0)
          return rf_error_make (err, EINVAL, "events: --interval `%s`: must be greater than 0", value);
        break;
      case O_STATS:
        stats = strcmp (value, "true") == 0;
        break;
      }
  if (id < 0)
    return rf_error_wrap (err, "events");
  if (index >= argc)
    return rf_error_make (err, EINVAL, "events: missing container id");
  if (index + 1 < argc)
    return rf_error_make (err, EINVAL, "events: unexpected argument `%s`", argv[index + 1]);
  if (rf_state_read (g->root, argv[index], &st, err) < 0)
    return -1;
  if (rf_state_status (g->root, &st) == RF_STATUS_STOPPED)
    ret = rf_error_make (err, EINVAL, "events: container `%s` is not running", st.id);
  else if (st.cgroup.n == 0)
    ret = rf_error_make (err, ENOTSUP,
                         "events: container `%s` has no cgroup (a rootless container gets one only where a "
                         "cgroup is delegated to the user)", st.id);
  else if (stats)
    ret = emit_stats (&st, err);
  else
    ret = stream (&st, interval, err);
  rf_state_clear (&st);
  return ret;
}
