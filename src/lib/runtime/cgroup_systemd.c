#include "cgroup_systemd.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "common/log.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
/* How long a job of systemd's may take, as runc waits. */
#define JOB_TIMEOUT_USEC (30 * 1000000ULL)
/* The CFS period of a quota given without one (the kernel's default). */
#define DEFAULT_CPU_PERIOD 100000

bool
rf_systemd_booted_p (void)
{
  return access ("/run/systemd/system", F_OK) == 0;
}

/* Characters systemd takes in a unit name (unit_name_is_valid), less the
   `@` of template instances. */
static bool
unit_name_ok (const char *name)
{
  if (*name == '\0' || strlen (name) > 255)
    return false;
  for (const char *p = name; *p; p++)
    if (!isalnum ((unsigned char) *p) && !strchr (":-_.\\", *p))
      return false;
  return true;
}

int
rf_systemd_unit_for (const char *cgroups_path, const char *id, bool rootless, char **slice,
                     char **unit, rf_error_t *err)
{
  cleanup_free char *spelled = NULL;
  cleanup_free char *checked = NULL;
  cleanup_free char *s = NULL;
  cleanup_free char *prefix = NULL;
  cleanup_free char *u = NULL;
  const char *c1, *c2, *name;

  *slice = *unit = NULL;
  spelled = cgroups_path && *cgroups_path ? xstrdup (cgroups_path) : xasprintf (":runf:%s", id);
  c1 = strchr (spelled, ':');
  c2 = c1 ? strchr (c1 + 1, ':') : NULL;
  if (spelled[0] == '/' || c2 == NULL || strchr (c2 + 1, ':'))
    return rf_error_make (err, 0, "linux.cgroupsPath `%s`: --systemd-cgroup expects slice:prefix:name",
                          spelled);
  /* The slice and the name as the cgroupfs layout checks them. */
  checked = rf_cgroup_path_for (spelled, id, rootless, err);
  if (checked == NULL)
    return -1;
  name = c2 + 1;
  s = c1 > spelled ? xstrndup (spelled, c1 - spelled) : xstrdup (rootless ? "user.slice" : "system.slice");
  prefix = xstrndup (c1 + 1, c2 - c1 - 1);
  /* A name ending in .slice is a slice unit of its own, the prefix not
     used (as runc and runsc). */
  if (rf_systemd_name_ends_with (name, ".slice"))
    u = xstrdup (name);
  else
    u = *prefix ? xasprintf ("%s-%s.scope", prefix, name) : xasprintf ("%s.scope", name);
  if (!unit_name_ok (s) || !unit_name_ok (u))
    return rf_error_make (err, 0, "linux.cgroupsPath `%s`: `%s` is not a valid systemd unit name",
                          spelled, unit_name_ok (s) ? u : s);
  *slice = steal_pointer (&s);
  *unit = steal_pointer (&u);
  return 0;
}

int
rf_systemd_cpu_mask (const char *list, uint8_t **mask, size_t *n, rf_error_t *err)
{
  cleanup_free uint8_t *m = NULL;
  size_t len = 0;
  const char *p = list;

  *mask = NULL;
  *n = 0;
  while (*p)
    {
      char *end;
      unsigned long lo, hi;
      if (!isdigit ((unsigned char) *p))
        goto bad;
      lo = hi = strtoul (p, &end, 10);
      if (*end == '-')
        {
          if (!isdigit ((unsigned char) end[1]))
            goto bad;
          hi = strtoul (end + 1, &end, 10);
        }
      /* systemd's limit for a cpu set (CPU_SETSIZE is 1024, it takes 8192). */
      if (hi < lo || hi >= 8192)
        goto bad;
      if (hi / 8 + 1 > len)
        {
          m = xrealloc (m, hi / 8 + 1);
          memset (m + len, 0, hi / 8 + 1 - len);
          len = hi / 8 + 1;
        }
      for (unsigned long v = lo; v <= hi; v++)
        m[v / 8] |= (uint8_t) (1u << (v % 8));
      p = end;
      if (*p == ',' && p[1] != '\0')
        p++;
      else if (*p != '\0')
        goto bad;
    }
  *mask = steal_pointer (&m);
  *n = len;
  return 0;

bad:
  return rf_error_make (err, 0, "`%s` is not a list like 0-2,4", list);
}

