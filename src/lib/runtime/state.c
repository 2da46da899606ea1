#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"

#define ID_MAX 1024

bool
rf_id_valid_p (const char *id)
{
  size_t len;
  if (id == NULL)
    return false;
  len = strlen (id);
  if (len == 0 || len > ID_MAX || strcmp (id, ".") == 0 || strcmp (id, "..") == 0)
    return false;
  for (const char *p = id; *p; p++)
    {
      char c = *p;
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '_' || c == '+' || c == '-' || c == '.'))
        return false;
    }
  return true;
}

int
rf_id_check (const char *id, rf_error_t *err)
{
  if (id == NULL || *id == '\0')
    return rf_error_make (err, 0, "container id: missing");
  if (!rf_id_valid_p (id))
    {
      /* The id is the user's input: shown escaped, so the error stays one line. */
      cleanup_free char *shown = rf_json_quote (id);
      return rf_error_make (err, 0,
                            "container id %s: invalid (use letters, digits, _ + - . only)", shown);
    }
  return 0;
}

char *
rf_state_default_root (bool rootless)
{
  const char *xdg;
  if (!rootless)
    return xstrdup ("/run/runf");
  xdg = getenv ("XDG_RUNTIME_DIR");
  if (xdg && *xdg == '/')
    return xasprintf ("%s/runf", xdg);
  return xasprintf ("/tmp/runf-%d", (int) geteuid ());
}

char *
rf_state_dir (const char *root, const char *id)
{
  return xasprintf ("%s/%s", root, id);
}

char *
rf_time_now_rfc3339 (void)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  return xasprintf ("%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                    ts.tv_nsec);
}

int
rf_state_write (const char *dir, const rf_state_t *st, rf_error_t *err)
{
  cleanup_json json_t *doc = NULL;
  cleanup_free char *text = NULL;
  cleanup_free char *path = xasprintf ("%s/state.json", dir);
  json_t *ann = json_object ();

  for (size_t i = 0; st->annotations && st->annotations[i]; i += 2)
    json_object_set_new (ann, st->annotations[i], json_string (st->annotations[i + 1]));
  doc = json_pack ("{s:s, s:i, s:I, s:I, s:s, s:s, s:s, s:i, s:o, s:b, s:b, s:o, s:s?}",
                   "id", st->id, "pid", (int) st->pid,
                   "start_time", (json_int_t) st->start_time,
                   "mnt_ns", (json_int_t) st->mnt_ns,
                   "bundle", st->bundle, "rootfs", st->rootfs,
                   "created", st->created, "owner", (int) st->owner,
                   "annotations", ann, "rootless", st->rootless,
                   "own_pidns", st->own_pidns, "cgroup", rf_cgroup_to_json (&st->cgroup), "rdt_dir", st->rdt_dir);
  if (doc == NULL)
    return rf_error_make (err, 0, "state of `%s`: not valid UTF-8", st->id);
  if (st->cgroup.unit)
    {
      json_object_set_new (doc, "systemd_unit", json_string (st->cgroup.unit));
      json_object_set_new (doc, "systemd_user", json_boolean (st->cgroup.unit_user));
    }
  text = json_dumps (doc, JSON_COMPACT);
  return rf_write_file_atomic (path, text, strlen (text), 0600, err);
}

