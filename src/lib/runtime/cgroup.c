#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "cgroup_systemd.h"

int
rf_cgroup_write (const char *dir, const char *file, const char *value, const char *field,
                 rf_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return rf_error_make (err, 0, "%s: this host has no `%s`", field, path);
      return rf_error_sys (err, "%s: open `%s`", field, path);
    }
  if (write (fd, value, strlen (value)) < 0)
    return rf_error_sys (err, "%s: write `%s` to `%s`", field, value, path);
  return 0;
}

int
rf_cgroup_writef (const char *dir, const char *file, const char *field, rf_error_t *err,
                  const char *fmt, ...)
{
  cleanup_free char *value = NULL;
  va_list ap;
  va_start (ap, fmt);
  value = xvasprintf (fmt, ap);
  va_end (ap);
  return rf_cgroup_write (dir, file, value, field, err);
}

bool
rf_cgroup_has_file (const char *dir, const char *file)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  return access (path, F_OK) == 0;
}

const rf_cgroup_dir_t *
rf_cgroup_find (const rf_cgroup_t *cg, const char *controller)
{
  size_t len = strlen (controller);
  for (size_t i = 0; i < cg->n; i++)
    {
      const char *c = cg->dirs[i].controllers;
      while (c && *c)
        {
          const char *comma = strchr (c, ',');
          size_t l = comma ? (size_t) (comma - c) : strlen (c);
          if (l == len && strncmp (c, controller, len) == 0)
            return &cg->dirs[i];
          c = comma ? comma + 1 : NULL;
        }
    }
  /* On a v2 hierarchy every controller lives in the one directory. */
  for (size_t i = 0; i < cg->n; i++)
    if (cg->dirs[i].v2)
      {
        cleanup_free char *text = NULL;
        cleanup_free char *path = xasprintf ("%s/cgroup.controllers", cg->dirs[i].dir);
        char *save = NULL;
        if (rf_read_file_at (AT_FDCWD, path, 0, &text, NULL, NULL) < 0)
          continue;
        for (char *t = strtok_r (text, " \n", &save); t; t = strtok_r (NULL, " \n", &save))
          if (strcmp (t, controller) == 0)
            return &cg->dirs[i];
      }
  return NULL;
}

/* v1 cpuset: a new cgroup starts with no cpus and no memory nodes, and no
   task can join it until it has both; copy them from the parent. */
static int
init_cpuset (const char *dir, rf_error_t *err)
{
  static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
  cleanup_free char *parent = xstrdup (dir);
  *strrchr (parent, '/') = '\0';
  for (size_t i = 0; i < ARRAY_SIZE (files); i++)
    {
      cleanup_free char *value = NULL;
      cleanup_free char *path = xasprintf ("%s/%s", parent, files[i]);
      if (rf_read_file_at (AT_FDCWD, path, 4096, &value, NULL, err) < 0)
        return -1;
      if (rf_cgroup_write (dir, files[i], value, "cpuset", err) < 0)
        return -1;
    }
  return 0;
}

/* v2: every controller the parent has must be enabled for its children. */
static void
enable_controllers (const char *parent)
{
  cleanup_free char *text = NULL;
  cleanup_free char *path = xasprintf ("%s/cgroup.controllers", parent);
  char *save = NULL;

  if (rf_read_file_at (AT_FDCWD, path, 0, &text, NULL, NULL) < 0)
    return;
  /* A cgroup other than the root (which alone has no cgroup.type) with
     processes of its own must not delegate any: the kernel refuses the
     domain controllers (EBUSY) but takes the threaded ones (cpu, cpuset,
     pids), which makes the parent a thread root, and then no process may
     join a child (EOPNOTSUPP), as under a systemd service or scope with a
     relative cgroupsPath, or rootless below the caller's own cgroup.  The
     limits needing them fail later, naming the field. */
  cleanup_free char *type = xasprintf ("%s/cgroup.type", parent);
  cleanup_free char *procs_path = xasprintf ("%s/cgroup.procs", parent);
  cleanup_free char *procs = NULL;
  if (access (type, F_OK) == 0
      && rf_read_file_at (AT_FDCWD, procs_path, 0, &procs, NULL, NULL) >= 0 && procs[0] != '\0')
    return;
  for (char *t = strtok_r (text, " \n", &save); t; t = strtok_r (NULL, " \n", &save))
    {
      char buf[64];
      snprintf (buf, sizeof buf, "+%s", t);
      rf_cgroup_write (parent, "cgroup.subtree_control", buf, "cgroup", NULL);
    }
}