unsigned
rf_systemd_parse_version (const char *version)
{
  unsigned long v;
  while (version && *version && !isdigit ((unsigned char) *version))
    version++;
  if (version == NULL || *version == '\0')
    return 0;
  v = strtoul (version, NULL, 10);
  return v > 100000 ? 0 : (unsigned) v;
}

static rf_unit_prop_t *
add_prop (rf_unit_prop_t **props, size_t *n, const char *name, const char *sig)
{
  rf_unit_prop_t *p;
  *props = xrealloc (*props, (*n + 1) * sizeof **props);
  p = &(*props)[(*n)++];
  memset (p, 0, sizeof *p);
  p->name = name;
  p->sig = sig;
  return p;
}

static void
add_t (rf_unit_prop_t **props, size_t *n, const char *name, uint64_t value)
{
  add_prop (props, n, name, "t")->t = value;
}

/* A limit: -1 is systemd's infinity. */
static uint64_t
limit (int64_t v)
{
  return v < 0 ? RF_SYSTEMD_INFINITY : (uint64_t) v;
}

static int
add_mask (rf_unit_prop_t **props, size_t *n, const char *name, const char *list, const char *field,
          rf_error_t *err)
{
  uint8_t *mask;
  size_t len;
  rf_unit_prop_t *p;
  if (rf_systemd_cpu_mask (list, &mask, &len, err) < 0)
    return rf_error_wrap (err, "%s", field);
  p = add_prop (props, n, name, "ay");
  p->bytes = mask;
  p->n_bytes = len;
  return 0;
}

int
rf_systemd_resource_props (const rf_resources_t *res, bool v2, unsigned version,
                           rf_unit_prop_t **props, size_t *n, rf_error_t *err)
{
  *props = NULL;
  *n = 0;
  if (res->mem_limit != RF_UNSET)
    add_t (props, n, v2 ? "MemoryMax" : "MemoryLimit", limit (res->mem_limit));
  if (v2 && res->mem_reservation != RF_UNSET)
    add_t (props, n, "MemoryLow", limit (res->mem_reservation));
  /* The spec's swap is memory + swap, systemd's (as memory.swap.max) swap
     alone; without a memory limit cgroup.c says what is wrong. */
  if (v2 && res->mem_swap != RF_UNSET && (res->mem_swap < 0 || res->mem_limit > 0))
    add_t (props, n, "MemorySwapMax",
           res->mem_swap < 0 ? RF_SYSTEMD_INFINITY : (uint64_t) (res->mem_swap - res->mem_limit));
  if (res->cpu_shares)
    {
      if (v2)
        add_t (props, n, "CPUWeight", rf_cpu_shares_to_weight (res->cpu_shares));
      else
        add_t (props, n, "CPUShares", res->cpu_shares);
    }
  if (res->cpu_quota != RF_UNSET || res->cpu_period)
    {
      /* systemd keeps the quota per second of CPU time, in whole percent
         of a CPU: round up to 10 ms, so that what runf writes to cgroupfs
         after it is never above the unit's. */
      uint64_t per_sec = RF_SYSTEMD_INFINITY;
      if (res->cpu_quota > 0)
        {
          uint64_t period = res->cpu_period ? res->cpu_period : DEFAULT_CPU_PERIOD;
          per_sec = (uint64_t) res->cpu_quota * 1000000 / period;
          if (per_sec % 10000)
            per_sec = (per_sec / 10000 + 1) * 10000;
        }
      add_t (props, n, "CPUQuotaPerSecUSec", per_sec);
      if (res->cpu_period && version >= 242)
        add_t (props, n, "CPUQuotaPeriodUSec", res->cpu_period);
    }
  if (v2 && version >= 244 && res->cpus
      && add_mask (props, n, "AllowedCPUs", res->cpus, "linux.resources.cpu.cpus", err) < 0)
    goto fail;
  if (v2 && version >= 244 && res->mems
      && add_mask (props, n, "AllowedMemoryNodes", res->mems, "linux.resources.cpu.mems", err) < 0)
    goto fail;
  if (res->pids_limit != RF_UNSET)
    add_t (props, n, "TasksMax", limit (res->pids_limit));
  if (res->has_blkio_weight && res->blkio_weight)
    {
      if (v2)
        add_t (props, n, "IOWeight", rf_blkio_weight_to_io_weight (res->blkio_weight));
      else
        add_t (props, n, "BlockIOWeight", res->blkio_weight);
    }
  return 0;

fail:
  rf_unit_props_free (*props, *n);
  *props = NULL;
  *n = 0;
  return -1;
}

