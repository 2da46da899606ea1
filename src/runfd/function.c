/* Functions: the life of one, from a deploy to its removal.  The deploy
 * request is checked (fnspec.c), the image is prepared in a worker (its
 * name resolved, pinned against `runfctl image prune`, unpacked once, the
 * instance config made of it and its command checked), then the function
 * is installed: its directory and config, its log, an address from the
 * loopback range, the spawners told, and the record that survives a
 * restart (<state>/functions/<name>.json).  A recorded function that
 * cannot be restored (its address taken, its image gone) stays listed as
 * failing, with the reason, and is retried. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/inroot.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "image/bundle.h"
#include "image/image.h"
#include "image/store.h"
#include "runfd.h"
#include "runtime/spec.h"

#define RETRY_FIRST RFD_S
#define RETRY_MAX (60 * RFD_S)

rfd_function_t *rfd_functions;
static uint32_t next_function_id = 1;

rfd_function_t *
rfd_function_find (const char *name)
{
  for (rfd_function_t *f = rfd_functions; f; f = f->next)
    if (!f->removing && strcmp (f->name, name) == 0)
      return f;
  return NULL;
}

void
rfd_function_event (rfd_function_t *fn, const char *fmt, ...)
{
  va_list ap;
  if (fn->log == NULL)
    return;
  va_start (ap, fmt);
  rfd_log_eventv (fn->log, fmt, ap);
  va_end (ap);
}

/* --- preparing the image --------------------------------------------------- */

/* The pin that keeps a function's image through `runfctl image prune`:
   one per function version, named after this daemon's state directory. */
static char *
pin_name (const rfd_function_t *fn)
{
  return xasprintf ("runfd-%s-%s-%u", strrchr (rfd_config.cgroup_parent, '/') + 1, fn->name, fn->id);
}

static char *
record_path (const char *name)
{
  return xasprintf ("%s/functions/%s.json", rfd_config.state_dir, name);
}

/* The instances' mount points, made once in the shared rootfs: an image
   need not have /proc, /dev or /tmp, and the instances (unprivileged, on
   a read-only root) could not make them. */
static int
make_mount_points (int root_fd, const rfd_function_t *fn, rf_error_t *err)
{
  rfd_mode_t mode = fn->mode;
  bool secrets = fn->secrets && fn->secrets[0];
  static const char *const dirs[] = { "/proc", "/dev", "/tmp" };
  for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
    {
      int fd = rf_inroot_mkpath (root_fd, dirs[i], true, err);
      if (fd < 0)
        return rf_error_wrap (err, "make the mount point `%s`", dirs[i]);
      close (fd);
    }
  for (size_t i = 0; secrets && i < ARRAY_SIZE (rfd_secrets_paths); i++)
    {
      int fd = rf_inroot_mkpath (root_fd, rfd_secrets_paths[i], true, err);
      if (fd < 0)
        return rf_error_wrap (err, "make the mount point `%s`", rfd_secrets_paths[i]);
      close (fd);
    }
  if (mode == RFD_MODE_CONTROL || mode == RFD_MODE_STDIO)
    {
      const char *file = mode == RFD_MODE_CONTROL ? "/control.sock" : "/.runf/shim";
      int fd = rf_inroot_mkpath (root_fd, file, false, err);
      if (fd < 0)
        return rf_error_wrap (err, "make the mount point `%s`", file);
      close (fd);
    }
  if (fn->network != RFD_NET_NONE)
    {
      /* Its resolvers are bound over these: an image may have neither. */
      static const char *const files[] = { "/etc/resolv.conf", "/etc/hosts" };
      for (size_t i = 0; i < ARRAY_SIZE (files); i++)
        {
          int fd = rf_inroot_mkpath (root_fd, files[i], false, err);
          if (fd < 0)
            return rf_error_wrap (err, "make the mount point `%s`", files[i]);
          close (fd);
        }
    }
  return 0;
}