/* Whether a cgroup that just failed a write is going away: one being
   removed refuses writes (ENODEV) and loses its files (ENOENT) a moment
   before its directory goes. */
static bool
being_removed (const char *dir)
{
  struct timespec pause = { 0, 1000000 };
  for (int i = 0; i < 100; i++)
    {
      if (access (dir, F_OK) < 0 && errno == ENOENT)
        return true;
      nanosleep (&pause, NULL);
    }
  return false;
}

/* Whether a parent that vanished is worth another go: for two seconds
   from the first time, however many goes that is (a slow machine, an
   emulated one, gets as long as a fast one). */
static bool
again_within_limit (struct timespec *since)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  if (since->tv_sec == 0 && since->tv_nsec == 0)
    *since = now;
  return now.tv_sec - since->tv_sec < 2;
}

/* mkdir -p below a hierarchy's mount point, preparing each new level. */
static int
make_dir (const char *mountpoint, const char *rel, bool v2, bool cpuset, rf_error_t *err)
{
  struct timespec first_vanished = { 0, 0 };

  /* An empty parent may be removed by someone else before its child is
     made here (a daemon that stops removes runfd/, a test's teardown the
     parents it used): ENOENT, and another go from the top. */
  for (;;)
    {
      cleanup_free char *path = xstrdup (mountpoint);
      cleanup_free char *copy = xstrdup (rel);
      char *save = NULL;
      rf_error_t cpuset_err = NULL;
      bool vanished = false;

      for (char *c = strtok_r (copy, "/", &save); c; c = strtok_r (NULL, "/", &save))
        {
          char *next = xasprintf ("%s/%s", path, c);
          if (v2)
            enable_controllers (path);
          free (path);
          path = next;
          if (mkdir (path, 0755) < 0)
            {
              if (errno == ENOENT && again_within_limit (&first_vanished))
                {
                  vanished = true;
                  break;
                }
              if (errno != EEXIST)
                return rf_error_sys (err, "cgroup: mkdir `%s`", path);
              continue;
            }
          if (cpuset && init_cpuset (path, &cpuset_err) < 0)
            {
              if (being_removed (path) && again_within_limit (&first_vanished))
                {
                  rf_error_free (&cpuset_err);
                  vanished = true;
                  break;
                }
              if (err && *err == NULL)
                *err = steal_pointer (&cpuset_err);
              rf_error_free (&cpuset_err);
              return -1;
            }
        }
      if (!vanished)
        return 0;
    }
}

static bool
has_controller (const rf_hierarchy_t *h, const char *name)
{
  rf_cgroup_dir_t d = { .controllers = h->controllers };
  rf_cgroup_t one = { .dirs = &d, .n = 1 };
  return !h->v2 && rf_cgroup_find (&one, name) != NULL;
}

