/* A function's deploy request and the container config made of it: the
 * pure part of deploying, with no daemon state, so that it can be tested
 * on its own (tests/unit/test_fnspec.c).  Sizes and durations are read
 * with the grammar every program here shares (common/units). */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/inroot.h"
#include "common/fnname.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/units.h"
#include "runfd.h"

extern const char rfd_default_seccomp[];

static const char *const mode_names[] = { "inetd", "control-socket", "warm", "stdio", "http" };
static const char *const network_names[] = { "none", "isolated", "host" };

const char *const rfd_secrets_paths[2] = { "/var/openfaas/secrets", "/run/secrets" };

const char *
rfd_mode_name (rfd_mode_t mode)
{
  return mode_names[mode];
}

const char *
rfd_network_name (rfd_network_t net)
{
  return network_names[net];
}

/* --- the deploy request ---------------------------------------------------- */

/* What a deploy may say; anything else is refused, so that a field a user
   expects to work (secrets, labels) is never silently dropped. */
static const char *const deploy_fields[] = {
  "service", "image", "mode", "envVars", "cmd", "capabilities", "limits", "pids", "concurrency",
  "queue", "min", "max", "timeout", "idle", "readOnly",
  /* OpenFaaS's FunctionDeployment (docs/functions.md says what each does
     here). */
  "namespace", "envProcess", "secrets", "labels", "annotations", "requests", "constraints",
  "readOnlyRootFilesystem", "network", "egress", "dns", "requestsPerInstance", "startTimeout",
};
static const char *const limits_fields[] = { "memory", "cpu" };

/* The one namespace runfd has, as OpenFaaS names its default. */
const char rfd_namespace[] = "openfaas-fn";

static bool
known_p (const char *key, const char *const *names, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (key, names[i]) == 0)
      return true;
  return false;
}

static int
check_fields (json_t *obj, const char *where, const char *const *names, size_t n, bool strict, rf_error_t *err)
{
  const char *key;
  json_t *v;
  json_object_foreach (obj, key, v)
    {
      cleanup_free char *shown = NULL;
      if (known_p (key, names, n))
        continue;
      shown = xasprintf ("%s%s%.64s", where, *where ? "." : "", key);
      if (strict)
        {
          cleanup_free char *list = xstrdup ("");
          for (size_t i = 0; i < n; i++)
            {
              char *more = xasprintf ("%s%s%s", list, i ? ", " : "", names[i]);
              free (list);
              list = more;
            }
          return rf_error_make (err, 0, "%s: not a field runfd knows (it reads %s)", shown, list);
        }
      rf_warn ("%s: not a field runfd knows; left out", shown);
    }
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
  return 1;
}

/* A duration: a string of the shared grammar ("30s", "500ms", or seconds),
   or a JSON number of seconds.  At most a day; 0 only where allowed. */
static int
get_duration (json_t *req, const char *key, bool zero_ok, uint64_t *out, rf_error_t *err)
{
  json_t *v = json_object_get (req, key);
  int64_t ns = -1;
  if (v == NULL || json_is_null (v))
    return 0;
  if (json_is_string (v))
    {
      if (rf_parse_seconds_ns (json_string_value (v), &ns) < 0)
        ns = -1;
    }
  else if (json_is_number (v))
    {
      double s = json_number_value (v);
      if (isfinite (s) && s >= 0 && s <= (double) RFD_DURATION_MAX / RFD_S)
        ns = (int64_t) (s * RFD_S);
    }
  if (ns < 0 || (uint64_t) ns > RFD_DURATION_MAX || (ns == 0 && !zero_ok))
    {
      cleanup_free char *text = json_is_string (v) ? xstrndup (json_string_value (v), 64) : NULL;
      return rf_error_make (err, 0, "%s%s%s%s: expected a duration %sup to 24h, like 30s, 500ms or 2m", key,
                            text ? " `" : "", text ? text : "", text ? "`" : "", zero_ok ? "" : "above 0 and ");
    }
  *out = (uint64_t) ns;
  return 1;
}