static void
config_opts (const rfd_function_t *fn, rfd_config_opts_t *o, char **control_sock, char **secrets_dir)
{
  memset (o, 0, sizeof *o);
  o->rootless = rfd_config.rootless;
  o->uid_base = rfd_config.uid_base;
  o->uid_size = rfd_config.uid_size;
  o->gid_base = rfd_config.gid_base;
  o->gid_size = rfd_config.gid_size;
  o->host_uid = (uint32_t) geteuid ();
  o->host_gid = (uint32_t) getegid ();
  o->dev_template = rfd_config.dev_template;
  o->shim_path = rfd_config.shim_path;
  *control_sock = xasprintf ("%s/sock/%s.%u/control.sock", rfd_config.run_dir, fn->name, fn->id);
  o->control_sock = *control_sock;
  *secrets_dir = xasprintf ("%s/secrets/%s.%u", rfd_config.run_dir, fn->name, fn->id);
  o->secrets_dir = *secrets_dir;
  o->limits_ok = rfd_config.limits_ok;
  o->nofile_soft = rfd_config.nofile_soft;
  o->nofile_hard = rfd_config.nofile_hard;
}

/* Resolve the image, pin it, unpack its shared rootfs once, and make the
   instance config of it, with its command checked.  In a worker for API
   deploys (unpacking may take seconds), in process at startup. */
static int
function_build (rfd_function_t *fn, const char *image, char **digest, json_t **config, rf_error_t *err)
{
  cleanup_store rf_store_t *store = NULL;
  cleanup_free char *rootfs = NULL;
  cleanup_free char *pin = pin_name (fn);
  cleanup_free char *record = record_path (fn->name);
  cleanup_free char *control_sock = NULL;
  cleanup_free char *secrets_dir = NULL;
  cleanup_close int root_fd = -1;
  rf_bundle_opts_t bopts = { .rootless = rfd_config.rootless, .readonly = true };
  rfd_config_opts_t o;
  rf_image_t img;
  char dg[RF_DIGEST_MAX];
  bool made;

  memset (&img, 0, sizeof img);
  *config = NULL;
  /* The store's shared lock is held from here on: a prune (exclusive)
     sees the pin or comes before the name is resolved. */
  if (rf_store_open (rfd_config.store, RF_STORE_WRITE, rfd_config.rootless, &store, err) < 0
      || rf_image_resolve (store, image, dg, err) < 0)
    return -1;
  if (rf_store_pin (store, pin, dg, record, rfd_config.lock_path, err) < 0 || rf_image_load (store, dg, &img, err) < 0)
    return rf_error_wrap (err, "image `%s`", image);
  if (rf_image_rootfs (store, &img, &rootfs, &made, NULL, err) < 0)
    {
      rf_image_clear (&img);
      return rf_error_wrap (err, "image `%s`", image);
    }
  root_fd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0 || make_mount_points (root_fd, fn, err) < 0)
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
  config_opts (fn, &o, &control_sock, &secrets_dir);
  if (rfd_function_config (fn, &o, *config, err) < 0
      || rfd_config_check_command (*config, fn->mode, root_fd, err) < 0)
    {
      json_decref (*config);
      *config = NULL;
      return rf_error_wrap (err, "image `%s`", image);
    }
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

static int
persist (rfd_function_t *fn, rf_error_t *err)
{
  cleanup_json json_t *rec = NULL;
  cleanup_free char *text = NULL;
  cleanup_free char *path = record_path (fn->name);
  char addr[INET_ADDRSTRLEN];
  inet_ntop (AF_INET, &fn->addr, addr, sizeof addr);
  rec = json_pack ("{s:O, s:s, s:s, s:i, s:I}", "deploy", fn->deploy, "digest", fn->digest, "address", addr, "port",
                   fn->port, "createdAt", (json_int_t) fn->created_at);
  text = json_dumps (rec, JSON_INDENT (2));
  return rf_write_file_atomic (path, text, strlen (text), 0600, err);
}

static void
copy_field (json_t *doc, const json_t *deploy, const char *key)
{
  json_t *v = json_object_get (deploy, key);
  if (v && !json_is_null (v))
    json_object_set (doc, key, v);
}

