/* Functions: deploy requests checked and stored, the container config each
 * instance is made from, an address from the loopback range, and the
 * record that survives a restart (<state>/functions/<name>.json). */
#include <arpa/inet.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/fnname.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "image/bundle.h"
#include "image/image.h"
#include "image/store.h"
#include "runfd.h"
#include "runtime/linux/mounts.h"
#include "runtime/spec.h"

extern const char rfd_default_seccomp[];

rfd_function_t *rfd_functions;
static uint32_t next_function_id = 1;

static const char *const mode_names[] = { "inetd", "control-socket", "warm", "stdio" };

const char *
rfd_mode_name (rfd_mode_t mode)
{
  return mode_names[mode];
}

rfd_function_t *
rfd_function_find (const char *name)
{
  for (rfd_function_t *f = rfd_functions; f; f = f->next)
    if (!f->removing && strcmp (f->name, name) == 0)
      return f;
  return NULL;
}


/* "128m", "1g", "65536" → bytes. */
static int
parse_bytes (const char *s, int64_t *out)
{
  char *end;
  double v = strtod (s, &end);
  double mult = 1;
  if (end == s || v < 0)
    return -1;
  switch (*end)
    {
    case 'k': case 'K': mult = 1024; end++; break;
    case 'm': case 'M': mult = 1024 * 1024; end++; break;
    case 'g': case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
    default: break;
    }
  if (*end == 'i' || *end == 'b' || *end == 'B')
    end++;
  if (*end == 'B')
    end++;
  if (*end)
    return -1;
  *out = (int64_t) (v * mult);
  return 0;
}

/* "30s", "500ms", "2m", or a number of seconds. */
static int
parse_duration (json_t *v, uint64_t *out)
{
  double n;
  char *end;
  const char *s;
  if (json_is_number (v))
    {
      n = json_number_value (v);
      if (n < 0)
        return -1;
      *out = (uint64_t) (n * RFD_S);
      return 0;
    }
  if (!json_is_string (v))
    return -1;
  s = json_string_value (v);
  n = strtod (s, &end);
  if (end == s || n < 0)
    return -1;
  if (strcmp (end, "ms") == 0)
    *out = (uint64_t) (n * RFD_MS);
  else if (strcmp (end, "s") == 0 || *end == '\0')
    *out = (uint64_t) (n * RFD_S);
  else if (strcmp (end, "m") == 0)
    *out = (uint64_t) (n * 60 * RFD_S);
  else if (strcmp (end, "h") == 0)
    *out = (uint64_t) (n * 3600 * RFD_S);
  else
    return -1;
  return 0;
}

static int
get_int (json_t *req, const char *key, int min, int max, int *out, rf_error_t *err)
{
  json_t *v = json_object_get (req, key);
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_integer (v) || json_integer_value (v) < min || json_integer_value (v) > max)
    return rf_error_make (err, 0, "%s: expected a whole number in %d..%d", key, min, max);
  *out = (int) json_integer_value (v);
  return 0;
}