/* sd-bus, loaded on first use: linked, libsystemd and the libraries it
   pulls in (gcrypt, lz4, zstd, lzma, cap) would cost every runf, shim and
   spawner start some 1.6 ms here, for a driver few of them use. */
#define SD_FUNCTIONS(X)                                                                           \
  X (sd_bus_new)                                                                                  \
  X (sd_bus_set_address)                                                                          \
  X (sd_bus_start)                                                                                \
  X (sd_bus_open_system)                                                                          \
  X (sd_bus_open_user)                                                                            \
  X (sd_bus_flush_close_unref)                                                                    \
  X (sd_bus_message_new_method_call)                                                              \
  X (sd_bus_message_append)                                                                       \
  X (sd_bus_message_append_array)                                                                 \
  X (sd_bus_message_open_container)                                                               \
  X (sd_bus_message_close_container)                                                              \
  X (sd_bus_message_read)                                                                         \
  X (sd_bus_message_unref)                                                                        \
  X (sd_bus_call)                                                                                 \
  X (sd_bus_call_method)                                                                          \
  X (sd_bus_get_property_string)                                                                  \
  X (sd_bus_match_signal)                                                                         \
  X (sd_bus_slot_unref)                                                                           \
  X (sd_bus_process)                                                                              \
  X (sd_bus_wait)                                                                                 \
  X (sd_bus_error_free)                                                                           \
  X (sd_bus_error_has_name)

static struct
{
#define X(f) __typeof__ (f) *f;
  SD_FUNCTIONS (X)
#undef X
} sd;

static int
load_libsystemd (rf_error_t *err)
{
  static void *handle;
  static const char *const names[] = {
#define X(f) #f,
    SD_FUNCTIONS (X)
#undef X
  };
  void *fns[ARRAY_SIZE (names)];

  _Static_assert (sizeof fns == sizeof sd, "one pointer for each function");
  if (handle)
    return 0;
  if (rf_libsystemd_load (&handle, names, fns, ARRAY_SIZE (names), err) < 0)
    return -1;
  memcpy (&sd, fns, sizeof sd);
  return 0;
}

static void
bus_error_freep (sd_bus_error *e)
{
  if (sd.sd_bus_error_free)
    sd.sd_bus_error_free (e);
}

static void
bus_message_unrefp (sd_bus_message **m)
{
  if (*m)
    sd.sd_bus_message_unref (*m);
}

#define cleanup_bus_error __attribute__ ((cleanup (bus_error_freep)))
#define cleanup_bus_message __attribute__ ((cleanup (bus_message_unrefp)))

/* "what: the D-Bus error's message", or "what: strerror(-r)". */
static int
bus_fail (rf_error_t *err, int r, const sd_bus_error *e, const char *fmt, ...)
{
  cleanup_free char *what = NULL;
  va_list ap;

  va_start (ap, fmt);
  what = xvasprintf (fmt, ap);
  va_end (ap);
  if (e && e->message)
    return rf_error_make (err, 0, "%s: %s", what, e->message);
  return rf_error_make (err, r < 0 ? -r : EIO, "%s", what);
}

/* A connection to the system's manager (root) or the user's. */
typedef struct
{
  sd_bus *bus;
  bool direct; /* to systemd's own socket, not through a bus daemon */
  bool user;
} manager_t;

static void
manager_close (manager_t *mg)
{
  if (mg->bus)
    sd.sd_bus_flush_close_unref (mg->bus);
  mg->bus = NULL;
}

#define cleanup_manager __attribute__ ((cleanup (manager_close)))