/* Whether a hierarchy has a controller the resources set. */
static bool
hierarchy_needed (const rf_hierarchy_t *h, const rf_resources_t *r)
{
  if (h->v2)
    return rf_cgroup_unified_p () ? rf_resources_any_p (r) : (r->n_hugepages || r->unified);
  return (has_controller (h, "memory")
          && (r->mem_limit != RF_UNSET || r->mem_reservation != RF_UNSET || r->mem_swap != RF_UNSET
              || r->mem_swappiness != RF_UNSET || r->has_disable_oom_killer))
         || (has_controller (h, "cpu")
             && (r->cpu_shares || r->cpu_quota != RF_UNSET || r->cpu_period || r->cpu_burst != RF_UNSET
                 || r->cpu_rt_runtime != RF_UNSET || r->cpu_rt_period || r->cpu_idle != RF_UNSET))
         || (has_controller (h, "cpuset") && (r->cpus || r->mems))
         || (has_controller (h, "pids") && r->pids_limit != RF_UNSET)
         || (has_controller (h, "blkio")
             && (r->has_blkio_weight || r->n_weight_devices || r->n_throttle[0] || r->n_throttle[1]
                 || r->n_throttle[2] || r->n_throttle[3]))
         || (has_controller (h, "hugetlb") && r->n_hugepages)
         || (has_controller (h, "net_cls") && r->has_net_class_id)
         || (has_controller (h, "net_prio") && r->net_priorities)
         || (has_controller (h, "devices") && r->n_devices);
}

/* A cgroup that already holds processes belongs to something else (another
   container with the same id under another --root, say): sharing it would
   let that one's limits, pause and delete reach this container and the
   other way round.  runc refuses it too.  A frozen one would freeze the
   container's init as it enters it, and create would wait for it
   forever. */
static int
check_unused (const char *mountpoint, const char *rel, bool v2, const char *controllers, rf_error_t *err)
{
  cleanup_free char *dir = xasprintf ("%s%s%s", mountpoint, rel[0] == '/' ? "" : "/", rel);
  cleanup_free char *procs = xasprintf ("%s/cgroup.procs", dir);
  cleanup_free char *freeze = NULL;
  cleanup_free char *text = NULL;
  cleanup_free char *state = NULL;
  if (rf_read_file_at (AT_FDCWD, procs, 0, &text, NULL, NULL) == 0 && text[0] != '\0')
    return rf_error_make (err, EBUSY, "cgroup `%s` is already in use by other processes", dir);
  if (v2)
    freeze = xasprintf ("%s/cgroup.freeze", dir);
  else if (strstr (controllers, "freezer"))
    freeze = xasprintf ("%s/freezer.state", dir);
  else
    return 0;
  if (rf_read_file_at (AT_FDCWD, freeze, 0, &state, NULL, NULL) == 0
      && (v2 ? state[0] == '1' : strncmp (state, "THAWED", 6) != 0))
    return rf_error_make (err, EBUSY, "cgroup `%s` is frozen: the container would never run (thaw it first)", dir);
  return 0;
}

void
rf_cgroup_clear (rf_cgroup_t *cg)
{
  for (size_t i = 0; i < cg->n; i++)
    {
      free (cg->dirs[i].dir);
      free (cg->dirs[i].controllers);
    }
  free (cg->dirs);
  free (cg->unit);
  cg->dirs = NULL;
  cg->unit = NULL;
  cg->n = 0;
}

rf_device_rule_t *
rf_cgroup_device_rules (const rf_resources_t *res, size_t *n)
{
  /* What every container may use (runc's list): the default devices, the
     pty multiplexer and ptys, and mknod of any device (using one still
     needs a rule). */
  static const rf_device_rule_t defaults[] = {
    { .type = 'c', .major = -1, .minor = -1, .allow = true, .access = "m" },
    { .type = 'b', .major = -1, .minor = -1, .allow = true, .access = "m" },
    { .type = 'c', .major = 1, .minor = 3, .allow = true, .access = "rwm" },
    { .type = 'c', .major = 1, .minor = 5, .allow = true, .access = "rwm" },
    { .type = 'c', .major = 1, .minor = 7, .allow = true, .access = "rwm" },
    { .type = 'c', .major = 1, .minor = 8, .allow = true, .access = "rwm" },
    { .type = 'c', .major = 1, .minor = 9, .allow = true, .access = "rwm" },
    { .type = 'c', .major = 5, .minor = 0, .allow = true, .access = "rwm" },
    { .type = 'c', .major = 5, .minor = 1, .allow = true, .access = "rwm" },
    { .type = 'c', .major = 5, .minor = 2, .allow = true, .access = "rwm" },
    { .type = 'c', .major = 136, .minor = -1, .allow = true, .access = "rwm" },
    { .type = 'c', .major = 10, .minor = 200, .allow = true, .access = "rwm" },
  };
  size_t total = 1 + ARRAY_SIZE (defaults) + res->n_devices, k = 0;
  rf_device_rule_t *rules = xzalloc (total * sizeof *rules);

  rules[k++] = (rf_device_rule_t){ .type = 'a', .major = -1, .minor = -1, .allow = false, .access = "rwm" };
  /* The config's rules come before the defaults, as in runc: engines start
     theirs with "deny all", which must not take away /dev/null. */
  for (size_t i = 0; i < res->n_devices; i++)
    rules[k++] = res->devices[i];
  for (size_t i = 0; i < ARRAY_SIZE (defaults); i++)
    rules[k++] = defaults[i];
  *n = k;
  return rules;
}