/* The options of a deploy request into fn; errors name the field. */
static int
parse_deploy (json_t *req, rfd_function_t *fn, rf_error_t *err)
{
  json_t *limits = NULL, *env = NULL, *v;
  const char *s = NULL, *key;

  if (!json_is_object (req))
    return rf_error_make (err, 0, "the request body: expected a JSON object");
  if (rf_json_get_string (req, "", "service", &s, err) < 0)
    return -1;
  if (s == NULL)
    return rf_error_make (err, 0, "service: missing (the function's name)");
  if (!rf_function_name_valid_p (s))
    return rf_error_make (err, 0, "service `%s`: use 1-63 of a-z 0-9 - _, starting with a letter or digit", s);
  fn->name = xstrdup (s);
  s = NULL;
  if (rf_json_get_string (req, "", "image", &s, err) < 0)
    return -1;
  if (s == NULL || *s == '\0')
    return rf_error_make (err, 0, "image: missing");
  fn->image = xstrdup (s);
  s = NULL;
  if (rf_json_get_string (req, "", "mode", &s, err) < 0)
    return -1;
  fn->mode = RFD_MODE_INETD;
  if (s)
    {
      size_t i;
      for (i = 0; i < 4; i++)
        if (strcmp (s, mode_names[i]) == 0)
          break;
      if (i == 4)
        return rf_error_make (err, 0, "mode `%s`: expected inetd, control-socket, warm or stdio", s);
      fn->mode = (rfd_mode_t) i;
    }

  if (rf_json_get_object (req, "", "envVars", &env, err) < 0)
    return -1;
  fn->env = xzalloc ((json_object_size (env) + 1) * sizeof (char *));
  {
    size_t i = 0;
    json_object_foreach (env, key, v)
      {
        if (!json_is_string (v) || *key == '\0' || strchr (key, '='))
          return rf_error_make (err, 0, "envVars.%s: expected a string value and a name without `=`", key);
        fn->env[i++] = xasprintf ("%s=%s", key, json_string_value (v));
      }
  }
  if (rf_json_get_strv (req, "", "cmd", &fn->cmd, err) < 0 || rf_json_get_strv (req, "", "capabilities", &fn->caps, err) < 0)
    return -1;
  if (fn->cmd && fn->cmd[0] == NULL)
    return rf_error_make (err, 0, "cmd: must not be empty");

  if (rf_json_get_object (req, "", "limits", &limits, err) < 0)
    return -1;
  if (limits)
    {
      s = NULL;
      if (rf_json_get_string (limits, "limits", "memory", &s, err) < 0)
        return -1;
      if (s && (parse_bytes (s, &fn->memory) < 0 || fn->memory < 4 * 1024 * 1024))
        return rf_error_make (err, 0, "limits.memory `%s`: expected a size of at least 4m, like 128m", s);
      s = NULL;
      if (rf_json_get_string (limits, "limits", "cpu", &s, err) < 0)
        return -1;
      if (s)
        {
          char *end;
          fn->cpus = strtod (s, &end);
          if (end == s || *end || !(fn->cpus >= 0.01 && fn->cpus <= 1024))
            return rf_error_make (err, 0, "limits.cpu `%s`: expected a number of CPUs, like 0.5", s);
        }
    }
  {
    int pids = 0, concurrency = 0, queue = 64, min = 0, max = 8;
    if (get_int (req, "pids", 1, 1 << 22, &pids, err) < 0
        || get_int (req, "concurrency", 1, 100000, &concurrency, err) < 0
        || get_int (req, "queue", 0, 100000, &queue, err) < 0
        || get_int (req, "min", 0, 1000, &min, err) < 0
        || get_int (req, "max", 1, 1000, &max, err) < 0)
      return -1;
    if (min > max)
      return rf_error_make (err, 0, "min %d: above max %d", min, max);
    fn->pids = pids;
    fn->concurrency = concurrency;
    fn->queue_max = queue;
    fn->min = min;
    fn->max = max;
  }
  fn->timeout_ns = 30 * RFD_S;
  if ((v = json_object_get (req, "timeout")) && (parse_duration (v, &fn->timeout_ns) < 0 || fn->timeout_ns == 0))
    return rf_error_make (err, 0, "timeout: expected a duration like 30s or 500ms");
  fn->idle_ns = 60 * RFD_S;
  if ((v = json_object_get (req, "idle")) && parse_duration (v, &fn->idle_ns) < 0)
    return rf_error_make (err, 0, "idle: expected a duration like 60s");
  fn->read_only = true;
  if (rf_json_get_bool (req, "", "readOnly", &fn->read_only, err) < 0)
    return -1;
  if (!fn->read_only)
    return rf_error_make (err, 0, "readOnly: false is not supported yet; instances share the image's root read-only "
                                  "and get a writable /tmp");
  return 0;
}

/* --- the container config ---------------------------------------------- */

static json_t *
mount_obj (const char *dest, const char *type, const char *source, const char *opts_csv)
{
  json_t *opts = json_array ();
  cleanup_free char *copy = xstrdup (opts_csv);
  char *save = NULL;
  for (char *o = strtok_r (copy, ",", &save); o; o = strtok_r (NULL, ",", &save))
    json_array_append_new (opts, json_string (o));
  return json_pack ("{s:s, s:s, s:s, s:o}", "destination", dest, "type", type, "source", source, "options", opts);
}

/* The image's config (from rf_bundle_config) made into a function
   instance's: immutable, host network, least privilege. */