json_t *
rfd_function_json (const rfd_function_t *fn)
{
  char addr[INET_ADDRSTRLEN];
  char created[32] = "";
  json_t *env = json_object_get (fn->deploy, "envVars"), *doc, *limits;
  struct tm tm;
  time_t t = (time_t) fn->created_at;
  inet_ntop (AF_INET, &fn->addr, addr, sizeof addr);
  if (fn->created_at && gmtime_r (&t, &tm))
    strftime (created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
  /* OpenFaaS's FunctionStatus (what faas-cli decodes: limits and requests
     as strings, as deployed), with runf's own fields beside. */
  doc = json_pack ("{s:s, s:s, s:s, s:s?, s:I, s:i, s:i, s:O, s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:f, s:b}", "name",
                   fn->name, "image", fn->image, "namespace", rfd_namespace, "digest", fn->digest, "invocationCount",
                   (json_int_t) fn->invocations, "replicas", fn->n_running + fn->n_ready + fn->n_starting, "availableReplicas",
                   fn->n_ready, "envVars", json_is_object (env) ? env : json_object (), "mode",
                   rfd_mode_name (fn->mode), "address", addr, "port", fn->port, "running", fn->n_running, "ready",
                   fn->n_ready, "queued", fn->n_queued, "concurrency", fn->concurrency, "timeoutSeconds",
                   (double) fn->timeout_ns / RFD_S, "readOnlyRootFilesystem", fn->read_only);
  if (!json_is_object (env))
    json_object_set_new (doc, "envVars", json_object ());
  if (*created)
    json_object_set_new (doc, "createdAt", json_string (created));
  copy_field (doc, fn->deploy, "envProcess");
  copy_field (doc, fn->deploy, "secrets");
  copy_field (doc, fn->deploy, "labels");
  copy_field (doc, fn->deploy, "annotations");
  copy_field (doc, fn->deploy, "constraints");
  copy_field (doc, fn->deploy, "requests");
  if (json_object_size (json_object_get (fn->deploy, "limits")) > 0)
    copy_field (doc, fn->deploy, "limits");
  /* What limits the instances really have: a limit that cannot be
     applied here is not shown as if it were (see warnings). */
  limits = json_pack ("{s:I, s:I}", "pids", (json_int_t) fn->pids, "memoryBytes",
                      (json_int_t) (rfd_config.limits_ok & RFD_LIMIT_MEMORY ? fn->memory : 0));
  if (fn->cpus > 0 && (rfd_config.limits_ok & RFD_LIMIT_CPU))
    json_object_set_new (limits, "cpus", json_real (fn->cpus));
  json_object_set_new (doc, "applied", limits);
  json_object_set_new (doc, "queue", json_integer (fn->queue_max));
  json_object_set_new (doc, "min", json_integer (fn->min));
  json_object_set_new (doc, "max", json_integer (fn->max));
  json_object_set_new (doc, "idleSeconds", json_real ((double) fn->idle_ns / RFD_S));
  json_object_set_new (doc, "command", rf_json_strv (fn->command));
  json_object_set_new (doc, "warnings", rf_json_strv (fn->warnings));
  json_object_set_new (doc, "requestsPerInstance", json_integer (fn->per_instance));
  if (RFD_PRESTART_P (fn->mode))
    {
      /* Pre-started: started and waiting (in ready), or coming up. */
      json_object_set_new (doc, "starting", json_integer (fn->n_starting));
      json_object_set_new (doc, "startTimeoutSeconds", json_real ((double) fn->start_timeout_ns / RFD_S));
      if (fn->start_problem)
        json_object_set_new (doc, "startProblem", json_string (fn->start_problem));
    }
  if (fn->mode == RFD_MODE_HTTP)
    json_object_set_new (doc, "serverPort", json_integer (fn->http_port));
  json_object_set_new (doc, "network", json_string (rfd_network_name (fn->network)));
  if (fn->network == RFD_NET_ISOLATED && fn->net_addr.s_addr)
    {
      char net[INET_ADDRSTRLEN];
      inet_ntop (AF_INET, &fn->net_addr, net, sizeof net);
      json_object_set_new (doc, "networkAddress", json_string (net));
    }
  if (fn->network == RFD_NET_ISOLATED)
    json_object_set_new (doc, "egress", json_string (fn->egress_private ? "all" : "public"));
  json_object_set_new (doc, "status", json_string (fn->failing ? "failing" : "ready"));
  if (fn->failing)
    json_object_set_new (doc, "reason", json_string (fn->failing));
  return doc;
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
  strv_free (fn->secrets);
  strv_free (fn->constraints);
  free (fn->secrets_dir);
  strv_free (fn->command);
  strv_free (fn->warnings);
  strv_free (fn->dns);
  free (fn->failing);
  free (fn->start_problem);
  free (fn->dir);
  free (fn->sock_dir);
  free (fn);
}

/* The directories and sockets function_install made, undone (a failing
   function keeps its log and its pin). */
static void
function_undo_dirs (rfd_function_t *fn)
{
  rfd_watch_close (&fn->control_w);
  rfd_watch_close (&fn->listen_w);
  if (fn->dir)
    {
      rfd_spawner_forget (fn);
      rf_rm_rf (fn->dir, NULL);
    }
  if (fn->sock_dir)
    rf_rm_rf (fn->sock_dir, NULL);
  rfd_secrets_uninstall (fn);
  free (fn->dir);
  fn->dir = NULL;
  free (fn->sock_dir);
  fn->sock_dir = NULL;
}

/* Everything of a function, undone. */
static void
function_uninstall (rfd_function_t *fn)
{
  cleanup_free char *pin = pin_name (fn);
  rfd_timer_cancel (&fn->pool_timer);
  rfd_timer_cancel (&fn->retry_timer);
  function_undo_dirs (fn);
  rfd_network_stop (fn);
  rfd_log_put (fn->log);
  fn->log = NULL;
  rf_store_unpin (rfd_config.store, pin);
}

static void on_retry (rfd_timer_t *t);

static rfd_function_t *
function_new (void)
{
  rfd_function_t *fn = xzalloc (sizeof *fn);
  fn->id = next_function_id++;
  fn->listen_w.fd = fn->control_w.fd = fn->connector_w.fd = -1;
  fn->net_holder_pidfd = fn->netns_fd = -1;
  rfd_timer_init (&fn->pool_timer, NULL, fn);
  rfd_timer_init (&fn->retry_timer, on_retry, fn);
  return fn;
}

/* Once a removed (or replaced) function has nothing running, it goes. */
void
rfd_function_release (rfd_function_t *fn)
{
  if (!fn->removing || fn->n_running || fn->n_creating || fn->n_ready || fn->n_starting || fn->n_dying
      || fn->preparing)
    return;
  for (rfd_function_t **p = &rfd_functions; *p; p = &(*p)->next)
    if (*p == fn)
      {
        *p = fn->next;
        break;
      }
  function_uninstall (fn);
  rfd_defer_free (fn, function_free);
}

static void
set_failing (rfd_function_t *fn, const char *why)
{
  bool first = fn->failing == NULL;
  free (fn->failing);
  fn->failing = xstrdup (why);
  if (first)
    {
      rf_log (RF_LOG_ERROR, "function %s: %s; retrying", fn->name, why);
      rfd_function_event (fn, "%s; retrying", why);
    }
  if (fn->retry_delay == 0)
    fn->retry_delay = RETRY_FIRST;
  rfd_timer_arm (&fn->retry_timer, fn->retry_delay);
  fn->retry_delay = fn->retry_delay * 2 > RETRY_MAX ? RETRY_MAX : fn->retry_delay * 2;
}

static void
clear_failing (rfd_function_t *fn)
{
  if (fn->failing == NULL)
    return;
  rf_log (RF_LOG_INFO, "function %s: serves again", fn->name);
  rfd_function_event (fn, "serves again (it was failing: %s)", fn->failing);
  free (fn->failing);
  fn->failing = NULL;
  fn->retry_delay = 0;
}

/* Its address: the one it had (a restart, a failed listen retried), a
   predecessor's socket (an update), or the first free one. */
static int
function_listen (rfd_function_t *fn, rfd_function_t *old, rf_error_t *err)
{
  int fd, flags;

  if (old && old->listen_w.fd >= 0)
    {
      /* A redeploy keeps the address and its socket: connections keep
         arriving while the old version finishes what it has. */
      fd = old->listen_w.fd;
      rfd_watch_del (&old->listen_w);
      old->listen_w.fd = -1;
    }
  else if (fn->addr.s_addr)
    {
      fd = rfd_listen_tcp (fn->addr, fn->port, err);
      if (fd < 0 && (*err)->code == EADDRINUSE)
        {
          rf_error_free (err);
          return rf_error_make (err, 0, "its address %s:%d is taken by another process",
                                inet_ntoa (fn->addr), fn->port);
        }
    }
  else
    fd = listen_free_address (fn, err);
  if (fd < 0)
    return -1;
  /* Warm handlers accept on the listening socket themselves and expect
     accept() to wait; runfd only polls it. */
  flags = fcntl (fd, F_GETFL);
  fcntl (fd, F_SETFL, fn->mode == RFD_MODE_WARM ? flags & ~O_NONBLOCK : flags | O_NONBLOCK);
  rfd_function_listen (fn, fd);
  return 0;
}

static int
function_install (rfd_function_t *fn, json_t *config, rfd_function_t *old, bool linked, rf_error_t *err);

static void restore_again (rfd_function_t *fn);

/* A failing function tried again: its address, or the whole install when
   its image could not be prepared (in a worker, as a deploy). */
static void
on_retry (rfd_timer_t *t)
{
  rfd_function_t *fn = t->data;
  rf_error_t err = NULL;
  if (fn->removing || fn->failing == NULL)
    return;
  if (fn->dir == NULL)
    {
      restore_again (fn);
      return;
    }
  if (function_listen (fn, NULL, &err) < 0)
    {
      cleanup_free char *text = rf_error_text (err);
      rf_error_free (&err);
      set_failing (fn, text);
      return;
    }
  clear_failing (fn);
}

/* Limits asked for that cgroups here cannot apply are refused; defaults
   that cannot be are said, in the function's warnings (the API's answer,
   fn describe, fn ls). */
static int
check_limits (rfd_function_t *fn, bool strict, rf_error_t *err)
{
  static const struct
  {
    unsigned bit;
    const char *field;
  } limits[] = { { RFD_LIMIT_MEMORY, "limits.memory" }, { RFD_LIMIT_CPU, "limits.cpu" } };
  size_t n = 0;

  strv_free (fn->warnings);
  fn->warnings = xzalloc (5 * sizeof (char *));
  /* OpenFaaS's fields that mean nothing on one host without a scheduler:
     accepted, so that stack files work, and said. */
  if (fn->requests_given)
    fn->warnings[n++] = xstrdup ("requests: not applied: runfd reserves nothing ahead; limits bound the instances");
  if (fn->constraints && fn->constraints[0])
    fn->warnings[n++] = xstrdup ("constraints: not applied: every instance runs on this host");
  for (size_t i = 0; i < ARRAY_SIZE (limits); i++)
    {
      bool wanted = limits[i].bit == RFD_LIMIT_MEMORY || (fn->limits_given & limits[i].bit);
      if (!wanted || (rfd_config.limits_ok & limits[i].bit))
        continue;
      if ((fn->limits_given & limits[i].bit) && strict)
        return rf_error_make (err, 0, "%s: cannot be applied: runfd has no %s cgroup it may write%s", limits[i].field,
                              limits[i].bit == RFD_LIMIT_MEMORY ? "memory" : "cpu",
                              rfd_config.rootless ? " (rootless, without a delegated cgroup)" : "");
      fn->warnings[n++] = xasprintf ("%s%s: not applied: runfd has no %s cgroup it may write%s", limits[i].field,
                                     (fn->limits_given & limits[i].bit) ? "" : " (the default)",
                                     limits[i].bit == RFD_LIMIT_MEMORY ? "memory" : "cpu",
                                     rfd_config.rootless ? " (rootless, without a delegated cgroup)" : "");
    }
  return 0;
}

/* The prepared image made into a running function: its directories and
   config, its log, its address, its record, the spawners told. */
static int
function_install (rfd_function_t *fn, json_t *config, rfd_function_t *old, bool linked, rf_error_t *err)
{
  cleanup_free char *config_path = NULL;
  cleanup_free char *text = NULL;
  rf_error_t lerr = NULL;

  /* The config holds the environment (secrets, often): 0600 in a 0700
     directory.  Only what the instances must reach by path (the control
     socket, as unprivileged ids) is in a directory others may search. */
  fn->dir = xasprintf ("%s/fn/%s.%u", rfd_config.run_dir, fn->name, fn->id);
  if (rf_mkdir_p (fn->dir, 0700, err) < 0)
    return -1;
  {
    cleanup_free char *parent = xasprintf ("%s/fn", rfd_config.run_dir);
    chmod (parent, 0700);
  }
  chmod (fn->dir, 0700);
  if (fn->mode == RFD_MODE_CONTROL)
    {
      cleanup_free char *parent = xasprintf ("%s/sock", rfd_config.run_dir);
      fn->sock_dir = xasprintf ("%s/%s.%u", parent, fn->name, fn->id);
      if (rf_mkdir_p (fn->sock_dir, 0711, err) < 0)
        return -1;
      chmod (parent, 0711);
      chmod (fn->sock_dir, 0711);
      if (rfd_control_listen (fn, err) < 0)
        return -1;
    }
  /* Its network namespace (and, isolated, its way out) before its config,
     which may name it. */
  if (rfd_network_start (fn, err) < 0)
    return -1;
  rfd_config_network (fn, config);
  {
    /* The instances' user, as the host sees it, owns their copies. */
    json_t *user = json_object_get (json_object_get (config, "process"), "user");
    fn->secrets_uid = rfd_config.uid_base + (uint32_t) json_integer_value (json_object_get (user, "uid"));
    fn->secrets_gid = rfd_config.gid_base + (uint32_t) json_integer_value (json_object_get (user, "gid"));
    if (rfd_secrets_install (fn, err) < 0)
      return -1;
  }
  {
    /* The spawner parses it again for each instance: a config it would
       refuse fails the deploy instead. */
    rf_spec_t *spec = rf_spec_parse (config, err);
    if (spec == NULL)
      return rf_error_wrap (err, "function `%s`", fn->name);
    rf_spec_free (spec);
  }
  config_path = xasprintf ("%s/config.json", fn->dir);
  text = json_dumps (config, JSON_COMPACT);
  if (rf_write_file_atomic (config_path, text, strlen (text), 0600, err) < 0)
    return -1;
  strv_free (fn->command);
  fn->command = rfd_config_command (config, fn->mode);
  if (fn->log == NULL && (fn->log = rfd_log_get (fn->name, err)) == NULL)
    return -1;
  if (fn->port == 0)
    fn->port = old ? old->port : rfd_config.function_port;
  if (old)
    fn->addr = old->addr;
  if (function_listen (fn, old, &lerr) < 0)
    {
      /* A new function without an address fails its deploy; one that had
         an address (restored, or updated) keeps it, and waits for it. */
      if (fn->addr.s_addr == 0)
        {
          *err = lerr;
          return -1;
        }
    }
  if (persist (fn, err) < 0)
    return -1;
  if (old)
    {
      /* So do the counters: /metrics and invocationCount go on. */
      memcpy (fn->requests, old->requests, sizeof fn->requests);
      fn->invocations = old->invocations;
      fn->cold_starts = old->cold_starts;
      fn->cold_hist = old->cold_hist;
      fn->latency_hist = old->latency_hist;
      fn->request_hist = old->request_hist;
      fn->create_hist = old->create_hist;
      fn->create_failures = old->create_failures;
      fn->oom_kills = old->oom_kills;
    }
  if (!linked)
    {
      fn->next = rfd_functions;
      rfd_functions = fn;
    }
  if (rfd_spawner_define (fn, err) < 0)
    {
      /* The spawners are restarted (and told again) by themselves. */
      cleanup_free char *why = rf_error_text (*err);
      rf_warn ("function %s: %s", fn->name, why);
      rf_error_free (err);
    }
  if (lerr)
    {
      cleanup_free char *why = rf_error_text (lerr);
      rf_error_free (&lerr);
      set_failing (fn, why);
    }
  else
    clear_failing (fn);
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
  rf_log (RF_LOG_INFO, "function %s (%s, %s) %s %s:%d", fn->name, fn->image, rfd_mode_name (fn->mode),
          fn->failing ? "waits for" : "listens on", inet_ntoa (fn->addr), fn->port);
  return 0;
}

/* --- deploying: the worker ------------------------------------------------ */

typedef struct
{
  rfd_watch_t w;
  pid_t pid;
  rfd_function_t *fn;
  bool replace;
  bool restore; /* a failing function's image, tried again */
  char *buf;
  size_t len;
  rfd_deploy_done done;
  void *ctx;
} deploy_job_t;

static void
deploy_finish (deploy_job_t *job, rf_error_t err)
{
  if (job->done)
    job->done (job->ctx, err, err ? NULL : job->fn);
  else
    rf_error_free (&err);
  rfd_watch_close (&job->w);
  free (job->buf);
  rfd_defer_free (job, free);
}

/* A deploy that failed after its function was set up in part. */
static void
deploy_abandon (rfd_function_t *fn)
{
  function_uninstall (fn);
  function_free (fn);
}

static void
on_worker (rfd_watch_t *w, uint32_t events)
{
  deploy_job_t *job = w->data;
  rfd_function_t *fn = job->fn;
  rf_error_t err = NULL;
  cleanup_json json_t *res = NULL;
  json_t *config;
  const char *digest, *why;
  char buf[65536];
  ssize_t n = read (w->fd, buf, sizeof buf);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n > 0)
    {
      job->buf = xrealloc (job->buf, job->len + (size_t) n + 1);
      memcpy (job->buf + job->len, buf, (size_t) n);
      job->len += (size_t) n;
      return;
    }
  while (waitpid (job->pid, NULL, 0) < 0 && errno == EINTR)
    ;
  res = job->len ? json_loadb (job->buf, job->len, 0, NULL) : NULL;
  why = json_string_value (json_object_get (res, "error"));
  digest = json_string_value (json_object_get (res, "digest"));
  config = json_object_get (res, "config");
  if (job->restore)
    {
      /* A failing function, still listed: installed now, or failing on. */
      fn->preparing = false;
      if (fn->removing)
        ;
      else if (res == NULL || why || digest == NULL || !json_is_object (config))
        set_failing (fn, why ? why : "the deploy worker died");
      else
        {
          free (fn->digest);
          fn->digest = xstrdup (digest);
          if (function_install (fn, config, NULL, true, &err) < 0)
            {
              cleanup_free char *text = rf_error_text (err);
              rf_error_free (&err);
              function_undo_dirs (fn);
              set_failing (fn, text);
            }
        }
      rfd_function_release (fn);
      deploy_finish (job, NULL);
      return;
    }
  if (res == NULL || why || digest == NULL || !json_is_object (config))
    {
      rf_error_make (&err, 0, "%s", why ? why : "the deploy worker died");
      deploy_abandon (fn);
      deploy_finish (job, err);
      return;
    }
  {
    rfd_function_t *old = job->replace ? rfd_function_find (fn->name) : NULL;
    fn->digest = xstrdup (digest);
    if (!job->replace && rfd_function_find (fn->name))
      rf_error_make (&err, EEXIST, "function `%s` already exists (use update to replace it)", fn->name);
    else if (job->replace && old == NULL)
      rf_error_make (&err, ENOENT, "function `%s` does not exist (it was removed meanwhile)", fn->name);
    else if (function_install (fn, config, old, false, &err) < 0 && fn->listen_w.fd >= 0 && old)
      {
        /* The socket goes back to the version that keeps serving. */
        int fd = fn->listen_w.fd;
        rfd_watch_del (&fn->listen_w);
        fn->listen_w.fd = -1;
        rfd_function_listen (old, fd);
      }
    if (err)
      deploy_abandon (fn);
  }
  deploy_finish (job, err);
}