int
rf_state_read (const char *root, const char *id, rf_state_t *st, rf_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_json json_t *doc = NULL;
  const char *s;
  int64_t v;

  memset (st, 0, sizeof *st);
  if (rf_id_check (id, err) < 0)
    return -1;
  path = xasprintf ("%s/%s/state.json", root, id);
  if (access (path, F_OK) < 0)
    {
      cleanup_free char *dir = rf_state_dir (root, id);
      if (access (dir, F_OK) == 0)
        return rf_error_make (err, ENOENT, "container `%s` is still being created", id);
      return rf_error_make (err, ENOENT, "container `%s` does not exist", id);
    }
  doc = rf_json_load_file (path, err);
  if (doc == NULL)
    return -1;
  st->id = xstrdup (id);
  if (rf_json_get_int64 (doc, "state", "pid", &v, err) < 0)
    return -1;
  st->pid = (pid_t) v;
  if (rf_json_get_int64 (doc, "state", "start_time", &v, err) < 0)
    return -1;
  st->start_time = (unsigned long long) v;
  v = 0;
  if (rf_json_get_int64 (doc, "state", "mnt_ns", &v, err) < 0)
    return -1;
  st->mnt_ns = (unsigned long long) v;
  s = "";
  rf_json_get_string (doc, "state", "bundle", &s, NULL);
  st->bundle = xstrdup (s);
  s = "";
  rf_json_get_string (doc, "state", "rootfs", &s, NULL);
  st->rootfs = xstrdup (s);
  s = "";
  rf_json_get_string (doc, "state", "created", &s, NULL);
  st->created = xstrdup (s);
  v = 0;
  rf_json_get_int64 (doc, "state", "owner", &v, NULL);
  st->owner = (uid_t) v;
  rf_json_get_bool (doc, "state", "rootless", &st->rootless, NULL);
  rf_json_get_bool (doc, "state", "own_pidns", &st->own_pidns, NULL);
  s = NULL;
  rf_json_get_string (doc, "state", "rdt_dir", &s, NULL);
  st->rdt_dir = s ? xstrdup (s) : NULL;
  if (rf_json_get_strmap (doc, "state", "annotations", &st->annotations, err) < 0
      || rf_cgroup_from_json (json_object_get (doc, "cgroup"), &st->cgroup, err) < 0)
    return -1;
  /* A cgroup systemd made (--systemd-cgroup): every later command goes
     through the same manager. */
  s = NULL;
  if (rf_json_get_string (doc, "state", "systemd_unit", &s, err) < 0
      || rf_json_get_bool (doc, "state", "systemd_user", &st->cgroup.unit_user, err) < 0)
    return -1;
  if (s && (strchr (s, '/') || *s == '\0'))
    return rf_error_make (err, 0, "state.systemd_unit: `%s` is not a unit name", s);
  st->cgroup.unit = s ? xstrdup (s) : NULL;
  return 0;
}

void
rf_state_clear (rf_state_t *st)
{
  free (st->id);
  free (st->bundle);
  free (st->rootfs);
  free (st->created);
  strv_free (st->annotations);
  rf_cgroup_clear (&st->cgroup);
  free (st->rdt_dir);
  memset (st, 0, sizeof *st);
}

int
rf_state_lock (const char *dir, rf_error_t *err)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return rf_error_sys (err, "open `%s`", dir);
  if (flock (fd, LOCK_EX) < 0)
    {
      close (fd);
      return rf_error_sys (err, "lock `%s`", dir);
    }
  return fd;
}

unsigned long long
rf_proc_start_time (pid_t pid, bool *zombie)
{
  char path[64], buf[1024];
  char *p;
  ssize_t n;
  int fd;

  if (zombie)
    *zombie = false;
  if (pid <= 0)
    return 0;
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* The command name may hold spaces and parentheses; the fields start
     after the last ')'. Then: state (3) ... starttime (22). */
  p = strrchr (buf, ')');
  if (p == NULL || p[1] != ' ')
    return 0;
  p += 2;
  if (zombie)
    *zombie = *p == 'Z' || *p == 'X';
  for (int field = 3; field < 22; field++)
    {
      p = strchr (p, ' ');
      if (p == NULL)
        return 0;
      p++;
    }
  return strtoull (p, NULL, 10);
}

unsigned long long
rf_proc_mnt_ns (pid_t pid)
{
  char path[64];
  struct stat sb;
  snprintf (path, sizeof path, "/proc/%d/ns/mnt", (int) pid);
  if (stat (path, &sb) < 0)
    return 0;
  return (unsigned long long) sb.st_ino;
}

bool
rf_state_alive_p (const rf_state_t *st)
{
  bool zombie;
  unsigned long long t = rf_proc_start_time (st->pid, &zombie);
  if (t == 0 || t != st->start_time || zombie)
    return false;
  if (st->mnt_ns == 0)
    return true;
  {
    unsigned long long ns = rf_proc_mnt_ns (st->pid);
    /* A created container's init is not dumpable until it execs: an
       unprivileged caller cannot see its namespaces, and the start time
       alone must do. */
    if (ns == 0 && (errno == EACCES || errno == EPERM))
      return true;
    return ns == st->mnt_ns;
  }
}

rf_status_t
rf_state_status (const char *root, const rf_state_t *st)
{
  cleanup_free char *fifo = NULL;
  if (!rf_state_alive_p (st))
    return RF_STATUS_STOPPED;
  fifo = xasprintf ("%s/%s/exec.fifo", root, st->id);
  if (access (fifo, F_OK) == 0)
    return RF_STATUS_CREATED;
  if (st->cgroup.n && rf_cgroup_frozen_p (&st->cgroup))
    return RF_STATUS_PAUSED;
  return RF_STATUS_RUNNING;
}

const char *
rf_status_name (rf_status_t status)
{
  switch (status)
    {
    case RF_STATUS_CREATING: return "creating";
    case RF_STATUS_CREATED: return "created";
    case RF_STATUS_RUNNING: return "running";
    case RF_STATUS_PAUSED: return "paused";
    default: return "stopped";
    }
}