int
rf_cgroup_apply (const rf_cgroup_t *cg, const rf_resources_t *res, bool rootless, rf_error_t *err)
{
  bool any_v1 = false;
  for (size_t i = 0; i < cg->n; i++)
    if (!cg->dirs[i].v2)
      any_v1 = true;
  if (cg->n == 0)
    return 0;
  return (any_v1 ? &rf_cgroup_v1_ops : &rf_cgroup_v2_ops)->apply (cg, res, rootless, err);
}

/* The resources with the whole device rule list (deny all,
   linux.resources.devices, runc's defaults) in place of
   linux.resources.devices. */
static int
apply_with_devices (const rf_cgroup_t *cg, rf_resources_t *res, bool rootless, rf_error_t *err)
{
  size_t n_rules;
  rf_device_rule_t *rules = rf_cgroup_device_rules (res, &n_rules);
  free (res->devices);
  res->devices = rules;
  res->n_devices = n_rules;
  res->has_devices = true;
  return rf_cgroup_apply (cg, res, rootless, err);
}

int
rf_cgroup_create (rf_cgroup_t *cg, const rf_spec_t *spec, const char *id, bool rootless,
                  bool minimal, const char *path_override, rf_error_t *err)
{
  cleanup_free char *path = NULL;
  rf_hierarchy_t *h;
  size_t nh;
  rf_resources_t res;
  const char *cgroups_path = NULL;
  json_t *linux_ = json_object_get (spec->raw, "linux");
  int ret = 0;

  memset (cg, 0, sizeof *cg);
  if (rf_json_get_string (linux_, "linux", "cgroupsPath", &cgroups_path, err) < 0
      || rf_resources_parse (json_object_get (linux_, "resources"), "linux.resources", &res, err) < 0)
    return -1;
  path = rf_cgroup_path_for (path_override ? path_override : cgroups_path, id, rootless, err);
  if (path == NULL)
    {
      rf_resources_clear (&res);
      return -1;
    }
  h = rf_cgroup_hierarchies (&nh);
  cg->dirs = xzalloc ((nh + 1) * sizeof *cg->dirs);
  for (size_t i = 0; i < nh && ret == 0; i++)
    {
      cleanup_free char *rel = NULL;
      if (minimal && !hierarchy_needed (&h[i], &res))
        continue;
      if (path[0] == '+')
        {
          cleanup_free char *own = rf_cgroup_own_path (h[i].controllers);
          rel = xasprintf ("%s/%s", strcmp (own, "/") == 0 ? "" : own, path + 1);
        }
      else
        rel = xstrdup (path);
      ret = make_dir (h[i].mountpoint, rel, h[i].v2, strstr (h[i].controllers, "cpuset") != NULL, err);
      if (ret == 0)
        ret = check_unused (h[i].mountpoint, rel, h[i].v2, h[i].controllers, err);
      if (ret == 0)
        {
          cg->dirs[cg->n].dir = xasprintf ("%s%s%s", h[i].mountpoint, rel[0] == '/' ? "" : "/", rel);
          cg->dirs[cg->n].controllers = xstrdup (h[i].controllers);
          cg->dirs[cg->n].v2 = h[i].v2;
          cg->n++;
        }
    }
  rf_cgroup_hierarchies_free (h, nh);

  if (ret < 0 && rootless && err && *err
      && ((*err)->code == EACCES || (*err)->code == EPERM || (*err)->code == EROFS))
    {
      /* No writable (delegated) place for a rootless container: run
         without, as runc and crun do; say so when limits were asked for. */
      if (rf_resources_any_p (&res))
        rf_warn ("cgroups: no writable cgroup for a rootless container (%s): linux.resources not applied",
                 (*err)->msg);
      rf_error_free (err);
      rf_cgroup_destroy (cg, NULL);
      rf_cgroup_clear (cg);
      rf_resources_clear (&res);
      return 0;
    }
  if (ret == 0)
    ret = apply_with_devices (cg, &res, rootless, err);
  rf_resources_clear (&res);
  if (ret < 0)
    {
      rf_cgroup_destroy (cg, NULL);
      rf_cgroup_clear (cg);
    }
  return ret;
}