/* The worker's side: prepare, and write the outcome as one JSON object. */
static void __attribute__ ((noreturn))
worker_main (rfd_function_t *fn, const char *image, int out)
{
  rf_error_t werr = NULL;
  char *digest = NULL;
  json_t *config = NULL, *res;
  char *text;
  if (function_build (fn, image, &digest, &config, &werr) == 0)
    res = json_pack ("{s:s, s:o}", "digest", digest, "config", config);
  else
    {
      char *why = rf_error_text (werr);
      res = json_pack ("{s:s}", "error", why);
    }
  text = json_dumps (res, JSON_COMPACT);
  rf_write_all (out, text, strlen (text));
  _exit (0);
}

static int
start_worker (rfd_function_t *fn, const char *image, deploy_job_t *job, rf_error_t *err)
{
  int pipefd[2];
  pid_t pid;

  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return rf_error_sys (err, "pipe");
  /* This process is single-threaded: the forked worker may use any library
     code.  It unpacks the image (seconds, for a big one) off the loop. */
  pid = rfd_worker_fork (pipefd[1], err);
  if (pid < 0)
    {
      close (pipefd[0]);
      close (pipefd[1]);
      return -1;
    }
  if (pid == 0)
    worker_main (fn, image, pipefd[1]);
  close (pipefd[1]);
  job->w.fd = pipefd[0];
  job->w.fn = on_worker;
  job->w.data = job;
  job->pid = pid;
  job->fn = fn;
  rfd_watch_add (&job->w, EPOLLIN);
  return 0;
}