/* CPUs: "0.5", or Kubernetes' millicores "500m" (what OpenFaaS sends). */
static int
parse_cpus (const char *s, double *out)
{
  uint64_t whole = 0, frac = 0, scale = 100000000;
  const char *p = s;
  bool any = false;
  double v;

  for (; *p >= '0' && *p <= '9'; p++, any = true)
    {
      if (whole > 1000000)
        return -1;
      whole = whole * 10 + (uint64_t) (*p - '0');
    }
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++, any = true)
      {
        frac += (uint64_t) (*p - '0') * scale;
        scale /= 10;
      }
  if (!any)
    return -1;
  v = (double) whole + (double) frac / 1e9;
  if (*p == 'm' && p[1] == '\0')
    v /= 1000;
  else if (*p != '\0')
    return -1;
  *out = v;
  return 0;
}

bool
rfd_secret_name_valid_p (const char *s)
{
  size_t n = strlen (s);
  if (n == 0 || n > 63 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9')))
    return false;
  return strspn (s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* labels and annotations: string maps, kept as given and shown again. */
static int
check_string_map (json_t *req, const char *key, rf_error_t *err)
{
  json_t *map = json_object_get (req, key), *v;
  const char *k;
  if (map == NULL || json_is_null (map))
    return 0;
  if (!json_is_object (map))
    return rf_error_make (err, 0, "%s: expected an object of strings", key);
  json_object_foreach (map, k, v)
    if (!json_is_string (v))
      return rf_error_make (err, 0, "%s.%.64s: expected a string", key, k);
  return 0;
}

/* requests: OpenFaaS's reservations, in the grammar of limits.  runfd
   reserves nothing ahead (it has no scheduler), so they are checked and
   kept, and said not to be applied. */
static int
check_requests (json_t *req, rfd_function_t *fn, bool strict, rf_error_t *err)
{
  json_t *r = NULL;
  const char *s = NULL;
  int64_t bytes;
  double cpus;
  if (rf_json_get_object (req, "", "requests", &r, err) < 0)
    return -1;
  if (r == NULL)
    return 0;
  fn->requests_given = json_object_size (r) > 0;
  if (check_fields (r, "requests", limits_fields, ARRAY_SIZE (limits_fields), strict, err) < 0
      || rf_json_get_string (r, "requests", "memory", &s, err) < 0)
    return -1;
  if (s && (rf_parse_ram_bytes (s, &bytes) < 0 || bytes <= 0))
    return rf_error_make (err, 0, "requests.memory `%.64s`: expected a size, like 128m or 1g", s);
  s = NULL;
  if (rf_json_get_string (r, "requests", "cpu", &s, err) < 0)
    return -1;
  if (s && parse_cpus (s, &cpus) < 0)
    return rf_error_make (err, 0, "requests.cpu `%.64s`: expected a number of CPUs, like 0.5 or 500m", s);
  return 0;
}

/* requestsPerInstance: how many requests one instance serves, 1 (a fresh
   container each, the default but for warm) to any number, or 0 (no
   bound).  A handler that gets its socket at exec (inetd, stdio) serves
   one; one that accepts by itself (warm) cannot be counted.  Another
   number is refused by name rather than ignored. */
static int
parse_requests_per_instance (json_t *req, rfd_function_t *fn, rf_error_t *err)
{
  int fixed = fn->mode == RFD_MODE_WARM ? 0 : 1;
  fn->per_instance = fixed;
  if (get_int (req, "requestsPerInstance", 0, 1 << 30, &fn->per_instance, err) < 0)
    return -1;
  if (!RFD_PRESTART_P (fn->mode) && fn->per_instance != fixed)
    return rf_error_make (err, 0,
                          "requestsPerInstance %d: mode %s serves %s (%d); the modes whose handler waits for its "
                          "requests (control-socket, http) serve another number",
                          fn->per_instance, rfd_mode_name (fn->mode),
                          fixed ? "each request in a fresh container" : "any number of requests per instance", fixed);
  return 0;
}

/* http mode: the server's port is the environment's PORT (8080 unless
   the deploy sets it), in a network namespace of each instance's own. */
static int
parse_http (json_t *req, rfd_function_t *fn, rf_error_t *err)
{
  fn->http_port = RFD_DEFAULT_HTTP_PORT;
  for (size_t i = 0; fn->env && fn->env[i]; i++)
    if (strncmp (fn->env[i], "PORT=", 5) == 0)
      {
        unsigned long long port;
        if (rf_parse_uint64 (fn->env[i] + 5, 65535, &port) < 0 || port == 0)
          return rf_error_make (err, 0, "envVars.PORT `%.16s`: expected a port from 1 to 65535 (the one the "
                                        "server listens on)", fn->env[i] + 5);
        fn->http_port = (int) port;
      }
  if (fn->mode != RFD_MODE_HTTP)
    return 0;
  if (json_object_get (req, "network") == NULL)
    fn->network = RFD_NET_NONE; /* whatever runfd's default */
  if (fn->network != RFD_NET_NONE)
    return rf_error_make (err, 0, "network %s: mode http gives each instance a network namespace of its own, "
                                  "with only lo (network none); %s", rfd_network_name (fn->network),
                          fn->network == RFD_NET_HOST ? "on the host's network every instance would need the same "
                                                        "port"
                                                      : "isolated networks per instance are not built yet");
  return 0;
}

int
rfd_requests_per_instance (rfd_mode_t mode)
{
  return mode == RFD_MODE_WARM ? 0 : 1;
}

/* network, egress, dns (docs/functions.md, Networks). */
static int
parse_network (json_t *req, rfd_function_t *fn, rf_error_t *err)
{
  const char *s = NULL;
  fn->network = rfd_config.default_network;
  if (rf_json_get_string (req, "", "network", &s, err) < 0)
    return -1;
  if (s)
    {
      size_t i;
      for (i = 0; i < ARRAY_SIZE (network_names); i++)
        if (strcmp (s, network_names[i]) == 0)
          break;
      if (i == ARRAY_SIZE (network_names))
        return rf_error_make (err, 0, "network `%.64s`: expected none, isolated or host", s);
      fn->network = (rfd_network_t) i;
    }
  s = NULL;
  if (rf_json_get_string (req, "", "egress", &s, err) < 0)
    return -1;
  if (s && strcmp (s, "all") != 0 && strcmp (s, "public") != 0)
    return rf_error_make (err, 0, "egress `%.64s`: expected public or all", s);
  fn->egress_private = s && strcmp (s, "all") == 0;
  if (s && fn->network != RFD_NET_ISOLATED)
    return rf_error_make (err, 0, "egress: only an isolated network has egress to choose");
  if (rf_json_get_strv (req, "", "dns", &fn->dns, err) < 0)
    return -1;
  for (size_t i = 0; fn->dns && fn->dns[i]; i++)
    {
      struct in_addr a;
      if (inet_pton (AF_INET, fn->dns[i], &a) != 1)
        return rf_error_make (err, 0, "dns `%.64s`: expected an IPv4 address", fn->dns[i]);
    }
  if (fn->dns && fn->network == RFD_NET_NONE)
    return rf_error_make (err, 0, "dns: a function on network none has no resolver to reach");
  return 0;
}

int
rfd_function_parse (json_t *req, rfd_function_t *fn, bool strict, rf_error_t *err)
{
  json_t *limits = NULL, *env = NULL, *v;
  const char *s = NULL, *key;

  if (!json_is_object (req))
    return rf_error_make (err, 0, "the request body: expected a JSON object");
  if (check_fields (req, "", deploy_fields, ARRAY_SIZE (deploy_fields), strict, err) < 0)
    return -1;
  if (rf_json_get_string (req, "", "service", &s, err) < 0)
    return -1;
  if (s == NULL)
    return rf_error_make (err, 0, "service: missing (the function's name)");
  if (!rf_function_name_valid_p (s))
    return rf_error_make (err, 0, "service `%.80s`: use 1-63 of a-z 0-9 - _, starting with a letter or digit", s);
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
      for (i = 0; i < ARRAY_SIZE (mode_names); i++)
        if (strcmp (s, mode_names[i]) == 0)
          break;
      if (i == ARRAY_SIZE (mode_names))
        return rf_error_make (err, 0, "mode `%.64s`: expected inetd, control-socket, warm, stdio or http", s);
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
          return rf_error_make (err, 0, "envVars.%.64s: expected a string value and a name without `=`", key);
        fn->env[i++] = xasprintf ("%s=%s", key, json_string_value (v));
      }
  }
  s = NULL;
  if (rf_json_get_string (req, "", "envProcess", &s, err) < 0)
    return -1;
  if (s && *s)
    {
      /* As OpenFaaS does: the watchdog's fprocess, from the environment. */
      size_t n = 0;
      while (fn->env[n])
        n++;
      fn->env = xrealloc (fn->env, (n + 2) * sizeof (char *));
      fn->env[n] = xasprintf ("fprocess=%s", s);
      fn->env[n + 1] = NULL;
    }
  s = NULL;
  if (rf_json_get_string (req, "", "namespace", &s, err) < 0)
    return -1;
  if (s && *s && strcmp (s, rfd_namespace) != 0)
    return rf_error_make (err, 0, "namespace `%.64s`: runfd has one namespace, %s", s, rfd_namespace);
  if (rf_json_get_strv (req, "", "cmd", &fn->cmd, err) < 0 || rf_json_get_strv (req, "", "capabilities", &fn->caps, err) < 0
      || rf_json_get_strv (req, "", "secrets", &fn->secrets, err) < 0
      || rf_json_get_strv (req, "", "constraints", &fn->constraints, err) < 0)
    return -1;
  for (size_t i = 0; fn->secrets && fn->secrets[i]; i++)
    {
      if (!rfd_secret_name_valid_p (fn->secrets[i]))
        return rf_error_make (err, 0, "secrets[%zu] `%.64s`: a secret's name is 1-63 of a-z A-Z 0-9 . _ -, "
                                      "starting with a letter or digit", i, fn->secrets[i]);
      for (size_t k = 0; k < i; k++)
        if (strcmp (fn->secrets[k], fn->secrets[i]) == 0)
          return rf_error_make (err, 0, "secrets: `%s` is named twice", fn->secrets[i]);
    }
  if (check_string_map (req, "labels", err) < 0 || check_string_map (req, "annotations", err) < 0
      || check_requests (req, fn, strict, err) < 0)
    return -1;
  if (fn->cmd && (fn->cmd[0] == NULL || fn->cmd[0][0] == '\0'))
    return rf_error_make (err, 0, "cmd: must not be empty");

  fn->memory = RFD_DEFAULT_MEMORY;
  fn->pids = RFD_DEFAULT_PIDS;
  if (rf_json_get_object (req, "", "limits", &limits, err) < 0)
    return -1;
  if (limits)
    {
      if (check_fields (limits, "limits", limits_fields, ARRAY_SIZE (limits_fields), strict, err) < 0)
        return -1;
      s = NULL;
      if (rf_json_get_string (limits, "limits", "memory", &s, err) < 0)
        return -1;
      if (s)
        {
          if (rf_parse_ram_bytes (s, &fn->memory) < 0 || fn->memory < 4 * 1024 * 1024)
            return rf_error_make (err, 0, "limits.memory `%.64s`: expected a size of at least 4m, like 128m or 1g",
                                  s);
          fn->limits_given |= RFD_LIMIT_MEMORY;
        }
      s = NULL;
      if (rf_json_get_string (limits, "limits", "cpu", &s, err) < 0)
        return -1;
      if (s)
        {
          if (parse_cpus (s, &fn->cpus) < 0 || !(fn->cpus >= 0.01 && fn->cpus <= 1024))
            return rf_error_make (err, 0, "limits.cpu `%.64s`: expected a number of CPUs from 0.01 to 1024, "
                                          "like 0.5 or 500m", s);
          fn->limits_given |= RFD_LIMIT_CPU;
        }
    }
  {
    int pids = (int) fn->pids, concurrency = RFD_DEFAULT_CONCURRENCY, queue = RFD_DEFAULT_QUEUE, min = 0,
        max = 8, r;
    if ((r = get_int (req, "pids", 1, 1 << 22, &pids, err)) < 0)
      return -1;
    if (r > 0)
      fn->limits_given |= RFD_LIMIT_PIDS;
    if (get_int (req, "concurrency", 1, 100000, &concurrency, err) < 0
        || get_int (req, "queue", 0, 100000, &queue, err) < 0 || get_int (req, "min", 0, 1000, &min, err) < 0
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
  fn->timeout_ns = RFD_DEFAULT_TIMEOUT;
  fn->idle_ns = RFD_DEFAULT_IDLE;
  if (get_duration (req, "timeout", false, &fn->timeout_ns, err) < 0
      || get_duration (req, "idle", true, &fn->idle_ns, err) < 0)
    return -1;
  fn->start_timeout_ns = RFD_DEFAULT_START_TIMEOUT;
  if (get_duration (req, "startTimeout", false, &fn->start_timeout_ns, err) < 0)
    return -1;
  if (parse_network (req, fn, err) < 0 || parse_requests_per_instance (req, fn, err) < 0
      || parse_http (req, fn, err) < 0)
    return -1;
  fn->read_only = true;
  if (rf_json_get_bool (req, "", "readOnly", &fn->read_only, err) < 0)
    return -1;
  if (!fn->read_only)
    return rf_error_make (err, 0, "readOnly: false is not supported yet; instances share the image's root read-only "
                                  "and get a writable /tmp");
  if (rf_json_get_bool (req, "", "readOnlyRootFilesystem", &fn->read_only, err) < 0)
    return -1;
  if (!fn->read_only)
    return rf_error_make (err, 0, "readOnlyRootFilesystem: false is not supported yet; instances share the image's "
                                  "root read-only and get a writable /tmp");
  return 0;
}

/* --- the container config ---------------------------------------------- */

static json_t *mount_obj (const char *dest, const char *type, const char *source, const char *opts_csv);

void
rfd_config_network (const rfd_function_t *fn, json_t *config)
{
  json_t *linux_ = json_object_get (config, "linux");
  json_t *ns = json_object_get (linux_, "namespaces");

  if (fn->network != RFD_NET_NONE && fn->net_dir)
    {
      cleanup_free char *resolv = xasprintf ("%s/resolv.conf", fn->net_dir);
      cleanup_free char *hosts = xasprintf ("%s/hosts", fn->net_dir);
      json_t *mounts = json_object_get (config, "mounts");
      json_array_append_new (mounts, mount_obj ("/etc/resolv.conf", "bind", resolv, "bind,ro,nosuid,nodev,noexec"));
      json_array_append_new (mounts, mount_obj ("/etc/hosts", "bind", hosts, "bind,ro,nosuid,nodev,noexec"));
    }
  if (fn->network == RFD_NET_HOST || fn->net_holder <= 0 || fn->netns_fd >= 0)
    return; /* the host's; or, as root, entered by the spawners */
  {
    /* Rootless, the function's network namespace belongs to a user
       namespace runfd made for it (the only kind an unprivileged process
       may make one in): the instances join both, as its root, with no
       capability (network.c). */
    cleanup_free char *user_path = xasprintf ("/proc/%d/ns/user", (int) fn->net_holder);
    cleanup_free char *net_path = xasprintf ("/proc/%d/ns/net", (int) fn->net_holder);
    size_t i;
    json_t *v;
    json_array_foreach (ns, i, v)
      if (strcmp (json_string_value (json_object_get (v, "type")), "user") == 0)
        json_object_set_new (v, "path", json_string (user_path));
    /* http: a namespace of each instance's own, in that user namespace
       (where the holder may enter it to connect to its server). */
    if (fn->mode != RFD_MODE_HTTP)
      json_array_append_new (ns, json_pack ("{s:s, s:s}", "type", "network", "path", net_path));
    json_object_del (linux_, "uidMappings");
    json_object_del (linux_, "gidMappings");
    json_object_set_new (json_object_get (json_object_get (config, "process"), "user"), "uid", json_integer (0));
    json_object_set_new (json_object_get (json_object_get (config, "process"), "user"), "gid", json_integer (0));
  }
}


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

static json_t *
rlimit_obj (const char *type, uint64_t soft, uint64_t hard)
{
  return json_pack ("{s:s, s:I, s:I}", "type", type, "soft", (json_int_t) soft, "hard", (json_int_t) hard);
}

int
rfd_function_config (const rfd_function_t *fn, const rfd_config_opts_t *o, json_t *config, rf_error_t *err)
{
  json_t *process = json_object_get (config, "process");
  json_t *linux_ = json_object_get (config, "linux");
  json_t *args = json_object_get (process, "args");
  json_t *env = json_object_get (process, "env");
  json_t *mounts = json_array ();
  json_t *ns = json_array ();
  json_t *resources = json_object ();
  json_t *rlimits = json_array ();
  json_t *user = json_object_get (process, "user");
  json_t *caps = json_array ();
  cleanup_json json_t *seccomp = NULL;
  json_error_t jerr;
  uint32_t uid = (uint32_t) json_integer_value (json_object_get (user, "uid"));
  uint32_t gid = (uint32_t) json_integer_value (json_object_get (user, "gid"));

  if (!json_is_object (process) || !json_is_object (linux_) || !json_is_array (env))
    {
      json_decref (mounts);
      json_decref (ns);
      json_decref (resources);
      json_decref (rlimits);
      json_decref (caps);
      return rf_error_make (err, 0, "image `%s`: its config has no process or linux section", fn->image);
    }
  json_object_set_new (config, "mounts", mounts);
  json_object_set_new (linux_, "namespaces", ns);
  json_object_set_new (linux_, "resources", resources);
  json_object_set_new (process, "rlimits", rlimits);
  if (fn->cmd)
    {
      args = json_array ();
      for (size_t i = 0; fn->cmd[i]; i++)
        json_array_append_new (args, json_string (fn->cmd[i]));
      json_object_set_new (process, "args", args);
    }
  if (!json_is_array (args) || json_array_size (args) == 0)
    {
      json_decref (caps);
      return rf_error_make (err, 0, "image `%s`: it has no command (Entrypoint or Cmd); give one with cmd",
                            fn->image);
    }
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
    cleanup_free char *mode_env = xasprintf ("RUNF_MODE=%s", rfd_mode_name (fn->mode));
    json_array_append_new (env, json_string (name_env));
    json_array_append_new (env, json_string (mode_env));
    if (fn->mode == RFD_MODE_HTTP)
      {
        bool given = false;
        for (size_t i = 0; fn->env && fn->env[i]; i++)
          given = given || strncmp (fn->env[i], "PORT=", 5) == 0;
        if (!given)
          {
            cleanup_free char *port_env = xasprintf ("PORT=%d", fn->http_port);
            json_array_append_new (env, json_string (port_env));
          }
      }
  }
  json_object_set_new (process, "terminal", json_false ());
  json_object_set_new (process, "noNewPrivileges", json_true ());
  for (size_t i = 0; fn->caps && fn->caps[i]; i++)
    json_array_append_new (caps, json_string (fn->caps[i]));
  json_object_set_new (process, "capabilities",
                       json_pack ("{s:O, s:O, s:O, s:O}", "bounding", caps, "effective", caps, "permitted", caps,
                                  "ambient", caps));
  json_decref (caps);
  /* The pids limit is also each instance's RLIMIT_NPROC: a process count
     per user namespace (Linux 5.14+), so it holds where no pids cgroup
     can be made (rootless), and costs no cgroup where none was asked for.
     The instances get the file limit runfd itself was started with, not
     the one it raised for its own many sockets. */
  json_array_append_new (rlimits, rlimit_obj ("RLIMIT_NPROC", (uint64_t) fn->pids, (uint64_t) fn->pids));
  if (o->nofile_soft)
    json_array_append_new (rlimits, rlimit_obj ("RLIMIT_NOFILE", o->nofile_soft, o->nofile_hard));

  json_object_set_new (config, "hostname", json_string (fn->name));
  json_object_set_new (json_object_get (config, "root"), "readonly", json_boolean (fn->read_only));

  /* What a handler needs, and nothing that costs a mount without use:
     no /sys, no ptys, no mqueue (see docs/functions.md). */
  json_array_append_new (mounts, mount_obj ("/proc", "proc", "proc", "nosuid,noexec,nodev"));
  if (o->dev_template)
    json_array_append_new (mounts, mount_obj ("/dev", "bind", o->dev_template, "rbind,nosuid,noexec"));
  else
    json_array_append_new (mounts, mount_obj ("/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=64k"));
  json_array_append_new (mounts, mount_obj ("/tmp", "tmpfs", "tmpfs", "nosuid,nodev,mode=1777,size=64m"));
  if (fn->mode == RFD_MODE_CONTROL)
    json_array_append_new (mounts, mount_obj ("/control.sock", "bind", o->control_sock, "bind,nosuid,nodev,noexec"));
  if (fn->mode == RFD_MODE_STDIO)
    json_array_append_new (mounts, mount_obj ("/.runf/shim", "bind", o->shim_path, "bind,ro,nosuid,nodev"));
  /* Secrets as read-only files, where OpenFaaS and Docker put them; the
     directory holds this function's secrets only. */
  if (fn->secrets && fn->secrets[0] && o->secrets_dir)
    for (size_t i = 0; i < ARRAY_SIZE (rfd_secrets_paths); i++)
      json_array_append_new (mounts, mount_obj (rfd_secrets_paths[i], "bind", o->secrets_dir,
                                                "bind,ro,nosuid,nodev,noexec"));

  json_array_append_new (ns, json_pack ("{s:s}", "type", "pid"));
  json_array_append_new (ns, json_pack ("{s:s}", "type", "ipc"));
  json_array_append_new (ns, json_pack ("{s:s}", "type", "uts"));
  json_array_append_new (ns, json_pack ("{s:s}", "type", "mount"));
  json_array_append_new (ns, json_pack ("{s:s}", "type", "user"));
  /* http: each instance's server on the same port, so each in a network
     namespace of its own (only lo, up). */
  if (fn->mode == RFD_MODE_HTTP)
    json_array_append_new (ns, json_pack ("{s:s}", "type", "network"));
  /* Root inside is nobody outside: as root, a range of unprivileged host
     ids; rootless, the caller's own id (as the image's user). */
  if (o->rootless)
    {
      json_object_set_new (linux_, "uidMappings",
                           json_pack ("[{s:I, s:I, s:I}]", "containerID", (json_int_t) uid, "hostID",
                                      (json_int_t) o->host_uid, "size", (json_int_t) 1));
      json_object_set_new (linux_, "gidMappings",
                           json_pack ("[{s:I, s:I, s:I}]", "containerID", (json_int_t) gid, "hostID",
                                      (json_int_t) o->host_gid, "size", (json_int_t) 1));
    }
  else
    {
      if (uid >= o->uid_size || gid >= o->gid_size)
        return rf_error_make (err, 0, "image `%s`: its user %u:%u is outside the mapped ids 0..%u", fn->image, uid, gid,
                              o->uid_size - 1);
      json_object_set_new (linux_, "uidMappings",
                           json_pack ("[{s:I, s:I, s:I}]", "containerID", (json_int_t) 0, "hostID",
                                      (json_int_t) o->uid_base, "size", (json_int_t) o->uid_size));
      json_object_set_new (linux_, "gidMappings",
                           json_pack ("[{s:I, s:I, s:I}]", "containerID", (json_int_t) 0, "hostID",
                                      (json_int_t) o->gid_base, "size", (json_int_t) o->gid_size));
    }
  json_object_set_new (linux_, "maskedPaths",
                       json_pack ("[ssss]", "/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"));
  json_object_set_new (linux_, "readonlyPaths", json_pack ("[s]", "/proc/sys"));
  json_object_del (linux_, "cgroupsPath");
  /* Only what cgroups here can apply goes in: the rest is refused at the
     deploy when asked for, and reported when a default. */
  if (fn->memory && (o->limits_ok & RFD_LIMIT_MEMORY))
    json_object_set_new (resources, "memory", json_pack ("{s:I}", "limit", (json_int_t) fn->memory));
  if (fn->cpus > 0 && (o->limits_ok & RFD_LIMIT_CPU))
    json_object_set_new (resources, "cpu", json_pack ("{s:I, s:I}", "quota", (json_int_t) (fn->cpus * 100000),
                                                      "period", (json_int_t) 100000));
  /* The default pids limit is RLIMIT_NPROC's alone; a pids cgroup only
     when one was asked for (each cgroup is a mkdir and an rmdir per
     instance). */
  if ((fn->limits_given & RFD_LIMIT_PIDS) && (o->limits_ok & RFD_LIMIT_PIDS))
    json_object_set_new (resources, "pids", json_pack ("{s:I}", "limit", (json_int_t) fn->pids));
  seccomp = json_loads (rfd_default_seccomp, 0, &jerr);
  if (seccomp == NULL)
    return rf_error_make (err, 0, "the default seccomp profile: %s", jerr.text);
  json_object_del (seccomp, "comment");
  json_object_set (linux_, "seccomp", seccomp);
  return 0;
}

char **
rfd_config_command (json_t *config, rfd_mode_t mode)
{
  json_t *args = json_object_get (json_object_get (config, "process"), "args");
  size_t skip = mode == RFD_MODE_STDIO ? 2 : 0, n = json_array_size (args);
  char **v = xzalloc ((n + 1) * sizeof (char *));
  for (size_t i = skip, k = 0; i < n; i++)
    if (json_is_string (json_array_get (args, i)))
      v[k++] = xstrdup (json_string_value (json_array_get (args, i)));
  return v;
}

/* An executable regular file at path (inside the image). */
static int
executable_at (int root_fd, const char *path, rf_error_t *err)
{
  struct stat st;
  cleanup_close int fd = rf_inroot_open (root_fd, path, O_PATH, RF_INROOT_FOLLOW);
  if (fd < 0)
    return -1;
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    return rf_error_make (err, 0, "`%s` in the image is not a file", path);
  if (!(st.st_mode & 0111))
    return rf_error_make (err, 0, "`%s` in the image is not executable (mode %04o)", path,
                          (unsigned) (st.st_mode & 07777));
  return 0;
}

int
rfd_config_check_command (json_t *config, rfd_mode_t mode, int root_fd, rf_error_t *err)
{
  json_t *process = json_object_get (config, "process");
  json_t *env = json_object_get (process, "env"), *e;
  const char *cmd = json_string_value (json_array_get (json_object_get (process, "args"), mode == RFD_MODE_STDIO ? 2 : 0));
  const char *cwd = json_string_value (json_object_get (process, "cwd"));
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  rf_error_t why = NULL;
  size_t i;


  if (cmd == NULL || *cmd == '\0')
    return rf_error_make (err, 0, "the command is empty");
  if (strchr (cmd, '/'))
    {
      /* As execve sees it: relative to the working directory. */
      cleanup_free char *full = cmd[0] == '/' ? xstrdup (cmd) : xasprintf ("%s/%s", cwd ? cwd : "/", cmd);
      if (executable_at (root_fd, full, &why) == 0)
        return 0;
      if (why)
        {
          rf_error_make (err, 0, "command `%.200s`: %s", cmd, why->msg);
          rf_error_free (&why);
          return -1;
        }
      return rf_error_make (err, 0, "command `%.200s`: no such file in the image", cmd);
    }
  json_array_foreach (env, i, e)
    if (json_is_string (e) && strncmp (json_string_value (e), "PATH=", 5) == 0)
      path = json_string_value (e) + 5;
  {
    cleanup_free char *copy = xstrdup (path);
    char *save = NULL;
    for (char *dir = strtok_r (copy, ":", &save); dir; dir = strtok_r (NULL, ":", &save))
      {
        cleanup_free char *full = xasprintf ("%s/%s", dir, cmd);
        if (executable_at (root_fd, full, NULL) == 0)
          return 0;
      }
  }
  return rf_error_make (err, 0, "command `%.200s`: not found in the image's PATH (%.200s)", cmd, path);
}