int
rf_cgroup_adopt (rf_cgroup_t *cg, const rf_spec_t *spec, const char *path, pid_t pid,
                 bool rootless, rf_error_t *err)
{
  rf_hierarchy_t *h;
  size_t nh;
  rf_resources_t res;
  int ret = 0;

  if (rf_resources_parse (json_object_get (json_object_get (spec->raw, "linux"), "resources"),
                          "linux.resources", &res, err) < 0)
    return -1;
  h = rf_cgroup_hierarchies (&nh);
  cg->dirs = xzalloc ((nh + 1) * sizeof *cg->dirs);
  cg->n = 0;
  for (size_t i = 0; i < nh && ret == 0; i++)
    {
      cleanup_free char *dir = xasprintf ("%s%s", h[i].mountpoint, path);
      if (rootless && !h[i].v2)
        continue;
      /* What systemd made is left as it is, its parents' controllers
         included; and no check for other processes: systemd made the
         unit's cgroup for pid alone, and refuses a unit that exists. */
      if (access (dir, F_OK) < 0)
        ret = make_dir (h[i].mountpoint, path, h[i].v2, strstr (h[i].controllers, "cpuset") != NULL, err);
      if (ret == 0)
        {
          cg->dirs[cg->n].dir = steal_pointer (&dir);
          cg->dirs[cg->n].controllers = xstrdup (h[i].controllers);
          cg->dirs[cg->n].v2 = h[i].v2;
          cg->n++;
        }
    }
  rf_cgroup_hierarchies_free (h, nh);
  if (ret == 0 && cg->n == 0)
    ret = rf_error_make (err, ENOENT, "cgroup: no hierarchy holds `%s`", path);
  /* Where pid is already (systemd's own hierarchies) the write moves
     nothing. */
  if (ret == 0)
    ret = rf_cgroup_enter (cg, pid, err);
  if (ret == 0)
    ret = apply_with_devices (cg, &res, rootless, err);
  rf_resources_clear (&res);
  return ret;
}