static int
function_config (rfd_function_t *fn, json_t *config, rf_error_t *err)
{
  json_t *process = json_object_get (config, "process");
  json_t *linux_ = json_object_get (config, "linux");
  json_t *args = json_object_get (process, "args");
  json_t *env = json_object_get (process, "env");
  json_t *mounts = json_array ();
  json_t *ns = json_array ();
  json_t *resources = json_object ();
  json_t *user = json_object_get (process, "user");
  json_t *caps = json_array ();
  cleanup_json json_t *seccomp = NULL;
  json_error_t jerr;
  uint32_t uid = (uint32_t) json_integer_value (json_object_get (user, "uid"));
  uint32_t gid = (uint32_t) json_integer_value (json_object_get (user, "gid"));

  if (fn->cmd)
    {
      args = json_array ();
      for (size_t i = 0; fn->cmd[i]; i++)
        json_array_append_new (args, json_string (fn->cmd[i]));
      json_object_set_new (process, "args", args);
    }
  if (!json_is_array (args) || json_array_size (args) == 0)
    return rf_error_make (err, 0, "image `%s`: it has no command (Entrypoint or Cmd); give one with cmd", fn->image);
  if (fn->mode == RFD_MODE_STDIO)
    {
      json_t *wrapped = json_pack ("[ss]", "/.runf/shim", "--");
      json_array_extend (wrapped, args);
      json_object_set_new (process, "args", wrapped);
    }
  for (size_t i = 0; fn->env && fn->env[i]; i++)
    json_array_append_new (env, json_string (fn->env[i]));
  {
    cleanup_free char *name_env = xasprintf ("RUNF_FUNCTION=%s", fn->name);
    json_array_append_new (env, json_string (name_env));
  }
  json_array_append_new (env, json_string (fn->mode == RFD_MODE_INETD ? "RUNF_MODE=inetd"
                                           : fn->mode == RFD_MODE_CONTROL ? "RUNF_MODE=control-socket"
                                           : fn->mode == RFD_MODE_WARM ? "RUNF_MODE=warm"
                                                                       : "RUNF_MODE=stdio"));
  json_object_set_new (process, "terminal", json_false ());
  json_object_set_new (process, "noNewPrivileges", json_true ());
  for (size_t i = 0; fn->caps && fn->caps[i]; i++)
    json_array_append_new (caps, json_string (fn->caps[i]));
  json_object_set_new (process, "capabilities",
                       json_pack ("{s:O, s:O, s:O, s:O}", "bounding", caps, "effective", caps, "permitted", caps,
                                  "ambient", caps));
  json_decref (caps);

  json_object_set_new (config, "hostname", json_string (fn->name));
  json_object_set_new (json_object_get (config, "root"), "readonly", json_boolean (fn->read_only));

  /* What a handler needs, and nothing that costs a mount without use:
     no /sys, no ptys, no mqueue (see docs/functions.md). */
  json_array_append_new (mounts, mount_obj ("/proc", "proc", "proc", "nosuid,noexec,nodev"));
  if (rfd_config.dev_template)
    json_array_append_new (mounts, mount_obj ("/dev", "bind", rfd_config.dev_template, "rbind,nosuid,noexec"));
  else
    json_array_append_new (mounts, mount_obj ("/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=64k"));
  json_array_append_new (mounts, mount_obj ("/tmp", "tmpfs", "tmpfs", "nosuid,nodev,mode=1777,size=64m"));
  if (fn->mode == RFD_MODE_CONTROL)
    {
      cleanup_free char *sock = xasprintf ("%s/control.sock", fn->dir);
      json_array_append_new (mounts, mount_obj ("/control.sock", "bind", sock, "bind,nosuid,nodev,noexec"));
    }
  if (fn->mode == RFD_MODE_STDIO)
    json_array_append_new (mounts, mount_obj ("/.runf/shim", "bind", rfd_config.shim_path, "bind,ro,nosuid,nodev"));
  json_object_set_new (config, "mounts", mounts);

  json_array_append_new (ns, json_pack ("{s:s}", "type", "pid"));
  json_array_append_new (ns, json_pack ("{s:s}", "type", "ipc"));
  json_array_append_new (ns, json_pack ("{s:s}", "type", "uts"));
  json_array_append_new (ns, json_pack ("{s:s}", "type", "mount"));
  json_array_append_new (ns, json_pack ("{s:s}", "type", "user"));
  json_object_set_new (linux_, "namespaces", ns);
  /* Root inside is nobody outside: as root, a range of unprivileged host
     ids; rootless, the caller's own id (as the image's user). */
  if (rfd_config.rootless)
    {
      json_object_set_new (linux_, "uidMappings",
                           json_pack ("[{s:I, s:I, s:I}]", "containerID", (json_int_t) uid, "hostID",
                                      (json_int_t) geteuid (), "size", (json_int_t) 1));
      json_object_set_new (linux_, "gidMappings",
                           json_pack ("[{s:I, s:I, s:I}]", "containerID", (json_int_t) gid, "hostID",
                                      (json_int_t) getegid (), "size", (json_int_t) 1));
    }
  else
    {
      json_object_set_new (linux_, "uidMappings",
                           json_pack ("[{s:I, s:I, s:I}]", "containerID", (json_int_t) 0, "hostID",
                                      (json_int_t) rfd_config.uid_base, "size", (json_int_t) rfd_config.uid_size));
      json_object_set_new (linux_, "gidMappings",
                           json_pack ("[{s:I, s:I, s:I}]", "containerID", (json_int_t) 0, "hostID",
                                      (json_int_t) rfd_config.gid_base, "size", (json_int_t) rfd_config.gid_size));
      if (uid >= rfd_config.uid_size || gid >= rfd_config.gid_size)
        return rf_error_make (err, 0, "image `%s`: its user %u:%u is outside the mapped ids 0..%u", fn->image, uid, gid,
                              rfd_config.uid_size - 1);
    }
  json_object_set_new (linux_, "maskedPaths",
                       json_pack ("[ssss]", "/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"));
  json_object_set_new (linux_, "readonlyPaths", json_pack ("[s]", "/proc/sys"));
  json_object_del (linux_, "resources");
  json_object_del (linux_, "cgroupsPath");
  if (fn->memory)
    json_object_set_new (resources, "memory", json_pack ("{s:I}", "limit", (json_int_t) fn->memory));
  if (fn->cpus > 0)
    json_object_set_new (resources, "cpu", json_pack ("{s:I, s:I}", "quota", (json_int_t) (fn->cpus * 100000),
                                                      "period", (json_int_t) 100000));
  if (fn->pids)
    json_object_set_new (resources, "pids", json_pack ("{s:I}", "limit", (json_int_t) fn->pids));
  json_object_set_new (linux_, "resources", resources);
  seccomp = json_loads (rfd_default_seccomp, 0, &jerr);
  if (seccomp == NULL)
    return rf_error_make (err, 0, "the default seccomp profile: %s", jerr.text);
  json_object_del (seccomp, "comment");
  json_object_set (linux_, "seccomp", seccomp);
  return 0;
}