int
rfd_function_deploy (json_t *req, bool replace, rfd_deploy_done done, void *ctx, rf_error_t *err)
{
  rfd_function_t *fn = function_new ();
  deploy_job_t *job;

  if (rfd_function_parse (req, fn, true, err) < 0 || check_limits (fn, true, err) < 0)
    {
      function_free (fn);
      return -1;
    }
  for (size_t i = 0; fn->secrets && fn->secrets[i]; i++)
    if (!rfd_secret_exists_p (fn->secrets[i]))
      {
        rf_error_make (err, 0, "secrets: `%s` does not exist (runfctl secret create %s)", fn->secrets[i],
                       fn->secrets[i]);
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
  fn->created_at = (int64_t) time (NULL);
  job = xzalloc (sizeof *job);
  job->replace = replace;
  job->done = done;
  job->ctx = ctx;
  if (start_worker (fn, fn->image, job, err) < 0)
    {
      free (job);
      function_free (fn);
      return -1;
    }
  return 0;
}

static void
restore_again (rfd_function_t *fn)
{
  deploy_job_t *job = xzalloc (sizeof *job);
  rf_error_t err = NULL;
  job->restore = true;
  /* So that an rm meanwhile does not free it under the worker. */
  fn->preparing = true;
  if (start_worker (fn, fn->digest ? fn->digest : fn->image, job, &err) < 0)
    {
      cleanup_free char *text = rf_error_text (err);
      rf_error_free (&err);
      free (job);
      fn->preparing = false;
      set_failing (fn, text);
    }
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
  rfd_timer_cancel (&fn->retry_timer);
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

/* A record whose function cannot be made now: listed as failing, with its
   record untouched, and tried again (with backoff) in a worker. */
static void
restore_failed (rfd_function_t *fn, const char *why)
{
  fn->next = rfd_functions;
  rfd_functions = fn;
  if (fn->log == NULL)
    fn->log = rfd_log_get (fn->name, NULL);
  set_failing (fn, why);
}

/* At startup: every recorded function again, its image prepared here (the
   loop does not run yet).  runfd's pins from before are dropped first:
   each function restored pins its image again. */
int
rfd_functions_load (rf_error_t *err)
{
  cleanup_free char *dir = xasprintf ("%s/functions", rfd_config.state_dir);
  cleanup_free char *prefix = xasprintf ("runfd-%s-", strrchr (rfd_config.cgroup_parent, '/') + 1);
  DIR *d;
  struct dirent *de;

  if (rf_mkdir_p (dir, 0700, err) < 0)
    return -1;
  chmod (dir, 0700);
  rf_store_unpin_prefix (rfd_config.store, prefix);
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
      const char *addr, *digest;
      size_t len = strlen (de->d_name);

      if (len < 6 || strcmp (de->d_name + len - 5, ".json") != 0)
        continue;
      path = xasprintf ("%s/%s", dir, de->d_name);
      chmod (path, 0600);
      rec = rf_json_load_file (path, &ferr);
      fn = function_new ();
      if (rec == NULL || rfd_function_parse (json_object_get (rec, "deploy"), fn, false, &ferr) < 0)
        {
          /* Without a name and an image there is nothing to list or retry. */
          cleanup_free char *text = rf_error_text (ferr);
          rf_log (RF_LOG_ERROR, "function record `%s`: %s; not restored (the record is kept)", path, text);
          rf_error_free (&ferr);
          function_free (fn);
          continue;
        }
      check_limits (fn, false, NULL);
      fn->deploy = json_incref (json_object_get (rec, "deploy"));
      digest = json_string_value (json_object_get (rec, "digest"));
      addr = json_string_value (json_object_get (rec, "address"));
      if (addr)
        inet_pton (AF_INET, addr, &fn->addr);
      fn->port = (int) json_integer_value (json_object_get (rec, "port"));
      fn->created_at = (int64_t) json_integer_value (json_object_get (rec, "createdAt"));
      if (fn->port == 0)
        fn->port = rfd_config.function_port;
      if (digest)
        fn->digest = xstrdup (digest);
      {
        char *built = NULL;
        if (function_build (fn, digest ? digest : fn->image, &built, &config, &ferr) < 0)
          {
            cleanup_free char *text = rf_error_text (ferr);
            rf_error_free (&ferr);
            restore_failed (fn, text);
            continue;
          }
        free (fn->digest);
        fn->digest = built;
      }
      if (function_install (fn, config, NULL, false, &ferr) < 0)
        {
          cleanup_free char *text = rf_error_text (ferr);
          rf_error_free (&ferr);
          function_undo_dirs (fn);
          restore_failed (fn, text);
        }
    }
  closedir (d);
  return 0;
}