int
rf_cgroup_device_fence (rf_cgroup_t *cg, const char *path, rf_error_t *err)
{
  rf_hierarchy_t *h;
  size_t nh, n_rules;
  bool v1_devices = false;
  rf_resources_t res;
  int ret = 0;

  memset (cg, 0, sizeof *cg);
  h = rf_cgroup_hierarchies (&nh);
  for (size_t i = 0; i < nh; i++)
    if (has_controller (&h[i], "devices"))
      v1_devices = true;
  cg->dirs = xzalloc ((nh + 1) * sizeof *cg->dirs);
  /* The v1 devices hierarchy where there is one (legacy and hybrid hosts),
     else the v2 one (an eBPF program). */
  for (size_t i = 0; i < nh && ret == 0; i++)
    {
      if (v1_devices ? !has_controller (&h[i], "devices") : !h[i].v2)
        continue;
      ret = make_dir (h[i].mountpoint, path, h[i].v2, false, err);
      if (ret < 0)
        break;
      cg->dirs[cg->n].dir = xasprintf ("%s%s%s", h[i].mountpoint, path[0] == '/' ? "" : "/", path);
      cg->dirs[cg->n].controllers = xstrdup (h[i].controllers);
      cg->dirs[cg->n].v2 = h[i].v2;
      cg->n++;
    }
  rf_cgroup_hierarchies_free (h, nh);
  if (ret == 0 && cg->n == 0)
    ret = rf_error_make (err, ENOTSUP, "cgroup: no device controller (v1 devices or v2) on this host");
  if (ret == 0 && !cg->dirs[0].v2)
    {
      /* v1 refuses to deny all in a cgroup whose children are still going
         away (an earlier daemon's): a list without "a" is this fence, set
         before. */
      cleanup_free char *list_path = xasprintf ("%s/devices.list", cg->dirs[0].dir);
      cleanup_free char *list = NULL;
      if (rf_read_file_at (AT_FDCWD, list_path, 0, &list, NULL, NULL) == 0 && strstr (list, "a *:*") == NULL)
        return 0;
    }
  if (ret == 0)
    {
      rf_resources_init (&res);
      res.devices = rf_cgroup_device_rules (&res, &n_rules);
      res.n_devices = n_rules;
      res.has_devices = true;
      ret = rf_cgroup_apply (cg, &res, false, err);
      rf_resources_clear (&res);
    }
  if (ret < 0)
    rf_cgroup_clear (cg);
  return ret;
}

const char *
rf_cgroup_v2_dir (const rf_cgroup_t *cg)
{
  for (size_t i = 0; i < cg->n; i++)
    if (cg->dirs[i].v2)
      return cg->dirs[i].dir;
  return NULL;
}

int
rf_cgroup_open_into (const rf_cgroup_t *cg)
{
  const char *dir = rf_cgroup_v2_dir (cg);
  return dir ? open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
}

int
rf_cgroup_open_tasks (const rf_cgroup_t *cg, int min_fd, int *fds, size_t max, size_t *n,
                      rf_error_t *err)
{
  *n = 0;
  for (size_t i = 0; i < cg->n; i++)
    {
      cleanup_free char *path = NULL;
      int fd;
      if (cg->dirs[i].v2)
        continue;
      if (*n == max)
        return rf_error_make (err, E2BIG, "cgroup: more than %zu hierarchies", max);
      path = xasprintf ("%s/tasks", cg->dirs[i].dir);
      fd = open (path, O_WRONLY | O_CLOEXEC);
      if (fd < 0)
        return rf_error_sys (err, "cgroup: open `%s`", path);
      fd = rf_fd_above (fd, min_fd, err);
      if (fd < 0)
        return -1;
      fds[(*n)++] = fd;
    }
  return 0;
}

static int
enter_hierarchies (const rf_cgroup_t *cg, pid_t pid, bool v2_only, rf_error_t *err)
{
  char buf[32];
  snprintf (buf, sizeof buf, "%d", (int) pid);
  for (size_t i = 0; i < cg->n; i++)
    if ((cg->dirs[i].v2 || !v2_only)
        && rf_cgroup_write (cg->dirs[i].dir, "cgroup.procs", buf, "cgroup", err) < 0)
      return -1;
  return 0;
}

int
rf_cgroup_enter_v2 (const rf_cgroup_t *cg, pid_t pid, rf_error_t *err)
{
  return enter_hierarchies (cg, pid, true, err);
}

int
rf_cgroup_enter (const rf_cgroup_t *cg, pid_t pid, rf_error_t *err)
{
  return enter_hierarchies (cg, pid, false, err);
}

bool
rf_cgroup_kill (const rf_cgroup_t *cg)
{
  for (size_t i = 0; i < cg->n; i++)
    if (cg->dirs[i].v2 && rf_cgroup_write (cg->dirs[i].dir, "cgroup.kill", "1", "cgroup.kill", NULL) == 0)
      return true;
  return false;
}