/* Resolve the image, unpack its shared rootfs once, and make the function's
   config.  Run in a forked worker for API deploys (unpacking may take
   seconds), in process at startup. */
/* The instances' mount points, made once in the shared rootfs: an image
   need not have /proc, /dev or /tmp, and the instances (unprivileged, on
   a read-only root) could not make them. */
static int
make_mount_points (int root_fd, rfd_mode_t mode, rf_error_t *err)
{
  static const char *const dirs[] = { "/proc", "/dev", "/tmp" };
  for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
    {
      int fd = rf_root_mkpath (root_fd, dirs[i], true, err);
      if (fd < 0)
        return rf_error_wrap (err, "make the mount point `%s`", dirs[i]);
      close (fd);
    }
  if (mode == RFD_MODE_CONTROL || mode == RFD_MODE_STDIO)
    {
      const char *file = mode == RFD_MODE_CONTROL ? "/control.sock" : "/.runf/shim";
      int fd = rf_root_mkpath (root_fd, file, false, err);
      if (fd < 0)
        return rf_error_wrap (err, "make the mount point `%s`", file);
      close (fd);
    }
  return 0;
}

int
rfd_function_prepare (const char *image, rfd_mode_t mode, bool rootless, char **digest, json_t **config,
                      rf_error_t *err)
{
  cleanup_store rf_store_t *store = NULL;
  rf_image_t img;
  char dg[RF_DIGEST_MAX];
  cleanup_free char *rootfs = NULL;
  cleanup_close int root_fd = -1;
  rf_bundle_opts_t bopts = { .rootless = rootless, .readonly = true };
  bool made;

  memset (&img, 0, sizeof img);
  if (rf_store_open (rfd_config.store, RF_STORE_WRITE, rootless, &store, err) < 0
      || rf_image_resolve (store, image, dg, err) < 0 || rf_image_load (store, dg, &img, err) < 0)
    return rf_error_wrap (err, "image `%s`", image);
  if (rf_image_rootfs (store, &img, &rootfs, &made, NULL, err) < 0)
    {
      rf_image_clear (&img);
      return rf_error_wrap (err, "image `%s`", image);
    }
  root_fd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0 || make_mount_points (root_fd, mode, err) < 0)
    {
      rf_image_clear (&img);
      return root_fd < 0 ? rf_error_sys (err, "open `%s`", rootfs) : rf_error_wrap (err, "image `%s`", image);
    }
  bopts.root_path = rootfs;
  *config = rf_bundle_config (&img, root_fd, &bopts, err);
  rf_image_clear (&img);
  if (*config == NULL)
    return rf_error_wrap (err, "image `%s`", image);
  if (bopts.no_command)
    /* runf spec's "sh" would read the request as commands. */
    json_array_clear (json_object_get (json_object_get (*config, "process"), "args"));
  *digest = xstrdup (dg);
  return 0;
}

/* --- addresses ------------------------------------------------------------ */

static bool
address_taken_p (struct in_addr a)
{
  for (rfd_function_t *f = rfd_functions; f; f = f->next)
    if (f->addr.s_addr == a.s_addr)
      return true;
  return false;
}

