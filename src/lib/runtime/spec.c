/* config.json → rf_spec_t.  Every value is checked here, with an error that
 * names the field, so that the code between clone and exec never meets a
 * surprise it would have to report from inside a half-built container. */
#include "spec.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "capnames.h"
#include "resources.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct
{
  const char *type;
  const char *proc_name;
  int flag;
} namespace_types[] = {
  { "pid", "pid", CLONE_NEWPID },       { "network", "net", CLONE_NEWNET },
  { "mount", "mnt", CLONE_NEWNS },      { "ipc", "ipc", CLONE_NEWIPC },
  { "uts", "uts", CLONE_NEWUTS },       { "user", "user", CLONE_NEWUSER },
  { "cgroup", "cgroup", CLONE_NEWCGROUP }, { "time", "time", CLONE_NEWTIME },
};

int
rf_namespace_flag (const char *type)
{
  for (size_t i = 0; i < ARRAY_SIZE (namespace_types); i++)
    if (strcmp (namespace_types[i].type, type) == 0)
      return namespace_types[i].flag;
  return 0;
}

const char *
rf_namespace_type_name (size_t i)
{
  return i < ARRAY_SIZE (namespace_types) ? namespace_types[i].type : NULL;
}

/* The user namespace first, so that the others are entered with the
   privileges it grants; mount last, since after it the paths of the others
   may no longer resolve. */
const int rf_namespace_join_order[RF_NAMESPACE_TYPES] = {
  CLONE_NEWUSER, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET,
  CLONE_NEWPID,  CLONE_NEWCGROUP, CLONE_NEWTIME, CLONE_NEWNS,
};

const char *
rf_namespace_proc_name (int flag)
{
  for (size_t i = 0; i < ARRAY_SIZE (namespace_types); i++)
    if (namespace_types[i].flag == flag)
      return namespace_types[i].proc_name;
  return "?";
}

const rf_namespace_t *
rf_spec_namespace (const rf_spec_t *spec, int flag)
{
  for (size_t i = 0; i < spec->n_namespaces; i++)
    if (spec->namespaces[i].flag == flag)
      return &spec->namespaces[i];
  return NULL;
}