/* rmdir, waiting out EBUSY: the kernel keeps a cgroup busy until its last
   task is fully gone, a little after the process was reaped. */
static int
remove_one (const char *dir, rf_error_t *err)
{
  struct timespec pause = { 0, 1000000 };
  int tries = 0;
  while (rmdir (dir) < 0)
    {
      if (errno == ENOENT)
        return 0;
      if (errno != EBUSY || ++tries > 2000)
        return rf_error_sys (err, "remove cgroup `%s`", dir);
      nanosleep (&pause, NULL);
    }
  return 0;
}

/* dir and the cgroups the container made below it, deepest first (on v1
   a container with its own cgroup namespace may make them). */
static int
remove_tree (const char *dir, int depth, rf_error_t *err)
{
  DIR *d = depth < 32 ? opendir (dir) : NULL;
  struct dirent *de;
  int ret = 0;

  while (d && (de = readdir (d)) != NULL)
    {
      cleanup_free char *child = NULL;
      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      child = xasprintf ("%s/%s", dir, de->d_name);
      if (remove_tree (child, depth + 1, err) < 0)
        ret = -1;
    }
  if (d)
    closedir (d);
  if (ret < 0)
    return -1;
  return remove_one (dir, err);
}

int
rf_cgroup_destroy (const rf_cgroup_t *cg, rf_error_t *err)
{
  int ret = 0;
  /* Stopping a unit removes its cgroup; what systemd does not manage (v1
     hierarchies it has no controller for) goes as any cgroup does, and so
     does all of it when systemd failed to stop the unit. */
  if (cg->unit && rf_cgroup_systemd_stop (cg, err) < 0)
    ret = -1;
  for (size_t i = 0; i < cg->n; i++)
    if (remove_tree (cg->dirs[i].dir, 0, ret == 0 ? err : NULL) < 0)
      ret = -1;
  return ret;
}

static const rf_cgroup_dir_t *
freezer_dir (const rf_cgroup_t *cg, bool *v2)
{
  const rf_cgroup_dir_t *d = rf_cgroup_find (cg, "freezer");
  *v2 = false;
  if (d)
    return d;
  for (size_t i = 0; i < cg->n; i++)
    if (cg->dirs[i].v2 && rf_cgroup_has_file (cg->dirs[i].dir, "cgroup.freeze"))
      {
        *v2 = true;
        return &cg->dirs[i];
      }
  return NULL;
}

bool
rf_cgroup_frozen_p (const rf_cgroup_t *cg)
{
  bool v2;
  const rf_cgroup_dir_t *d = freezer_dir (cg, &v2);
  cleanup_free char *path = NULL;
  cleanup_free char *text = NULL;
  if (d == NULL)
    return false;
  path = xasprintf ("%s/%s", d->dir, v2 ? "cgroup.events" : "freezer.state");
  if (rf_read_file_at (AT_FDCWD, path, 0, &text, NULL, NULL) < 0)
    return false;
  return v2 ? strstr (text, "frozen 1") != NULL : strncmp (text, "FROZEN", 6) == 0;
}

int
rf_cgroup_freeze (const rf_cgroup_t *cg, bool frozen, rf_error_t *err)
{
  bool v2;
  const rf_cgroup_dir_t *d = freezer_dir (cg, &v2);
  struct timespec pause = { 0, 1000000 };

  if (d == NULL)
    return rf_error_make (err, 0, "%s: the container has no freezer cgroup",
                          frozen ? "pause" : "resume");
  if (v2 ? rf_cgroup_write (d->dir, "cgroup.freeze", frozen ? "1" : "0", "cgroup.freeze", err)
         : rf_cgroup_write (d->dir, "freezer.state", frozen ? "FROZEN" : "THAWED", "freezer.state", err))
    return -1;
  /* Freezing takes effect task by task; wait until all are. */
  for (int i = 0; i < 5000; i++)
    {
      if (rf_cgroup_frozen_p (cg) == frozen)
        return 0;
      if (!v2 && frozen && i % 100 == 99)
        rf_cgroup_write (d->dir, "freezer.state", "FROZEN", "freezer.state", NULL);
      nanosleep (&pause, NULL);
    }
  return rf_error_make (err, ETIMEDOUT, "%s: the cgroup did not %s", frozen ? "pause" : "resume",
                        frozen ? "freeze" : "thaw");
}