/* Listen on the first address of the range that is free: not one of our
   functions', and not one another process listens on at that port (the
   runfd of another user, whose default range is the same). */
static int
listen_free_address (rfd_function_t *fn, rf_error_t *err)
{
  uint32_t base = ntohl (rfd_config.range_base.s_addr);
  for (uint32_t i = 1; i + 1 < rfd_config.range_size; i++)
    {
      struct in_addr a = { htonl (base + i) };
      int fd;
      if (address_taken_p (a))
        continue;
      fd = rfd_listen_tcp (a, fn->port, err);
      if (fd >= 0)
        {
          fn->addr = a;
          return fd;
        }
      if ((*err)->code != EADDRINUSE)
        return -1;
      rf_error_free (err);
    }
  return rf_error_make (err, ENOSPC, "no free address left in the function range");
}

/* --- records -------------------------------------------------------------- */

static char *
record_path (const char *name)
{
  return xasprintf ("%s/functions/%s.json", rfd_config.state_dir, name);
}

static int
persist (rfd_function_t *fn, rf_error_t *err)
{
  cleanup_json json_t *rec = NULL;
  cleanup_free char *text = NULL;
  cleanup_free char *path = record_path (fn->name);
  char addr[INET_ADDRSTRLEN];
  inet_ntop (AF_INET, &fn->addr, addr, sizeof addr);
  rec = json_pack ("{s:O, s:s, s:s, s:i}", "deploy", fn->deploy, "digest", fn->digest, "address", addr, "port",
                   fn->port);
  text = json_dumps (rec, JSON_INDENT (2));
  return rf_write_file_atomic (path, text, strlen (text), 0600, err);
}

json_t *
rfd_function_json (const rfd_function_t *fn)
{
  char addr[INET_ADDRSTRLEN];
  json_t *env = json_object ();
  inet_ntop (AF_INET, &fn->addr, addr, sizeof addr);
  for (size_t i = 0; fn->env && fn->env[i]; i++)
    {
      const char *eq = strchr (fn->env[i], '=');
      cleanup_free char *k = xstrndup (fn->env[i], eq - fn->env[i]);
      json_object_set_new (env, k, json_string (eq + 1));
    }
  /* OpenFaaS's function status, with runf's own fields beside. */
  return json_pack ("{s:s, s:s, s:s, s:I, s:i, s:i, s:o, s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:f}", "name", fn->name,
                    "image", fn->image, "digest", fn->digest, "invocationCount", (json_int_t) fn->invocations,
                    "replicas", fn->n_running + fn->n_ready, "availableReplicas", fn->n_ready, "envVars", env,
                    "mode", rfd_mode_name (fn->mode), "address", addr, "port", fn->port, "running", fn->n_running,
                    "ready", fn->n_ready, "queued", fn->n_queued, "concurrency", fn->concurrency,
                    "timeoutSeconds", (double) fn->timeout_ns / RFD_S);
}

/* --- the life of a function ----------------------------------------------- */

static void
function_free (void *p)
{
  rfd_function_t *fn = p;
  free (fn->name);
  free (fn->image);
  free (fn->digest);
  if (fn->deploy)
    json_decref (fn->deploy);
  strv_free (fn->env);
  strv_free (fn->cmd);
  strv_free (fn->caps);
  if (fn->dir)
    {
      rf_error_t ignored = NULL;
      rf_rm_rf (fn->dir, &ignored);
      rf_error_free (&ignored);
    }
  free (fn->dir);
  if (fn->log_fd >= 0)
    close (fn->log_fd);
  free (fn->log_path);
  free (fn);
}

static rfd_function_t *
function_new (void)
{
  rfd_function_t *fn = xzalloc (sizeof *fn);
  fn->id = next_function_id++;
  fn->listen_w.fd = fn->control_w.fd = fn->log_fd = -1;
  rfd_timer_init (&fn->pool_timer, NULL, fn);
  return fn;
}

/* Once a removed (or replaced) function has nothing running, it goes. */
void
rfd_function_release (rfd_function_t *fn)
{
  if (!fn->removing || fn->n_running || fn->n_creating || fn->n_ready || fn->n_dying)
    return;
  for (rfd_function_t **p = &rfd_functions; *p; p = &(*p)->next)
    if (*p == fn)
      {
        *p = fn->next;
        break;
      }
  rfd_timer_cancel (&fn->pool_timer);
  rfd_watch_close (&fn->control_w);
  rfd_watch_close (&fn->listen_w);
  rfd_spawner_forget (fn);
  rfd_defer_free (fn, function_free);
}