static const struct
{
  const char *name;
  int resource;
} rlimit_types[] = {
  { "RLIMIT_AS", RLIMIT_AS },           { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },         { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },     { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },   { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

/* One set of process.capabilities.  A name runf does not know is left
   out, and added to *unknown (", "-separated) for one warning: configs
   written for newer kernels name capabilities this one lacks, and runc
   (1.2 on) runs them the same way. */
static int
parse_caps_set (json_t *caps, const char *name, uint64_t *out, char **unknown, rf_error_t *err)
{
  cleanup_strv char **names = NULL;
  int r = rf_json_get_strv (caps, "process.capabilities", name, &names, err);
  if (r < 0)
    return -1;
  *out = 0;
  for (size_t i = 0; names && names[i]; i++)
    {
      int cap = rf_cap_from_name (names[i]);
      if (cap < 0)
        {
          if (*unknown == NULL || strstr (*unknown, names[i]) == NULL)
            {
              char *more = xasprintf ("%s%s%s", *unknown ? *unknown : "", *unknown ? ", " : "", names[i]);
              free (*unknown);
              *unknown = more;
            }
          continue;
        }
      if (cap > rf_cap_last ())
        continue; /* known to runf, not to this kernel: nothing to grant */
      *out |= 1ULL << cap;
    }
  return 0;
}

static int
parse_user (rf_process_t *p, json_t *proc, rf_error_t *err)
{
  json_t *user = NULL, *gids = NULL, *g;
  size_t i;

  if (rf_json_get_object (proc, "process", "user", &user, err) < 0)
    return -1;
  if (user == NULL)
    return 0;
  if (rf_json_get_uint32 (user, "process.user", "uid", &p->uid, err) < 0
      || rf_json_get_uint32 (user, "process.user", "gid", &p->gid, err) < 0)
    return -1;
  if (json_object_get (user, "username") != NULL)
    return rf_error_make (err, 0, "process.user.username: only numeric ids are used on Linux");
  if (rf_json_get_uint32 (user, "process.user", "umask", &p->umask, err) < 0)
    return -1;
  p->has_umask = json_object_get (user, "umask") != NULL;
  if (rf_json_get_array (user, "process.user", "additionalGids", &gids, err) < 0)
    return -1;
  if (gids == NULL)
    return 0;
  p->additional_gids = xzalloc (sizeof (uint32_t) * (json_array_size (gids) + 1));
  json_array_foreach (gids, i, g)
    {
      if (!json_is_integer (g) || json_integer_value (g) < 0
          || json_integer_value (g) > UINT32_MAX)
        return rf_error_make (err, 0,
                              "process.user.additionalGids[%zu]: expected a gid", i);
      p->additional_gids[p->n_additional_gids++] = json_integer_value (g);
    }
  return 0;
}

static int
parse_rlimits (rf_process_t *p, json_t *proc, rf_error_t *err)
{
  json_t *arr = NULL, *item;
  size_t i;

  int r = rf_json_get_array (proc, "process", "rlimits", &arr, err);

  if (r <= 0)
    return r;
  p->rlimits = xzalloc (sizeof (rf_rlimit_t) * (json_array_size (arr) + 1));
  json_array_foreach (arr, i, item)
    {
      cleanup_free char *where = xasprintf ("process.rlimits[%zu]", i);
      const char *type = NULL;
      rf_rlimit_t *rl = &p->rlimits[p->n_rlimits];
      size_t k;

      if (!json_is_object (item))
        return rf_error_make (err, 0, "%s: expected an object", where);
      if (rf_json_get_string (item, where, "type", &type, err) < 0)
        return -1;
      if (type == NULL)
        return rf_error_make (err, 0, "%s.type: missing", where);
      for (k = 0; k < ARRAY_SIZE (rlimit_types); k++)
        if (strcmp (rlimit_types[k].name, type) == 0)
          break;
      if (k == ARRAY_SIZE (rlimit_types))
        return rf_error_make (err, 0, "%s.type: unknown rlimit `%s`", where, type);
      for (size_t j = 0; j < p->n_rlimits; j++)
        if (p->rlimits[j].resource == rlimit_types[k].resource)
          return rf_error_make (err, 0, "%s.type: `%s` is given twice", where, type);
      rl->resource = rlimit_types[k].resource;
      rl->name = rlimit_types[k].name;
      if (rf_json_get_uint64 (item, where, "soft", &rl->soft, err) < 0
          || rf_json_get_uint64 (item, where, "hard", &rl->hard, err) < 0)
        return -1;
      if (rl->soft > rl->hard)
        return rf_error_make (err, 0, "%s: soft limit %" PRIu64 " is above the hard limit %" PRIu64,
                              where, rl->soft, rl->hard);
      p->n_rlimits++;
    }
  return 0;
}

static int
parse_process (rf_process_t *p, json_t *proc, rf_error_t *err)
{
  json_t *caps = NULL, *console = NULL;
  const char *cwd = NULL;
  int64_t oom;

  if (rf_json_get_bool (proc, "process", "terminal", &p->terminal, err) < 0
      || rf_json_get_object (proc, "process", "consoleSize", &console, err) < 0)
    return -1;
  if (console)
    {
      uint32_t h = 0, w = 0;
      if (rf_json_get_uint32 (console, "process.consoleSize", "height", &h, err) < 0
          || rf_json_get_uint32 (console, "process.consoleSize", "width", &w, err) < 0)
        return -1;
      if (h > 65535 || w > 65535)
        return rf_error_make (err, 0, "process.consoleSize: larger than 65535");
      p->console_height = h;
      p->console_width = w;
    }
  if (parse_user (p, proc, err) < 0)
    return -1;
  if (rf_json_get_strv (proc, "process", "args", &p->args, err) < 0)
    return -1;
  if (p->args == NULL || p->args[0] == NULL || p->args[0][0] == '\0')
    return rf_error_make (err, 0, "process.args: must not be empty");
  if (json_object_get (proc, "commandLine") != NULL)
    return rf_error_make (err, 0, "process.commandLine: only used on Windows");
  if (rf_json_get_strv (proc, "process", "env", &p->env, err) < 0)
    return -1;
  if (p->env == NULL)
    p->env = xzalloc (sizeof (char *));
  for (size_t i = 0; p->env[i]; i++)
    if (strchr (p->env[i], '=') == NULL || p->env[i][0] == '=')
      return rf_error_make (err, 0, "process.env[%zu]: `%s` is not KEY=VALUE",
                            i, p->env[i]);
  if (rf_json_get_string (proc, "process", "cwd", &cwd, err) < 0)
    return -1;
  if (cwd == NULL || cwd[0] != '/')
    return rf_error_make (err, 0, "process.cwd: `%s` must be an absolute path",
                          cwd ? cwd : "");
  p->cwd = xstrdup (cwd);

  if (rf_json_get_object (proc, "process", "capabilities", &caps, err) < 0)
    return -1;
  if (caps)
    {
      cleanup_free char *unknown = NULL;
      p->caps.present = true;
      if (parse_caps_set (caps, "bounding", &p->caps.bounding, &unknown, err) < 0
          || parse_caps_set (caps, "effective", &p->caps.effective, &unknown, err) < 0
          || parse_caps_set (caps, "inheritable", &p->caps.inheritable, &unknown, err) < 0
          || parse_caps_set (caps, "permitted", &p->caps.permitted, &unknown, err) < 0
          || parse_caps_set (caps, "ambient", &p->caps.ambient, &unknown, err) < 0)
        return -1;
      if (unknown)
        rf_warn ("process.capabilities: ignoring unknown or unavailable capabilities: %s", unknown);
    }
  if (parse_rlimits (p, proc, err) < 0)
    return -1;
  if (rf_json_get_bool (proc, "process", "noNewPrivileges", &p->no_new_privileges, err) < 0)
    return -1;
  if (rf_json_get_int64 (proc, "process", "oomScoreAdj", &oom, err) < 0)
    return -1;
  if (json_object_get (proc, "oomScoreAdj"))
    {
      if (oom < -1000 || oom > 1000)
        return rf_error_make (err, 0, "process.oomScoreAdj: %" PRId64 " is outside -1000..1000", oom);
      p->has_oom_score_adj = true;
      p->oom_score_adj = (int) oom;
    }
  return 0;
}

int
rf_process_parse (json_t *proc, rf_process_t *p, rf_error_t *err)
{
  memset (p, 0, sizeof *p);
  if (!json_is_object (proc))
    return rf_error_make (err, 0, "process: expected an object");
  if (parse_process (p, proc, err) < 0 || rf_process_parse_extra (proc, p, err) < 0)
    {
      rf_process_free (p);
      return -1;
    }
  return 0;
}

void
rf_process_free (rf_process_t *p)
{
  free (p->additional_gids);
  strv_free (p->args);
  strv_free (p->env);
  free (p->cwd);
  free (p->rlimits);
  free (p->apparmor_profile);
  free (p->selinux_label);
  free (p->cpu_affinity_initial);
  free (p->cpu_affinity_final);
  memset (p, 0, sizeof *p);
}

static int
parse_mounts (rf_spec_t *spec, json_t *doc, rf_error_t *err)
{
  json_t *arr = NULL, *item;
  size_t i;

  if (rf_json_get_array (doc, "", "mounts", &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  spec->mounts = xzalloc (sizeof (rf_mount_t) * (json_array_size (arr) + 1));
  json_array_foreach (arr, i, item)
    {
      cleanup_free char *where = xasprintf ("mounts[%zu]", i);
      cleanup_strv char **options = NULL;
      rf_mount_t *m = &spec->mounts[spec->n_mounts++];
      const char *dest = NULL, *type = NULL, *source = NULL;

      if (!json_is_object (item))
        return rf_error_make (err, 0, "%s: expected an object", where);
      if (rf_json_get_string (item, where, "destination", &dest, err) < 0
          || rf_json_get_string (item, where, "type", &type, err) < 0
          || rf_json_get_string (item, where, "source", &source, err) < 0
          || rf_json_get_strv (item, where, "options", &options, err) < 0)
        return -1;
      if (dest == NULL || *dest == '\0')
        return rf_error_make (err, 0, "%s.destination: missing", where);
      if (json_object_get (item, "uidMappings") || json_object_get (item, "gidMappings"))
        return rf_error_make (err, 0, "%s.uidMappings: idmapped mounts are not supported by runf yet",
                              where);
      /* runc treats a relative destination as relative to "/". */
      m->destination = dest[0] == '/' ? xstrdup (dest) : xasprintf ("/%s", dest);
      m->type = xstrdup (type ? type : "none");
      m->source = xstrdup (source ? source : "none");
      if (rf_mount_parse_options (m, options, where, err) < 0)
        return -1;
      if (strcmp (m->type, "bind") == 0)
        m->bind = true;
      if (m->bind && (source == NULL || *source == '\0'))
        return rf_error_make (err, 0, "%s.source: a bind mount needs a source", where);
      if (!m->bind && type == NULL)
        return rf_error_make (err, 0, "%s.type: missing (and not a bind mount)", where);
    }
  return 0;
}

static int
parse_idmaps (json_t *linux_, const char *key, rf_idmap_t **out, size_t *n,
              rf_error_t *err)
{
  json_t *arr = NULL, *item;
  size_t i;

  if (rf_json_get_array (linux_, "linux", key, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  *out = xzalloc (sizeof (rf_idmap_t) * (json_array_size (arr) + 1));
  json_array_foreach (arr, i, item)
    {
      cleanup_free char *where = xasprintf ("linux.%s[%zu]", key, i);
      rf_idmap_t *m = &(*out)[(*n)++];
      if (!json_is_object (item))
        return rf_error_make (err, 0, "%s: expected an object", where);
      if (!json_object_get (item, "containerID") || !json_object_get (item, "hostID")
          || !json_object_get (item, "size"))
        return rf_error_make (err, 0, "%s: needs containerID, hostID and size", where);
      if (rf_json_get_uint32 (item, where, "containerID", &m->container_id, err) < 0
          || rf_json_get_uint32 (item, where, "hostID", &m->host_id, err) < 0
          || rf_json_get_uint32 (item, where, "size", &m->size, err) < 0)
        return -1;
      if (m->size == 0)
        return rf_error_make (err, 0, "%s.size: must not be 0", where);
      if ((uint64_t) m->container_id + m->size > UINT32_MAX
          || (uint64_t) m->host_id + m->size > UINT32_MAX)
        return rf_error_make (err, 0, "%s: the range overflows 32-bit ids", where);
    }
  return 0;
}

static int
parse_namespaces (rf_spec_t *spec, json_t *linux_, rf_error_t *err)
{
  json_t *arr = NULL, *item;
  size_t i;

  if (rf_json_get_array (linux_, "linux", "namespaces", &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  spec->namespaces = xzalloc (sizeof (rf_namespace_t) * (json_array_size (arr) + 1));
  json_array_foreach (arr, i, item)
    {
      cleanup_free char *where = xasprintf ("linux.namespaces[%zu]", i);
      const char *type = NULL, *path = NULL;
      rf_namespace_t *ns;
      int flag;

      if (!json_is_object (item))
        return rf_error_make (err, 0, "%s: expected an object", where);
      if (rf_json_get_string (item, where, "type", &type, err) < 0
          || rf_json_get_string (item, where, "path", &path, err) < 0)
        return -1;
      if (type == NULL)
        return rf_error_make (err, 0, "%s.type: missing", where);
      flag = rf_namespace_flag (type);
      if (flag == 0)
        return rf_error_make (err, 0, "%s.type: unknown namespace `%s`", where, type);
      if (rf_spec_namespace (spec, flag))
        return rf_error_make (err, 0, "%s.type: namespace `%s` is given twice", where, type);
      if (path && *path && path[0] != '/')
        return rf_error_make (err, 0, "%s.path: `%s` must be an absolute path", where, path);
      ns = &spec->namespaces[spec->n_namespaces++];
      ns->type = xstrdup (type);
      ns->flag = flag;
      ns->path = path && *path ? xstrdup (path) : NULL;
    }
  return 0;
}

static int
parse_devices (rf_spec_t *spec, json_t *linux_, rf_error_t *err)
{
  json_t *arr = NULL, *item;
  size_t i;

  if (rf_json_get_array (linux_, "linux", "devices", &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  spec->devices = xzalloc (sizeof (rf_device_t) * (json_array_size (arr) + 1));
  json_array_foreach (arr, i, item)
    {
      cleanup_free char *where = xasprintf ("linux.devices[%zu]", i);
      rf_device_t *d = &spec->devices[spec->n_devices++];
      const char *path = NULL, *type = NULL;

      if (!json_is_object (item))
        return rf_error_make (err, 0, "%s: expected an object", where);
      if (rf_json_get_string (item, where, "path", &path, err) < 0
          || rf_json_get_string (item, where, "type", &type, err) < 0
          || rf_json_get_int64 (item, where, "major", &d->major, err) < 0
          || rf_json_get_int64 (item, where, "minor", &d->minor, err) < 0
          || rf_json_get_uint32 (item, where, "fileMode", &d->mode, err) < 0
          || rf_json_get_uint32 (item, where, "uid", &d->uid, err) < 0
          || rf_json_get_uint32 (item, where, "gid", &d->gid, err) < 0)
        return -1;
      if (path == NULL || path[0] != '/')
        return rf_error_make (err, 0, "%s.path: must be an absolute path", where);
      if (type == NULL || strlen (type) != 1 || strchr ("cbup", type[0]) == NULL)
        return rf_error_make (err, 0, "%s.type: `%s` is not one of c, b, u, p",
                              where, type ? type : "");
      d->path = xstrdup (path);
      d->type = type[0];
      d->has_mode = json_object_get (item, "fileMode") != NULL;
      d->has_uid = json_object_get (item, "uid") != NULL;
      d->has_gid = json_object_get (item, "gid") != NULL;
      if (d->type != 'p'
          && (!json_object_get (item, "major") || !json_object_get (item, "minor")))
        return rf_error_make (err, 0, "%s: a `%c` device needs major and minor", where, d->type);
      if (d->major < 0 || d->minor < 0 || d->major > 0xfff || d->minor > 0xfffff)
        return rf_error_make (err, 0, "%s: major/minor out of range", where);
    }
  return 0;
}

static int
parse_propagation (const char *value, unsigned long *out, rf_error_t *err)
{
  static const struct
  {
    const char *name;
    unsigned long flags;
  } modes[] = {
    { "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
    { "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
    { "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
    { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
  };
  for (size_t i = 0; i < ARRAY_SIZE (modes); i++)
    if (strcmp (modes[i].name, value) == 0)
      {
        *out = modes[i].flags;
        return 0;
      }
  return rf_error_make (err, 0, "linux.rootfsPropagation: unknown mode `%s`", value);
}

static int
parse_time_offsets (rf_spec_t *spec, json_t *linux_, rf_error_t *err)
{
  json_t *offsets = NULL, *clock;
  int r = rf_json_get_object (linux_, "linux", "timeOffsets", &offsets, err);

  if (r <= 0)
    return r;
  spec->has_time_offsets = true;
  if (rf_json_get_object (offsets, "linux.timeOffsets", "boottime", &clock, err) < 0)
    return -1;
  clock = json_object_get (offsets, "boottime");
  if (clock
      && (rf_json_get_int64 (clock, "linux.timeOffsets.boottime", "secs", &spec->boottime_secs, err) < 0
          || rf_json_get_uint32 (clock, "linux.timeOffsets.boottime", "nanosecs", &spec->boottime_nsecs, err) < 0))
    return -1;
  if (rf_json_get_object (offsets, "linux.timeOffsets", "monotonic", &clock, err) < 0)
    return -1;
  clock = json_object_get (offsets, "monotonic");
  if (clock
      && (rf_json_get_int64 (clock, "linux.timeOffsets.monotonic", "secs", &spec->monotonic_secs, err) < 0
          || rf_json_get_uint32 (clock, "linux.timeOffsets.monotonic", "nanosecs", &spec->monotonic_nsecs, err) < 0))
    return -1;
  if (spec->boottime_nsecs >= 1000000000 || spec->monotonic_nsecs >= 1000000000)
    return rf_error_make (err, 0, "linux.timeOffsets: nanosecs must be below 1000000000");
  return 0;
}

/* The namespace a sysctl belongs to: the container may only set those of
   namespaces it owns, or it would change the host. */
static int
check_sysctl (const rf_spec_t *spec, const char *key, rf_error_t *err)
{
  static const char *const ipc_keys[] = {
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
  };
  int need = 0;
  const char *what = NULL;

  if (*key == '\0' || strchr (key, '/') || strstr (key, ".."))
    return rf_error_make (err, 0, "linux.sysctl: `%s` is not a sysctl name", key);
  for (size_t i = 0; i < ARRAY_SIZE (ipc_keys); i++)
    if (strcmp (key, ipc_keys[i]) == 0)
      need = CLONE_NEWIPC;
  if (strncmp (key, "fs.mqueue.", 10) == 0)
    need = CLONE_NEWIPC;
  else if (strncmp (key, "net.", 4) == 0)
    need = CLONE_NEWNET;
  else if (strcmp (key, "kernel.hostname") == 0 || strcmp (key, "kernel.domainname") == 0)
    need = CLONE_NEWUTS;
  what = need == CLONE_NEWIPC ? "an ipc" : need == CLONE_NEWNET ? "a network" : "a uts";
  if (need == 0)
    return rf_error_make (err, EPERM, "linux.sysctl: `%s` is not namespaced: it would change the host", key);
  if (rf_spec_namespace (spec, need) == NULL)
    return rf_error_make (err, EPERM, "linux.sysctl: `%s` needs %s namespace", key, what);
  return 0;
}

static int
parse_linux (rf_spec_t *spec, json_t *linux_, rf_error_t *err)
{
  const char *prop = NULL;
  const rf_namespace_t *userns;

  if (parse_namespaces (spec, linux_, err) < 0
      || parse_idmaps (linux_, "uidMappings", &spec->uid_mappings, &spec->n_uid_mappings, err) < 0
      || parse_idmaps (linux_, "gidMappings", &spec->gid_mappings, &spec->n_gid_mappings, err) < 0
      || parse_devices (spec, linux_, err) < 0
      || rf_json_get_strmap (linux_, "linux", "sysctl", &spec->sysctl, err) < 0
      || rf_json_get_strv (linux_, "linux", "maskedPaths", &spec->masked_paths, err) < 0
      || rf_json_get_strv (linux_, "linux", "readonlyPaths", &spec->readonly_paths, err) < 0
      || rf_json_get_string (linux_, "linux", "rootfsPropagation", &prop, err) < 0
      || parse_time_offsets (spec, linux_, err) < 0)
    return -1;
  if (prop && *prop && parse_propagation (prop, &spec->rootfs_propagation, err) < 0)
    return -1;

  for (size_t i = 0; spec->sysctl && spec->sysctl[i]; i += 2)
    if (check_sysctl (spec, spec->sysctl[i], err) < 0)
      return -1;
  {
    /* Checked here so that a bad value fails before anything is made; the
       cgroup code parses it again where it applies it. */
    rf_resources_t res;
    const char *cgroups_path = NULL;
    if (rf_resources_parse (json_object_get (linux_, "resources"), "linux.resources", &res, err) < 0
        || rf_json_get_string (linux_, "linux", "cgroupsPath", &cgroups_path, err) < 0)
      return -1;
    rf_resources_clear (&res);
  }

  userns = rf_spec_namespace (spec, CLONE_NEWUSER);
  if ((spec->n_uid_mappings || spec->n_gid_mappings) && (userns == NULL || userns->path))
    return rf_error_make (err, 0,
                          "linux.uidMappings: id mappings need a new user namespace in linux.namespaces");
  if (userns && userns->path == NULL
      && (spec->n_uid_mappings == 0 || spec->n_gid_mappings == 0))
    return rf_error_make (err, 0,
                          "linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
  if (spec->has_time_offsets)
    {
      const rf_namespace_t *timens = rf_spec_namespace (spec, CLONE_NEWTIME);
      if (timens == NULL || timens->path)
        return rf_error_make (err, 0, "linux.timeOffsets: needs a new time namespace");
    }
  return 0;
}

rf_spec_t *
rf_spec_parse (json_t *doc, rf_error_t *err)
{
  rf_spec_t *spec = xzalloc (sizeof *spec);
  json_t *root = NULL, *proc = NULL, *linux_ = NULL;
  const char *s = NULL;

  spec->raw = json_incref (doc);
  if (!json_is_object (doc))
    {
      rf_error_make (err, 0, "config.json: expected an object at the top level");
      goto fail;
    }
  if (rf_json_get_string (doc, "", "ociVersion", &s, err) < 0)
    goto fail;
  spec->oci_version = xstrdup (s ? s : "");

  if (rf_json_get_object (doc, "", "root", &root, err) < 0)
    goto fail;
  if (root == NULL)
    {
      rf_error_make (err, 0, "root: missing");
      goto fail;
    }
  s = NULL;
  if (rf_json_get_string (root, "root", "path", &s, err) < 0
      || rf_json_get_bool (root, "root", "readonly", &spec->root_readonly, err) < 0)
    goto fail;
  if (s == NULL || *s == '\0')
    {
      rf_error_make (err, 0, "root.path: missing");
      goto fail;
    }
  spec->root_path = xstrdup (s);

  s = NULL;
  if (rf_json_get_string (doc, "", "hostname", &s, err) < 0)
    goto fail;
  spec->hostname = s ? xstrdup (s) : NULL;
  s = NULL;
  if (rf_json_get_string (doc, "", "domainname", &s, err) < 0)
    goto fail;
  spec->domainname = s ? xstrdup (s) : NULL;

  if (parse_mounts (spec, doc, err) < 0
      || rf_json_get_strmap (doc, "", "annotations", &spec->annotations, err) < 0)
    goto fail;
  if (rf_json_get_object (doc, "", "process", &proc, err) < 0)
    goto fail;
  if (proc)
    {
      spec->has_process = true;
      if (parse_process (&spec->process, proc, err) < 0
          || rf_process_parse_extra (proc, &spec->process, err) < 0)
        goto fail;
    }
  if (rf_json_get_object (doc, "", "linux", &linux_, err) < 0)
    goto fail;
  if (linux_ && parse_linux (spec, linux_, err) < 0)
    goto fail;

  if ((spec->hostname && *spec->hostname) || (spec->domainname && *spec->domainname))
    {
      const rf_namespace_t *uts = rf_spec_namespace (spec, CLONE_NEWUTS);
      if (uts == NULL)
        {
          rf_error_make (err, 0, "%s: needs a uts namespace in linux.namespaces",
                         spec->hostname && *spec->hostname ? "hostname" : "domainname");
          goto fail;
        }
    }
  if (rf_spec_parse_extra (doc, spec, err) < 0)
    goto fail;
  return spec;

fail:
  rf_spec_free (spec);
  return NULL;
}

rf_spec_t *
rf_spec_load_file (const char *path, rf_error_t *err)
{
  cleanup_json json_t *doc = rf_json_load_file (path, err);
  rf_spec_t *spec;
  if (doc == NULL)
    return NULL;
  spec = rf_spec_parse (doc, err);
  if (spec == NULL)
    rf_error_wrap (err, "%s", path);
  return spec;
}

void
rf_spec_free (rf_spec_t *spec)
{
  if (spec == NULL)
    return;
  free (spec->oci_version);
  free (spec->root_path);
  free (spec->hostname);
  free (spec->domainname);
  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      free (spec->mounts[i].destination);
      free (spec->mounts[i].type);
      free (spec->mounts[i].source);
      free (spec->mounts[i].data);
    }
  free (spec->mounts);
  rf_process_free (&spec->process);
  strv_free (spec->annotations);
  for (size_t i = 0; i < spec->n_namespaces; i++)
    {
      free (spec->namespaces[i].type);
      free (spec->namespaces[i].path);
    }
  free (spec->namespaces);
  free (spec->uid_mappings);
  free (spec->gid_mappings);
  for (size_t i = 0; i < spec->n_devices; i++)
    free (spec->devices[i].path);
  free (spec->devices);
  strv_free (spec->sysctl);
  strv_free (spec->masked_paths);
  strv_free (spec->readonly_paths);
  rf_spec_free_extra (spec);
  if (spec->raw)
    json_decref (spec->raw);
  free (spec);
}