/* The pids of dir's cgroup.procs and of the cgroups below it. */
static void
collect_pids (const char *dir, int depth, pid_t **pids, size_t *n, size_t *cap)
{
  cleanup_free char *path = xasprintf ("%s/cgroup.procs", dir);
  cleanup_free char *text = NULL;
  char *save = NULL;
  DIR *d;
  struct dirent *de;

  if (rf_read_file_at (AT_FDCWD, path, 0, &text, NULL, NULL) == 0)
    for (char *t = strtok_r (text, "\n", &save); t; t = strtok_r (NULL, "\n", &save))
      {
        if (*n == *cap)
          *pids = xrealloc (*pids, (*cap *= 2) * sizeof (pid_t));
        (*pids)[(*n)++] = (pid_t) atoi (t);
      }
  d = depth < 32 ? opendir (dir) : NULL;
  while (d && (de = readdir (d)) != NULL)
    {
      cleanup_free char *child = NULL;
      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      child = xasprintf ("%s/%s", dir, de->d_name);
      collect_pids (child, depth + 1, pids, n, cap);
    }
  if (d)
    closedir (d);
}

int
rf_cgroup_pids (const rf_cgroup_t *cg, pid_t **pids, size_t *n, rf_error_t *err)
{
  cleanup_free char *path = NULL;
  size_t cap = 16;

  *pids = NULL;
  *n = 0;
  if (cg->n == 0)
    return rf_error_make (err, 0, "the container has no cgroup");
  path = xasprintf ("%s/cgroup.procs", cg->dirs[0].dir);
  if (access (path, F_OK) < 0)
    return rf_error_sys (err, "read `%s`", path);
  *pids = xmalloc (cap * sizeof (pid_t));
  /* Sub-cgroups too: every process of the container, as runc's ps, kill
     --all and delete see them. */
  collect_pids (cg->dirs[0].dir, 0, pids, n, &cap);
  return 0;
}

json_t *
rf_cgroup_to_json (const rf_cgroup_t *cg)
{
  json_t *arr = json_array ();
  for (size_t i = 0; i < cg->n; i++)
    json_array_append_new (arr, json_pack ("{s:s, s:s, s:b}", "dir", cg->dirs[i].dir,
                                           "controllers", cg->dirs[i].controllers, "v2",
                                           cg->dirs[i].v2));
  return arr;
}

int
rf_cgroup_from_json (json_t *j, rf_cgroup_t *cg, rf_error_t *err)
{
  size_t i;
  json_t *item;
  memset (cg, 0, sizeof *cg);
  if (j == NULL || !json_is_array (j))
    return 0;
  cg->dirs = xzalloc ((json_array_size (j) + 1) * sizeof *cg->dirs);
  json_array_foreach (j, i, item)
    {
      const char *dir = NULL, *ctl = "";
      bool v2 = false;
      if (rf_json_get_string (item, "state.cgroup", "dir", &dir, err) < 0
          || rf_json_get_string (item, "state.cgroup", "controllers", &ctl, err) < 0
          || rf_json_get_bool (item, "state.cgroup", "v2", &v2, err) < 0)
        return -1;
      if (dir == NULL || strncmp (dir, RF_CGROUP_ROOT "/", sizeof RF_CGROUP_ROOT) != 0 || strstr (dir, ".."))
        return rf_error_make (err, 0, "state.cgroup: `%s` is not below " RF_CGROUP_ROOT,
                              dir ? dir : "");
      cg->dirs[cg->n].dir = xstrdup (dir);
      cg->dirs[cg->n].controllers = xstrdup (ctl);
      cg->dirs[cg->n].v2 = v2;
      cg->n++;
    }
  return 0;
}