static int
open_log (rfd_function_t *fn, rf_error_t *err)
{
  cleanup_free char *dir = xasprintf ("%s/logs", rfd_config.state_dir);
  if (rf_mkdir_p (dir, 0700, err) < 0)
    return -1;
  fn->log_path = xasprintf ("%s/%s.log", dir, fn->name);
  fn->log_fd = open (fn->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fn->log_fd < 0)
    return rf_error_sys (err, "open `%s`", fn->log_path);
  return 0;
}

/* Rotation: every few seconds, a log past --log-max is copied to
   NAME.log.1 (the one before that is dropped) and emptied.  Copy and
   truncate rather than rename, because every instance (a warm one for
   hours, a created one waiting in the pool) writes to the file through its
   own O_APPEND descriptor: after the truncation they carry on at its new
   end.  What is written between the copy and the truncation is lost: a
   few microseconds' worth.  The copy keeps the offsets, so `fn logs -f`
   finishes the old part from NAME.log.1. */
static rfd_timer_t logs_timer;

static void
rotate_log (rfd_function_t *fn)
{
  cleanup_free char *old = xasprintf ("%s.1", fn->log_path);
  cleanup_free char *tmp = xasprintf ("%s.1.tmp", fn->log_path);
  cleanup_close int in = open (fn->log_path, O_RDONLY | O_CLOEXEC);
  cleanup_close int out = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ssize_t n;

  if (in < 0 || out < 0)
    goto fail;
  while ((n = copy_file_range (in, NULL, out, NULL, 1 << 30, 0)) > 0)
    ;
  if (n < 0 || ftruncate (fn->log_fd, 0) < 0 || rename (tmp, old) < 0)
    goto fail;
  return;

fail:
  rf_warn ("function %s: rotate `%s`: %s", fn->name, fn->log_path, strerror (errno));
  unlink (tmp);
}