static int
open_address (const char *address, sd_bus **out)
{
  sd_bus *b = NULL;
  int r = sd.sd_bus_new (&b);
  if (r >= 0)
    r = sd.sd_bus_set_address (b, address);
  if (r >= 0)
    r = sd.sd_bus_start (b);
  if (r < 0)
    {
      if (b)
        sd.sd_bus_flush_close_unref (b);
      return r;
    }
  *out = b;
  return 0;
}

static int
manager_open (manager_t *mg, bool user, rf_error_t *err)
{
  const char *runtime_dir = getenv ("XDG_RUNTIME_DIR");
  int r;

  memset (mg, 0, sizeof *mg);
  mg->user = user;
  if (load_libsystemd (err) < 0)
    return -1;
  if (!user)
    {
      /* systemd's own socket, as systemctl and runc use it as root: no bus
         daemon needed. */
      if (open_address ("unix:path=/run/systemd/private", &mg->bus) == 0)
        {
          mg->direct = true;
          return 0;
        }
      r = sd.sd_bus_open_system (&mg->bus);
      if (r < 0)
        return bus_fail (err, r, NULL, "--systemd-cgroup: connect to systemd (/run/systemd/private, the system bus)");
      return 0;
    }
  /* As runc's systemdUser driver: the session bus ($DBUS_SESSION_BUS_ADDRESS,
     else $XDG_RUNTIME_DIR/bus); the user manager's own socket where there
     is no bus. */
  r = sd.sd_bus_open_user (&mg->bus);
  if (r >= 0)
    return 0;
  if (runtime_dir && *runtime_dir)
    {
      cleanup_free char *address = xasprintf ("unix:path=%s/systemd/private", runtime_dir);
      if (open_address (address, &mg->bus) == 0)
        {
          mg->direct = true;
          return 0;
        }
    }
  return bus_fail (err, r, NULL,
                   "--systemd-cgroup: connect to the user's systemd manager (the session bus, "
                   "$XDG_RUNTIME_DIR/systemd/private)");
}

static const char *
manager_name (const manager_t *mg)
{
  return mg->user ? "the user's systemd manager" : "systemd";
}

static unsigned
manager_version (manager_t *mg)
{
  cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
  cleanup_free char *version = NULL;
  if (sd.sd_bus_get_property_string (mg->bus, SD_DEST, SD_PATH, SD_MANAGER, "Version", &e, &version) < 0)
    return 0;
  return rf_systemd_parse_version (version);
}

static int
new_call (manager_t *mg, sd_bus_message **m, const char *method, rf_error_t *err)
{
  int r = sd.sd_bus_message_new_method_call (mg->bus, m, SD_DEST, SD_PATH, SD_MANAGER, method);
  if (r < 0)
    return bus_fail (err, r, NULL, "%s: %s", manager_name (mg), method);
  return 0;
}

/* The end of one job: JobRemoved names it and says how it went. */
typedef struct
{
  char *path;
  char *result;
} job_t;

static int
on_job_removed (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  job_t *job = userdata;
  uint32_t id;
  const char *path, *unit, *result;
  if (job->path == NULL || job->result != NULL
      || sd.sd_bus_message_read (m, "uoss", &id, &path, &unit, &result) < 0)
    return 0;
  if (strcmp (path, job->path) == 0)
    job->result = xstrdup (result);
  return 0;
}