static void
check_logs (rfd_timer_t *t)
{
  struct stat st;
  for (rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    if (fn->log_fd >= 0 && fstat (fn->log_fd, &st) == 0 && st.st_size >= rfd_config.log_max)
      rotate_log (fn);
  rfd_timer_arm (t, 2 * RFD_S);
}

void
rfd_logs_watch (void)
{
  if (rfd_config.log_max <= 0)
    return;
  rfd_timer_init (&logs_timer, check_logs, NULL);
  rfd_timer_arm (&logs_timer, 2 * RFD_S);
}

/* The prepared image made into a running function: its directory and
   config, its log, the spawner told, its address listening. */
static int
function_install (rfd_function_t *fn, json_t *config, rfd_function_t *old, rf_error_t *err)
{
  cleanup_free char *config_path = NULL;

  fn->dir = xasprintf ("%s/fn/%s.%u", rfd_config.run_dir, fn->name, fn->id);
  if (rf_mkdir_p (fn->dir, 0755, err) < 0)
    return -1;
  {
    cleanup_free char *parent = xasprintf ("%s/fn", rfd_config.run_dir);
    chmod (parent, 0711);
  }
  chmod (fn->dir, 0755);
  if (fn->mode == RFD_MODE_CONTROL && rfd_control_listen (fn, err) < 0)
    return -1;
  if (function_config (fn, config, err) < 0)
    return -1;
  {
    /* The spawner parses it again for each instance: a config it would
       refuse fails the deploy instead. */
    rf_spec_t *spec = rf_spec_parse (config, err);
    if (spec == NULL)
      return rf_error_wrap (err, "function `%s`", fn->name);
    rf_spec_free (spec);
  }
  config_path = xasprintf ("%s/config.json", fn->dir);
  if (json_dump_file (config, config_path, JSON_COMPACT) < 0)
    return rf_error_sys (err, "write `%s`", config_path);
  if (open_log (fn, err) < 0 || rfd_spawner_define (fn, err) < 0)
    return -1;
  if (old)
    {
      /* A redeploy keeps the address and its socket: connections keep
         arriving while the old version finishes what it has. */
      fn->addr = old->addr;
      fn->port = old->port;
      fn->listen_w.fd = old->listen_w.fd;
      rfd_watch_del (&old->listen_w);
      old->listen_w.fd = -1;
      /* So do the counters: /metrics and invocationCount go on. */
      memcpy (fn->requests, old->requests, sizeof fn->requests);
      fn->invocations = old->invocations;
      fn->cold_starts = old->cold_starts;
      fn->cold_hist = old->cold_hist;
      fn->latency_hist = old->latency_hist;
      fn->request_hist = old->request_hist;
      fn->create_hist = old->create_hist;
      fn->create_failures = old->create_failures;
    }
  else
    {
      int fd;
      if (fn->port == 0)
        fn->port = rfd_config.function_port;
      /* A restored function keeps its address. */
      fd = fn->addr.s_addr ? rfd_listen_tcp (fn->addr, fn->port, err) : listen_free_address (fn, err);
      if (fd < 0)
        return -1;
      fn->listen_w.fd = fd;
    }
  {
    /* Warm handlers accept on the listening socket themselves and expect
       accept() to wait; runfd only polls it. */
    int flags = fcntl (fn->listen_w.fd, F_GETFL);
    fcntl (fn->listen_w.fd, F_SETFL, fn->mode == RFD_MODE_WARM ? flags & ~O_NONBLOCK : flags | O_NONBLOCK);
  }
  if (persist (fn, err) < 0)
    return -1;
  fn->next = rfd_functions;
  rfd_functions = fn;
  rfd_function_listen (fn, fn->listen_w.fd);
  if (old)
    {
      old->removing = true;
      /* Waiting connections go to the new version. */
      while (old->queue_head)
        {
          rfd_conn_t *c = old->queue_head;
          old->queue_head = c->next;
          old->n_queued--;
          rfd_dispatch (fn, c);
        }
      rfd_pool_drain (old);
      rfd_function_release (old);
    }
  rfd_pool_adjust (fn);
  rf_log (RF_LOG_INFO, "function %s (%s, %s) listens on %s:%d", fn->name, fn->image, rfd_mode_name (fn->mode),
          inet_ntoa (fn->addr), fn->port);
  return 0;
}

/* --- deploying: the worker ------------------------------------------------ */

typedef struct
{
  rfd_watch_t w;
  pid_t pid;
  rfd_function_t *fn;
  bool replace;
  char *buf;
  size_t len;
  rfd_deploy_done done;
  void *ctx;
} deploy_job_t;

static void
deploy_finish (deploy_job_t *job, rf_error_t err)
{
  job->done (job->ctx, err, err ? NULL : job->fn);
  rfd_watch_close (&job->w);
  free (job->buf);
  rfd_defer_free (job, free);
}

static void
on_worker (rfd_watch_t *w, uint32_t events)
{
  deploy_job_t *job = w->data;
  rf_error_t err = NULL;
  cleanup_json json_t *res = NULL;
  json_t *config;
  const char *digest, *why;
  char buf[65536];
  ssize_t n = read (w->fd, buf, sizeof buf);

  if (n < 0 && errno == EINTR)
    return;
  if (n > 0)
    {
      job->buf = xrealloc (job->buf, job->len + n + 1);
      memcpy (job->buf + job->len, buf, n);
      job->len += n;
      return;
    }
  while (waitpid (job->pid, NULL, 0) < 0 && errno == EINTR)
    ;
  res = job->len ? json_loadb (job->buf, job->len, 0, NULL) : NULL;
  why = json_string_value (json_object_get (res, "error"));
  digest = json_string_value (json_object_get (res, "digest"));
  config = json_object_get (res, "config");
  if (res == NULL || why || digest == NULL || !json_is_object (config))
    {
      rf_error_make (&err, 0, "%s", why ? why : "the deploy worker died");
      function_free (job->fn);
      deploy_finish (job, err);
      return;
    }
  {
    rfd_function_t *old = job->replace ? rfd_function_find (job->fn->name) : NULL;
    if (!job->replace && rfd_function_find (job->fn->name))
      rf_error_make (&err, EEXIST, "function `%s` already exists (use update to replace it)", job->fn->name);
    else
      {
        job->fn->digest = xstrdup (digest);
        if (function_install (job->fn, config, old, &err) < 0)
          {
            if (job->fn->listen_w.fd >= 0 && old == NULL)
              close (job->fn->listen_w.fd);
            job->fn->listen_w.fd = -1;
          }
      }
    if (err)
      function_free (job->fn);
  }
  deploy_finish (job, err);
}

int
rfd_function_deploy (json_t *req, bool replace, rfd_deploy_done done, void *ctx, rf_error_t *err)
{
  rfd_function_t *fn = function_new ();
  deploy_job_t *job;
  int pipefd[2];
  pid_t pid;

  if (parse_deploy (req, fn, err) < 0)
    {
      function_free (fn);
      return -1;
    }
  if (replace && rfd_function_find (fn->name) == NULL)
    {
      rf_error_make (err, ENOENT, "function `%s` does not exist", fn->name);
      function_free (fn);
      return -1;
    }
  if (!replace && rfd_function_find (fn->name))
    {
      rf_error_make (err, EEXIST, "function `%s` already exists (use update to replace it)", fn->name);
      function_free (fn);
      return -1;
    }
  fn->deploy = json_incref (req);
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    {
      function_free (fn);
      return rf_error_sys (err, "pipe");
    }
  /* This process is single-threaded: the forked worker may use any library
     code.  It unpacks the image (seconds, for a big one) off the loop. */
  pid = fork ();
  if (pid < 0)
    {
      close (pipefd[0]);
      close (pipefd[1]);
      function_free (fn);
      return rf_error_sys (err, "fork the deploy worker");
    }
  if (pid == 0)
    {
      rf_error_t werr = NULL;
      char *digest = NULL;
      json_t *config = NULL, *out;
      char *text;
      close (pipefd[0]);
      if (rfd_function_prepare (fn->image, fn->mode, rfd_config.rootless, &digest, &config, &werr) == 0)
        out = json_pack ("{s:s, s:o}", "digest", digest, "config", config);
      else
        {
          char *why = rf_error_text (werr);
          out = json_pack ("{s:s}", "error", why);
        }
      text = json_dumps (out, JSON_COMPACT);
      rf_write_all (pipefd[1], text, strlen (text));
      _exit (0);
    }
  close (pipefd[1]);
  job = xzalloc (sizeof *job);
  job->w.fd = pipefd[0];
  job->w.fn = on_worker;
  job->w.data = job;
  job->pid = pid;
  job->fn = fn;
  job->replace = replace;
  job->done = done;
  job->ctx = ctx;
  rfd_watch_add (&job->w, EPOLLIN);
  return 0;
}

int
rfd_function_remove (const char *name, rf_error_t *err)
{
  rfd_function_t *fn = rfd_function_find (name);
  cleanup_free char *path = NULL;
  if (fn == NULL)
    return rf_error_make (err, ENOENT, "function `%s` does not exist", name);
  path = record_path (name);
  unlink (path);
  fn->removing = true;
  rfd_watch_close (&fn->listen_w);
  /* Queued connections would never be served. */
  while (fn->queue_head)
    {
      rfd_conn_t *c = fn->queue_head;
      fn->queue_head = c->next;
      fn->n_queued--;
      rfd_conn_fail (c, 503, "the function was removed\n");
    }
  rfd_pool_drain (fn);
  rfd_function_release (fn);
  return 0;
}

int
rfd_function_scale (rfd_function_t *fn, int replicas, rf_error_t *err)
{
  fn->min = replicas;
  if (fn->max < fn->min)
    fn->max = fn->min;
  /* The record is the deploy request: the next start reads min and max
     from it as from a deploy. */
  json_object_set_new (fn->deploy, "min", json_integer (fn->min));
  json_object_set_new (fn->deploy, "max", json_integer (fn->max));
  if (persist (fn, err) < 0)
    return rf_error_wrap (err, "function `%s`", fn->name);
  rfd_pool_adjust (fn);
  return 0;
}

/* At startup: every recorded function again, its image prepared here (the
   loop does not run yet). */
int
rfd_functions_load (rf_error_t *err)
{
  cleanup_free char *dir = xasprintf ("%s/functions", rfd_config.state_dir);
  DIR *d;
  struct dirent *de;

  if (rf_mkdir_p (dir, 0700, err) < 0)
    return -1;
  d = opendir (dir);
  if (d == NULL)
    return rf_error_sys (err, "open `%s`", dir);
  while ((de = readdir (d)) != NULL)
    {
      cleanup_free char *path = NULL;
      cleanup_json json_t *rec = NULL;
      cleanup_json json_t *config = NULL;
      rf_error_t ferr = NULL;
      rfd_function_t *fn;
      char *digest = NULL;
      const char *addr;
      size_t len = strlen (de->d_name);

      if (len < 6 || strcmp (de->d_name + len - 5, ".json") != 0)
        continue;
      path = xasprintf ("%s/%s", dir, de->d_name);
      rec = rf_json_load_file (path, &ferr);
      fn = function_new ();
      if (rec == NULL || parse_deploy (json_object_get (rec, "deploy"), fn, &ferr) < 0
          || rfd_function_prepare (json_string_value (json_object_get (rec, "digest"))
                                       ? json_string_value (json_object_get (rec, "digest"))
                                       : fn->image,
                                   fn->mode, rfd_config.rootless, &digest, &config, &ferr) < 0)
        goto bad;
      fn->deploy = json_incref (json_object_get (rec, "deploy"));
      fn->digest = digest;
      addr = json_string_value (json_object_get (rec, "address"));
      if (addr)
        inet_pton (AF_INET, addr, &fn->addr);
      fn->port = (int) json_integer_value (json_object_get (rec, "port"));
      if (function_install (fn, config, NULL, &ferr) < 0)
        goto bad;
      continue;
    bad:
      {
        cleanup_free char *text = rf_error_text (ferr);
        rf_log (RF_LOG_ERROR, "function record `%s`: %s; not restored", path, text);
        rf_error_free (&ferr);
        function_free (fn);
      }
    }
  closedir (d);
  return 0;
}