static uint64_t
now_usec (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* Call m, a method of the manager's that queues a job for unit, and wait
   for the job to end.  1 (err untouched) when the call failed with the
   D-Bus error `soft` (the unit exists, is gone); 0 when the job is done. */
static int
call_job (manager_t *mg, sd_bus_message *m, const char *what, const char *unit, const char *soft,
          rf_error_t *err)
{
  cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
  cleanup_bus_message sd_bus_message *reply = NULL;
  sd_bus_slot *slot = NULL;
  job_t job = { 0 };
  uint64_t deadline = now_usec () + JOB_TIMEOUT_USEC;
  const char *path;
  int r, ret = -1;

  /* The match before the call: the job may end before its reply is read.
     Signals that come meanwhile wait in sd-bus's queue, and are handed to
     on_job_removed only by sd_bus_process below, once the job's path is
     known.  On a direct connection signals have no sender to match. */
  r = sd.sd_bus_match_signal (mg->bus, &slot, mg->direct ? NULL : SD_DEST, SD_PATH, SD_MANAGER,
                              "JobRemoved", on_job_removed, &job);
  if (r < 0)
    return bus_fail (err, r, NULL, "%s: watch its jobs", manager_name (mg));
  r = sd.sd_bus_call (mg->bus, m, JOB_TIMEOUT_USEC, &e, &reply);
  if (r < 0)
    {
      if (soft && sd.sd_bus_error_has_name (&e, soft))
        ret = 1;
      else
        bus_fail (err, r, &e, "%s: %s unit `%s`", manager_name (mg), what, unit);
      goto out;
    }
  r = sd.sd_bus_message_read (reply, "o", &path);
  if (r < 0)
    {
      bus_fail (err, r, NULL, "%s: %s unit `%s`: read the job", manager_name (mg), what, unit);
      goto out;
    }
  job.path = xstrdup (path);
  while (job.result == NULL)
    {
      uint64_t now;
      r = sd.sd_bus_process (mg->bus, NULL);
      if (r < 0)
        {
          bus_fail (err, r, NULL, "%s: %s unit `%s`: wait for the job", manager_name (mg), what, unit);
          goto out;
        }
      if (r > 0)
        continue;
      now = now_usec ();
      if (now >= deadline)
        {
          rf_error_make (err, ETIMEDOUT, "%s: %s unit `%s`: the job did not end within %llu s",
                         manager_name (mg), what, unit, JOB_TIMEOUT_USEC / 1000000);
          goto out;
        }
      r = sd.sd_bus_wait (mg->bus, deadline - now);
      if (r < 0 && r != -EINTR)
        {
          bus_fail (err, r, NULL, "%s: %s unit `%s`: wait for the job", manager_name (mg), what, unit);
          goto out;
        }
    }
  if (strcmp (job.result, "done") != 0)
    {
      rf_error_make (err, 0, "%s: %s unit `%s`: the job ended `%s`", manager_name (mg), what, unit,
                     job.result);
      goto out;
    }
  ret = 0;

out:
  sd.sd_bus_slot_unref (slot);
  free (job.path);
  free (job.result);
  return ret;
}

/* A property of a loaded unit (interface "Unit", "Scope"...), or NULL. */
static char *
unit_property (manager_t *mg, const char *unit, const char *interface, const char *name,
               rf_error_t *err)
{
  cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
  cleanup_bus_message sd_bus_message *reply = NULL;
  cleanup_free char *iface = xasprintf ("org.freedesktop.systemd1.%s", interface);
  const char *path;
  char *value = NULL;
  int r;

  r = sd.sd_bus_call_method (mg->bus, SD_DEST, SD_PATH, SD_MANAGER, "GetUnit", &e, &reply, "s", unit);
  if (r >= 0)
    r = sd.sd_bus_message_read (reply, "o", &path);
  if (r >= 0)
    r = sd.sd_bus_get_property_string (mg->bus, SD_DEST, path, iface, name, &e, &value);
  if (r < 0)
    {
      bus_fail (err, r, &e, "%s: %s of unit `%s`", manager_name (mg), name, unit);
      return NULL;
    }
  return value;
}

static void
reset_failed (manager_t *mg, const char *unit)
{
  cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
  sd.sd_bus_call_method (mg->bus, SD_DEST, SD_PATH, SD_MANAGER, "ResetFailedUnit", &e, NULL, "s", unit);
}

/* Ask for JobRemoved: a bus daemon passes the manager's signals on only
   to subscribers.  A second subscription, or one on a direct connection,
   changes nothing. */
static void
subscribe (manager_t *mg)
{
  cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
  sd.sd_bus_call_method (mg->bus, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", &e, NULL, NULL);
}

/* One property's value, as the variant of its (sv). */
static int
append_value (sd_bus_message *m, const rf_unit_prop_t *p)
{
  int r;
  switch (p->sig[0])
    {
    case 'b': return sd.sd_bus_message_append (m, "v", "b", (int) p->b);
    case 's': return sd.sd_bus_message_append (m, "v", "s", p->s);
    case 'y': case 'q': return sd.sd_bus_message_append (m, "v", p->sig, (int) p->t);
    case 'n': return sd.sd_bus_message_append (m, "v", "n", (int) p->x);
    case 'u': return sd.sd_bus_message_append (m, "v", "u", (uint32_t) p->t);
    case 'i': return sd.sd_bus_message_append (m, "v", "i", (int32_t) p->x);
    case 't': return sd.sd_bus_message_append (m, "v", "t", p->t);
    case 'x': return sd.sd_bus_message_append (m, "v", "x", p->x);
    case 'd': return sd.sd_bus_message_append (m, "v", "d", p->d);
    default: break;
    }
  r = sd.sd_bus_message_open_container (m, 'v', p->sig);
  if (r >= 0 && strcmp (p->sig, "ay") == 0)
    r = sd.sd_bus_message_append_array (m, 'y', p->bytes, p->n_bytes);
  else if (r >= 0)
    {
      r = sd.sd_bus_message_open_container (m, 'a', "s");
      for (char **s = p->strv; r >= 0 && s && *s; s++)
        r = sd.sd_bus_message_append (m, "s", *s);
      if (r >= 0)
        r = sd.sd_bus_message_close_container (m);
    }
  if (r >= 0)
    r = sd.sd_bus_message_close_container (m);
  return r;
}

static int
append_props (sd_bus_message *m, const rf_unit_prop_t *p, size_t n)
{
  int r = 0;
  for (size_t i = 0; i < n && r >= 0; i++)
    {
      r = sd.sd_bus_message_open_container (m, 'r', "sv");
      if (r >= 0)
        r = sd.sd_bus_message_append (m, "s", p[i].name);
      if (r >= 0)
        r = append_value (m, &p[i]);
      if (r >= 0)
        r = sd.sd_bus_message_close_container (m);
    }
  return r;
}

static bool
slice_unit_p (const char *unit)
{
  return rf_systemd_name_ends_with (unit, ".slice");
}

/* StartTransientUnit of the container's unit: a scope with pid in it, in
   slice; or a slice (systemd places it by its name; Wants= its parent,
   as runc), which systemd takes no process into: the caller moves pid. */
static int
start_unit (manager_t *mg, const char *unit, const char *slice, const char *id, pid_t pid,
            const rf_unit_prop_t *limits, size_t n_limits, rf_error_t *err)
{
  cleanup_bus_message sd_bus_message *m = NULL;
  cleanup_free char *description = xasprintf ("runf container %s", id);
  char *wants[] = { (char *) slice, NULL };
  bool v2 = rf_cgroup_unified_p ();
  bool scope = !slice_unit_p (unit);
  const rf_unit_prop_t props[] = {
    { .name = "Description", .sig = "s", .s = description },
    scope ? (rf_unit_prop_t) { .name = "Slice", .sig = "s", .s = slice }
          : (rf_unit_prop_t) { .name = "Wants", .sig = "as", .strv = wants },
    /* No ordering against shutdown.target and the like: the unit goes
       when the container does. */
    { .name = "DefaultDependencies", .sig = "b", .b = false },
    /* Every controller, limits or not, as runc: events and update need
       them. */
    { .name = "MemoryAccounting", .sig = "b", .b = true },
    { .name = "CPUAccounting", .sig = "b", .b = true },
    { .name = "TasksAccounting", .sig = "b", .b = true },
    { .name = v2 ? "IOAccounting" : "BlockIOAccounting", .sig = "b", .b = true },
    /* Last, for a scope alone (systemd takes Delegate= for scopes, not
       slices): the container makes cgroups below its own as it likes,
       and runf writes what systemd has no property for. */
    { .name = "Delegate", .sig = "b", .b = true },
  };
  int r;

  if (new_call (mg, &m, "StartTransientUnit", err) < 0)
    return -1;
  r = sd.sd_bus_message_append (m, "ss", unit, "replace");
  if (r >= 0)
    r = sd.sd_bus_message_open_container (m, 'a', "(sv)");
  if (r >= 0)
    r = append_props (m, props, ARRAY_SIZE (props) - (scope ? 0 : 1));
  if (r >= 0)
    r = append_props (m, limits, n_limits);
  if (r >= 0 && scope)
    r = sd.sd_bus_message_append (m, "(sv)", "PIDs", "au", 1, (uint32_t) pid);
  if (r >= 0)
    r = sd.sd_bus_message_close_container (m);
  /* No auxiliary units. */
  if (r >= 0)
    r = sd.sd_bus_message_append (m, "a(sa(sv))", 0);
  if (r < 0)
    return bus_fail (err, r, NULL, "%s: start unit `%s`", manager_name (mg), unit);
  return call_job (mg, m, "start", unit, "org.freedesktop.systemd1.UnitExists", err);
}

int
rf_cgroup_systemd_check (const rf_spec_t *spec, const char *id, bool rootless, rf_error_t *err)
{
  cleanup_free char *slice = NULL;
  cleanup_free char *unit = NULL;
  json_t *linux_ = json_object_get (spec->raw, "linux");
  const char *cgroups_path = NULL;
  rf_resources_t res;

  rf_unit_prop_t *extra = NULL;
  size_t n_extra = 0;

  if (rf_json_get_string (linux_, "linux", "cgroupsPath", &cgroups_path, err) < 0
      || rf_systemd_unit_for (cgroups_path, id, rootless, &slice, &unit, err) < 0
      || rf_resources_parse (json_object_get (linux_, "resources"), "linux.resources", &res, err) < 0)
    return -1;
  rf_resources_clear (&res);
  if (rf_systemd_annotation_props (spec->annotations, &extra, &n_extra, err) < 0)
    return -1;
  rf_unit_props_free (extra, n_extra);
  return 0;
}

int
rf_cgroup_systemd_create (rf_cgroup_t *cg, const rf_spec_t *spec, const char *id, bool rootless,
                          pid_t pid, rf_error_t *err)
{
  cleanup_manager manager_t mg = { 0 };
  cleanup_free char *slice = NULL;
  cleanup_free char *unit = NULL;
  cleanup_free char *path = NULL;
  json_t *linux_ = json_object_get (spec->raw, "linux");
  const char *cgroups_path = NULL;
  rf_unit_prop_t *limits = NULL;
  size_t n_limits = 0;
  rf_resources_t res;
  int r;

  memset (cg, 0, sizeof *cg);
  rf_resources_init (&res);
  if (rf_json_get_string (linux_, "linux", "cgroupsPath", &cgroups_path, err) < 0
      || rf_systemd_unit_for (cgroups_path, id, rootless, &slice, &unit, err) < 0
      || rf_resources_parse (json_object_get (linux_, "resources"), "linux.resources", &res, err) < 0
      || manager_open (&mg, rootless, err) < 0)
    goto fail;
  subscribe (&mg);
  if (rf_systemd_resource_props (&res, rf_cgroup_unified_p (), manager_version (&mg), &limits, &n_limits,
                                 err) < 0)
    goto fail;
  /* The annotations' properties last: systemd takes the last of a name,
     so they override runf's, as runc's do. */
  {
    rf_unit_prop_t *extra;
    size_t n_extra;
    if (rf_systemd_annotation_props (spec->annotations, &extra, &n_extra, err) < 0)
      goto fail;
    limits = xrealloc (limits, (n_limits + n_extra + 1) * sizeof *limits);
    memcpy (limits + n_limits, extra, n_extra * sizeof *extra);
    n_limits += n_extra;
    free (extra);
  }
  rf_debug ("create `%s`: unit %s %s %s of %s", id, unit, slice_unit_p (unit) ? "wanting" : "in", slice,
            manager_name (&mg));
  r = start_unit (&mg, unit, slice, id, pid, limits, n_limits, err);
  if (r == 1)
    {
      /* A failed unit of the name stays until it is reset (a container
         whose processes systemd had to kill, say): runc resets it and
         tries again; any other is someone's. */
      cleanup_free char *state = unit_property (&mg, unit, "Unit", "ActiveState", NULL);
      if (state && strcmp (state, "failed") == 0)
        {
          reset_failed (&mg, unit);
          r = start_unit (&mg, unit, slice, id, pid, limits, n_limits, err);
        }
      if (r == 1)
        {
          rf_error_make (err, EEXIST, "%s: unit `%s`", manager_name (&mg), unit);
          goto fail;
        }
    }
  if (r < 0)
    goto fail;
  cg->unit = xstrdup (unit);
  cg->unit_user = rootless;
  /* systemd says where it made the cgroup: for a user's manager that is
     below its own (user@UID.service/), not what the slice spells. */
  path = unit_property (&mg, unit, slice_unit_p (unit) ? "Slice" : "Scope", "ControlGroup", err);
  if (path == NULL)
    goto fail;
  if (*path != '/')
    {
      rf_error_make (err, ESRCH, "%s: unit `%s` has no cgroup (its process is gone)", manager_name (&mg),
                     unit);
      goto fail;
    }
  /* For a slice the move of pid into it is runf's: it needs write access
     to the cgroup pid is in and their common parent (rootless: a cgroup
     below the user's manager, as `systemd-run --user --scope` gives). */
  if (rf_cgroup_adopt (cg, spec, path, pid, rootless, err) < 0)
    {
      if (slice_unit_p (unit))
        rf_error_wrap (err, "slice unit `%s`: move the container's init into it", unit);
      goto fail;
    }
  rf_unit_props_free (limits, n_limits);
  rf_resources_clear (&res);
  return 0;

fail:
  rf_unit_props_free (limits, n_limits);
  rf_resources_clear (&res);
  /* A unit made stays in *cg: stopping it now would have systemd signal
     pid and wait for it; the caller kills it first. */
  if (cg->unit == NULL)
    rf_cgroup_clear (cg);
  return -1;
}

int
rf_cgroup_systemd_stop (const rf_cgroup_t *cg, rf_error_t *err)
{
  cleanup_manager manager_t mg = { 0 };
  cleanup_bus_message sd_bus_message *m = NULL;
  int r;

  if (manager_open (&mg, cg->unit_user, err) < 0)
    return -1;
  subscribe (&mg);
  if (new_call (&mg, &m, "StopUnit", err) < 0)
    return -1;
  r = sd.sd_bus_message_append (m, "ss", cg->unit, "replace");
  if (r < 0)
    return bus_fail (err, r, NULL, "%s: stop unit `%s`", manager_name (&mg), cg->unit);
  /* A scope goes by itself once its last process has: gone is stopped. */
  r = call_job (&mg, m, "stop", cg->unit, "org.freedesktop.systemd1.NoSuchUnit", err);
  if (r < 0)
    return -1;
  /* Nothing of it is kept, not even as a failed unit. */
  reset_failed (&mg, cg->unit);
  return 0;
}

int
rf_cgroup_systemd_set (const rf_cgroup_t *cg, const rf_resources_t *res, rf_error_t *err)
{
  cleanup_manager manager_t mg = { 0 };
  cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
  cleanup_bus_message sd_bus_message *m = NULL;
  rf_unit_prop_t *props = NULL;
  size_t n = 0;
  int r;

  if (manager_open (&mg, cg->unit_user, err) < 0)
    return -1;
  if (rf_systemd_resource_props (res, rf_cgroup_unified_p (), manager_version (&mg), &props, &n, err) < 0)
    return -1;
  if (n == 0)
    {
      free (props);
      return 0;
    }
  r = new_call (&mg, &m, "SetUnitProperties", err);
  if (r >= 0)
    {
      r = sd.sd_bus_message_append (m, "sb", cg->unit, 1);
      if (r >= 0)
        r = sd.sd_bus_message_open_container (m, 'a', "(sv)");
      if (r >= 0)
        r = append_props (m, props, n);
      if (r >= 0)
        r = sd.sd_bus_message_close_container (m);
      if (r >= 0)
        r = sd.sd_bus_call (mg.bus, m, JOB_TIMEOUT_USEC, &e, NULL);
      if (r < 0)
        bus_fail (err, r, &e, "%s: set the properties of unit `%s`", manager_name (&mg), cg->unit);
    }
  rf_unit_props_free (props, n);
  return r < 0 ? -1 : 0;
}
