/* runfctl fn: functions, through runfd's admin API.
 *
 *   deploy NAME IMAGE|FILE|-  [options]    update NAME IMAGE|FILE|- [options]
 *   ls   describe NAME   ip NAME   invoke NAME [-d DATA]   logs NAME [-f]
 *   scale NAME N   rm NAME
 *
 * The API is a unix socket (/run/runfd/api.sock, rootless
 * $XDG_RUNTIME_DIR/runfd/api.sock), or --api tcp:127.0.0.1:PORT with the
 * token of --token-file. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/fnname.h"
#include "common/jsonutil.h"
#include "common/userns_probe.h"
#include "runfctl.h"

static char *api_spec;
static char *token;

typedef struct
{
  char *buf;
  size_t len;
  FILE *stream; /* print as it comes (logs, invoke) */
} body_t;

static size_t
on_data (char *ptr, size_t size, size_t n, void *ctx)
{
  body_t *b = ctx;
  if (b->stream)
    {
      fwrite (ptr, size, n, b->stream);
      fflush (b->stream);
      return size * n;
    }
  b->buf = xrealloc (b->buf, b->len + size * n + 1);
  memcpy (b->buf + b->len, ptr, size * n);
  b->len += size * n;
  b->buf[b->len] = '\0';
  return size * n;
}

/* RUNFD_URL is an OpenFaaS client's habit (OPENFAAS_URL): http://HOST:PORT
   of runfd's TCP API. */
static const char *
default_api (void)
{
  static char buf[512];
  const char *env = getenv ("RUNFD_API"), *run = getenv ("XDG_RUNTIME_DIR"), *url = getenv ("RUNFD_URL");
  if (env && *env)
    return env;
  if (url && *url)
    return url;
  /* As runfd decides: root on the host, not root of a nested namespace. */
  if (!rf_rootless_p ())
    return "unix:/run/runfd/api.sock";
  /* Where a rootless runfd puts it (its run directory). */
  if (run && *run)
    snprintf (buf, sizeof buf, "unix:%s/runfd/api.sock", run);
  else
    snprintf (buf, sizeof buf, "unix:/tmp/runfd-%d/api.sock", (int) geteuid ());
  return buf;
}

/* One API request; *status gets the HTTP status, *out the body (unless it
   was streamed).  Upload: the body comes from that file (or stdin, "-"). */
static int
api_call (const char *method, const char *path, const char *json_body, const char *upload, body_t *out,
          long *status, rf_error_t *err)
{
  const char *spec = api_spec ? api_spec : default_api ();
  cleanup_free char *url = NULL;
  cleanup_free char *auth = NULL;
  struct curl_slist *headers = NULL;
  CURL *curl = curl_easy_init ();
  FILE *in = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  CURLcode rc;

  if (curl == NULL)
    return rf_error_make (err, ENOMEM, "curl_easy_init");
  if (strncmp (spec, "unix:", 5) == 0)
    {
      url = xasprintf ("http://localhost%s", path);
      curl_easy_setopt (curl, CURLOPT_UNIX_SOCKET_PATH, spec + 5);
    }
  else if (strncmp (spec, "tcp:", 4) == 0)
    url = xasprintf ("http://%s%s", spec + 4, path);
  else if (strncmp (spec, "http://", 7) == 0)
    url = xasprintf ("%.*s%s", (int) (strlen (spec) - (spec[strlen (spec) - 1] == '/')), spec, path);
  else
    {
      curl_easy_cleanup (curl);
      return rf_error_make (err, 0, "--api `%s`: expected unix:PATH, tcp:HOST:PORT or http://HOST:PORT", spec);
    }
  if (token == NULL && getenv ("RUNFD_TOKEN") && *getenv ("RUNFD_TOKEN"))
    token = xstrdup (getenv ("RUNFD_TOKEN"));
  if (token)
    {
      auth = xasprintf ("Authorization: Bearer %s", token);
      headers = curl_slist_append (headers, auth);
    }
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, out);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  if (json_body)
    {
      headers = curl_slist_append (headers, "Content-Type: application/json");
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, json_body);
    }
  else if (upload)
    {
      in = strcmp (upload, "-") == 0 ? stdin : fopen (upload, "re");
      if (in == NULL)
        {
          curl_slist_free_all (headers);
          curl_easy_cleanup (curl);
          return rf_error_sys (err, "open `%s`", upload);
        }
      headers = curl_slist_append (headers, "Content-Type: application/x-tar");
      curl_easy_setopt (curl, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt (curl, CURLOPT_READDATA, in);
      if (in != stdin)
        {
          struct stat st;
          if (fstat (fileno (in), &st) == 0)
            curl_easy_setopt (curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t) st.st_size);
        }
    }
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  rc = curl_easy_perform (curl);
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, status);
  curl_slist_free_all (headers);
  if (in && in != stdin)
    fclose (in);
  if (rc == CURLE_COULDNT_CONNECT)
    {
      /* curl's words ("localhost port 80") describe its URL, not the
         socket runfd listens on. */
      long os_errno = 0;
      curl_easy_getinfo (curl, CURLINFO_OS_ERRNO, &os_errno);
      curl_easy_cleanup (curl);
      return rf_error_make (err, 0, "cannot reach runfd at `%s`: %s (is runfd running? --api or RUNFD_API names "
                                    "another)", spec, os_errno ? strerror ((int) os_errno) : "connection refused");
    }
  curl_easy_cleanup (curl);
  if (rc != CURLE_OK)
    return rf_error_make (err, 0, "runfd at `%s`: %s", spec, *errbuf ? errbuf : curl_easy_strerror (rc));
  return 0;
}

/* A JSON answer (an empty object for 204), or the API's error as this
   command's. */
json_t *
runfctl_api_json (const char *cmd, const char *method, const char *path, const char *body, const char *upload,
                  rf_error_t *err)
{
  body_t out = { 0 };
  long status = 0;
  json_t *doc;
  if (api_call (method, path, body, upload, &out, &status, err) < 0)
    {
      free (out.buf);
      return rf_error_wrap (err, "%s", cmd), NULL;
    }
  doc = out.buf ? json_loads (out.buf, 0, NULL) : NULL;
  if (status < 200 || status >= 300)
    {
      const char *why = json_string_value (json_object_get (doc, "error"));
      rf_error_make (err, 0, "%s: %s", cmd, why ? why : out.buf ? out.buf : "no answer");
      free (out.buf);
      if (doc)
        json_decref (doc);
      return NULL;
    }
  free (out.buf);
  if (doc == NULL && status == 204)
    return json_object ();
  if (doc == NULL)
    return rf_error_make (err, 0, "%s: runfd's answer is not JSON", cmd), NULL;
  return doc;
}

enum
{
  O_MODE = 0x100, O_ENV, O_MEMORY, O_CPUS, O_PIDS, O_TIMEOUT, O_CONCURRENCY, O_QUEUE, O_MIN, O_MAX,
  O_IDLE, O_READ_ONLY, O_CMD, O_CAP, OPT_TAIL, OPT_PATH, O_SECRET, O_LABEL, O_ANNOTATION, OPT_ASYNC,
  OPT_CALLBACK, OPT_FILE, O_NETWORK, O_EGRESS, O_DNS, O_PER_INSTANCE, O_START_TIMEOUT,
};


static const runfctl_option_t deploy_options[] = {
  { "mode", O_MODE, required_argument, "M",
    "inetd, control-socket, warm, stdio or http (the image's own server on $PORT) (default: inetd)" },
  { "env", 'e', required_argument, "K=V",
    "an environment variable on top of the image's Env; repeat for more (default: none)" },
  { "memory", O_MEMORY, required_argument, "SIZE",
    "each instance's memory limit, at least 4m (default: none)" },
  { "cpus", O_CPUS, required_argument, "N", "CPUs per instance, 0.01 to 1024 (default: none)" },
  { "pids", O_PIDS, required_argument, "N", "processes per instance (default: none)" },
  { "timeout", O_TIMEOUT, required_argument, "D",
    "how long a request may run: 30s, 500ms, 2m or seconds (default: 30s)" },
  { "concurrency", O_CONCURRENCY, required_argument, "N",
    "instances serving requests at once (default: no limit)" },
  { "queue", O_QUEUE, required_argument, "N",
    "requests that may wait for an instance (default: 64)" },
  { "min", O_MIN, required_argument, "N",
    "instances kept, running (warm) or ready (default: 0)" },
  { "max", O_MAX, required_argument, "N", "warm instances at most (default: 8)" },
  { "requests-per-instance", O_PER_INSTANCE, required_argument, "N",
    "requests one instance serves: 1, a fresh container each, N, or 0, no bound; inetd and stdio "
    "serve 1, warm 0, control-socket and http any (default: 1, warm 0)" },
  { "start-timeout", O_START_TIMEOUT, required_argument, "D",
    "control-socket and http: how long a pre-started handler has to come up (default: 10s)" },
  { "idle", O_IDLE, required_argument, "D",
    "warm mode: stop an instance idle this long, down to --min (default: 60s)" },
  { "read-only", O_READ_ONLY, optional_argument, "true|false",
    "a read-only root; the only choice for now (default: true)" },
  { "cmd", O_CMD, required_argument, "ARG",
    "the command instead of the image's Entrypoint and Cmd, one argument each (default: the "
    "image's)" },
  { "cap", O_CAP, required_argument, "CAP",
    "a capability for the handler, e.g. CAP_NET_BIND_SERVICE; repeat for more (default: none)" },
  { "secret", O_SECRET, required_argument, "NAME",
    "a secret (runfctl secret create) the instances read at /var/openfaas/secrets/NAME and "
    "/run/secrets/NAME; repeat for more (default: none)" },
  { "label", O_LABEL, required_argument, "K=V", "a label, kept and shown; repeat for more (default: none)" },
  { "annotation", O_ANNOTATION, required_argument, "K=V",
    "an annotation, kept and shown; repeat for more (default: none)" },
  { "network", O_NETWORK, required_argument, "none|isolated|host",
    "its network: only lo, its own way out through runfd's bridge and NAT, or the host's "
    "(default: runfd's --network, none)" },
  { "egress", O_EGRESS, required_argument, "public|all",
    "isolated: whether private ranges are reachable too (default: public)" },
  { "dns", O_DNS, required_argument, "ADDR",
    "isolated: a resolver; repeat for more (default: runfd's --dns)" },
  RUNFCTL_API_OPTIONS,
  RUNFCTL_OPTIONS_END,
};

static const runfctl_option_t api_options[] = {
  RUNFCTL_API_OPTIONS,
  RUNFCTL_OPTIONS_END,
};

static const runfctl_option_t logs_options[] = {
  { "follow", 'f', no_argument, NULL, "keep printing what is appended, until interrupted" },
  { "tail", OPT_TAIL, required_argument, "N", "only the last N lines (default: the whole log)" },
  RUNFCTL_API_OPTIONS,
  RUNFCTL_OPTIONS_END,
};

static const runfctl_option_t invoke_options[] = {
  { "data", 'd', required_argument, "DATA", "the request's body; POST (default: a GET, no body)" },
  { "method", 'X', required_argument, "METHOD", "the request method (default: GET, POST with -d)" },
  { "path", OPT_PATH, required_argument, "P", "the path below the function (default: /)" },
  { "async", OPT_ASYNC, no_argument, NULL,
    "queue the call in runfd (POST /async-function/NAME) and print its id; runfd makes it, and retries "
    "a 5xx" },
  { "callback", OPT_CALLBACK, required_argument, "URL",
    "with --async: where runfd POSTs the function's answer (default: nowhere)" },
  RUNFCTL_API_OPTIONS,
  RUNFCTL_OPTIONS_END,
};

static int
parse_int (const char *cmd, const char *flag, const char *s, json_int_t *out, rf_error_t *err)
{
  char *end;
  long long v = strtoll (s, &end, 10);
  if (*s == '\0' || *end || v < 0)
    return rf_error_make (err, 0, "%s: --%s `%s`: expected a whole number", cmd, flag, s);
  *out = v;
  return 0;
}

int
runfctl_api_option (int c, rf_error_t *err)
{
  if (c == RUNFCTL_OPT_API)
    {
      free (api_spec);
      api_spec = xstrdup (optarg);
      return 1;
    }
  if (c == RUNFCTL_OPT_TOKEN)
    {
      char *text = NULL;
      if (rf_read_file_at (AT_FDCWD, optarg, 4096, &text, NULL, err) < 0)
        return rf_error_wrap (err, "--token-file");
      text[strcspn (text, "\n")] = '\0';
      free (token);
      token = text;
      return 1;
    }
  return 0;
}

/* An image given as a file or "-" is uploaded first; its digest is what
   the function runs. */
/* What can only be meant as a file: a path, or an archive's name. */
static bool
file_like_p (const char *s)
{
  static const char *const suffixes[] = { ".tar", ".tar.gz", ".tgz", ".tar.zst", ".oci" };
  size_t n = strlen (s);
  if (s[0] == '/' || strncmp (s, "./", 2) == 0 || strncmp (s, "../", 3) == 0 || s[0] == '~')
    return true;
  for (size_t i = 0; i < ARRAY_SIZE (suffixes); i++)
    if (n > strlen (suffixes[i]) && strcmp (s + n - strlen (suffixes[i]), suffixes[i]) == 0)
      return true;
  return false;
}

static char *
image_for (const char *cmd, const char *name, const char *image, rf_error_t *err)
{
  struct stat st;
  cleanup_json json_t *res = NULL;
  cleanup_free char *path = NULL;
  const char *digest;
  if (strcmp (image, "-") != 0 && stat (image, &st) < 0 && file_like_p (image))
    return rf_error_sys (err, "%s: `%s`", cmd, image), NULL;
  if (strcmp (image, "-") != 0 && (stat (image, &st) < 0 || S_ISDIR (st.st_mode)))
    return xstrdup (image);
  path = xasprintf ("/system/images?name=localhost/%s:latest", name);
  res = runfctl_api_json (cmd, "POST", path, NULL, image, err);
  if (res == NULL)
    return NULL;
  digest = json_string_value (json_object_get (json_array_get (json_object_get (res, "images"), 0), "digest"));
  if (digest == NULL)
    return rf_error_make (err, 0, "%s: the archive held no image", cmd), NULL;
  if (json_array_size (json_object_get (res, "images")) > 1)
    return rf_error_make (err, 0, "%s: the archive holds several images; import it and deploy one by name", cmd),
           NULL;
  return xstrdup (digest);
}

static int
deploy (runfctl_t *g, int argc, char **argv, bool update, rf_error_t *err)
{
  const char *cmd = update ? "fn update" : "fn deploy";
  cleanup_json json_t *req = json_object ();
  cleanup_json json_t *res = NULL;
  json_t *env = json_object (), *limits = json_object (), *cmdv = NULL, *caps = NULL, *secrets = NULL, *dnsv = NULL;
  cleanup_free char *image = NULL;
  cleanup_free char *text = NULL;
  int c;

  json_object_set_new (req, "envVars", env);
  json_object_set_new (req, "limits", limits);
  while ((c = runfctl_getopt (g, argc, argv, cmd, deploy_options, err)) != -1)
    {
      json_int_t n;
      switch (c)
        {
        case '?': return -1;
        case O_MODE: json_object_set_new (req, "mode", json_string (optarg)); break;
        case O_NETWORK: json_object_set_new (req, "network", json_string (optarg)); break;
        case O_EGRESS: json_object_set_new (req, "egress", json_string (optarg)); break;
        case O_DNS:
          if (dnsv == NULL)
            json_object_set_new (req, "dns", dnsv = json_array ());
          json_array_append_new (dnsv, json_string (optarg));
          break;
        case 'e':
          {
            const char *eq = strchr (optarg, '=');
            cleanup_free char *k = NULL;
            if (eq == NULL || eq == optarg)
              return rf_error_make (err, 0, "%s: --env `%s`: expected K=V", cmd, optarg);
            k = xstrndup (optarg, (size_t) (eq - optarg));
            json_object_set_new (env, k, json_string (eq + 1));
          }
          break;
        case O_MEMORY: json_object_set_new (limits, "memory", json_string (optarg)); break;
        case O_CPUS: json_object_set_new (limits, "cpu", json_string (optarg)); break;
        case O_TIMEOUT: json_object_set_new (req, "timeout", json_string (optarg)); break;
        case O_IDLE: json_object_set_new (req, "idle", json_string (optarg)); break;
        case O_START_TIMEOUT: json_object_set_new (req, "startTimeout", json_string (optarg)); break;
        case O_READ_ONLY:
          json_object_set_new (req, "readOnly", json_boolean (optarg == NULL || strcmp (optarg, "false") != 0));
          break;
        case O_CMD:
          if (cmdv == NULL)
            json_object_set_new (req, "cmd", cmdv = json_array ());
          json_array_append_new (cmdv, json_string (optarg));
          break;
        case O_CAP:
          if (caps == NULL)
            json_object_set_new (req, "capabilities", caps = json_array ());
          json_array_append_new (caps, json_string (optarg));
          break;
        case O_SECRET:
          if (secrets == NULL)
            json_object_set_new (req, "secrets", secrets = json_array ());
          json_array_append_new (secrets, json_string (optarg));
          break;
        case O_LABEL:
        case O_ANNOTATION:
          {
            const char *key = c == O_LABEL ? "labels" : "annotations";
            const char *eq = strchr (optarg, '=');
            cleanup_free char *k = NULL;
            json_t *map = json_object_get (req, key);
            if (eq == NULL || eq == optarg)
              return rf_error_make (err, 0, "%s: --%s `%s`: expected K=V", cmd, c == O_LABEL ? "label" : "annotation",
                                    optarg);
            if (map == NULL)
              json_object_set_new (req, key, map = json_object ());
            k = xstrndup (optarg, (size_t) (eq - optarg));
            json_object_set_new (map, k, json_string (eq + 1));
          }
          break;
        case O_PIDS:
        case O_CONCURRENCY:
        case O_QUEUE:
        case O_MIN:
        case O_MAX:
        case O_PER_INSTANCE:
          {
            const char *key = c == O_PIDS ? "pids" : c == O_CONCURRENCY ? "concurrency" : c == O_QUEUE ? "queue"
                              : c == O_MIN ? "min" : c == O_MAX ? "max" : "requestsPerInstance";
            if (parse_int (cmd, key, optarg, &n, err) < 0)
              return -1;
            json_object_set_new (req, key, json_integer (n));
          }
          break;
        default:
          if (runfctl_api_option (c, err) < 0)
            return -1;
          break;
        }
    }
  if (runfctl_positional (argc, argv, 2, cmd, "NAME and IMAGE (a reference, an archive, or - for stdin)", err) < 0)
    return -1;
  /* runfd checks the name again; checked here too, a bad one is its own
     error before an archive is uploaded in vain. */
  if (!rf_function_name_valid_p (argv[optind]))
    return rf_error_make (err, 0, "%s: service `%s`: use 1-63 of a-z 0-9 - _, starting with a letter or digit", cmd,
                          argv[optind]);
  json_object_set_new (req, "service", json_string (argv[optind]));
  image = image_for (cmd, argv[optind], argv[optind + 1], err);
  if (image == NULL)
    return -1;
  json_object_set_new (req, "image", json_string (image));
  text = json_dumps (req, JSON_COMPACT);
  res = runfctl_api_json (cmd, update ? "PUT" : "POST", "/system/functions", text, NULL, err);
  if (res == NULL)
    return -1;
  {
    json_int_t port = json_integer_value (json_object_get (res, "port"));
    const char *addr = json_string_value (json_object_get (res, "address"));
    if (port == 80)
      printf ("%s: http://%s/\n", argv[optind], addr);
    else
      printf ("%s: http://%s:%lld/\n", argv[optind], addr, (long long) port);
  }
  return 0;
}

static int
fn_deploy (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  return deploy (g, argc, argv, false, err);
}

static int
fn_update (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  return deploy (g, argc, argv, true, err);
}

/* The commands that take only --api and --token-file. */
static int
plain_args (runfctl_t *g, int argc, char **argv, const char *cmd, int n, const char *names, rf_error_t *err)
{
  int c;
  while ((c = runfctl_getopt (g, argc, argv, cmd, api_options, err)) != -1)
    if (c == '?' || runfctl_api_option (c, err) < 0)
      return -1;
  return runfctl_positional (argc, argv, n, cmd, names, err);
}

static int
fn_ls (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_json json_t *list = NULL;
  json_t *fn;
  size_t i;
  if (plain_args (g, argc, argv, "fn ls", 0, "", err) < 0)
    return -1;
  list = runfctl_api_json ("fn ls", "GET", "/system/functions", NULL, NULL, err);
  if (list == NULL)
    return -1;
  printf ("%-20s %-15s %-21s %-8s %6s %8s %8s %12s  %s\n", "NAME", "MODE", "ADDRESS", "STATUS", "READY", "STARTING",
          "RUNNING", "INVOCATIONS", "IMAGE");
  json_array_foreach (list, i, fn)
    {
      char addr[64];
      const char *status = json_string_value (json_object_get (fn, "status"));
      bool warned = json_array_size (json_object_get (fn, "warnings")) > 0;
      cleanup_free char *shown = xasprintf ("%s%s", status ? status : "?", warned ? "*" : "");
      snprintf (addr, sizeof addr, "%s:%lld", json_string_value (json_object_get (fn, "address")),
                (long long) json_integer_value (json_object_get (fn, "port")));
      printf ("%-20s %-15s %-21s %-8s %6lld %8lld %8lld %12lld  %s\n", json_string_value (json_object_get (fn, "name")),
              json_string_value (json_object_get (fn, "mode")), addr, shown,
              (long long) json_integer_value (json_object_get (fn, "ready")),
              (long long) json_integer_value (json_object_get (fn, "starting")),
              (long long) json_integer_value (json_object_get (fn, "running")),
              (long long) json_integer_value (json_object_get (fn, "invocationCount")),
              json_string_value (json_object_get (fn, "image")));
    }
  /* Why a function fails, and what of its limits is not applied: said,
     never left for the user to find out. */
  json_array_foreach (list, i, fn)
    {
      const char *name = json_string_value (json_object_get (fn, "name"));
      const char *reason = json_string_value (json_object_get (fn, "reason"));
      json_t *w;
      size_t k;
      if (reason)
        printf ("%s: failing: %s\n", name, reason);
      json_array_foreach (json_object_get (fn, "warnings"), k, w)
        printf ("%s: * %s\n", name, json_string_value (w));
    }
  return 0;
}

static json_t *
describe (const char *cmd, const char *name, rf_error_t *err)
{
  cleanup_free char *path = xasprintf ("/system/function/%s", name);
  if (strpbrk (name, "/?#% "))
    return rf_error_make (err, 0, "%s: `%s` is not a function name", cmd, name), NULL;
  return runfctl_api_json (cmd, "GET", path, NULL, NULL, err);
}

static int
fn_describe (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_json json_t *fn = NULL;
  cleanup_free char *text = NULL;
  if (plain_args (g, argc, argv, "fn describe", 1, "NAME", err) < 0)
    return -1;
  fn = describe ("fn describe", argv[optind], err);
  if (fn == NULL)
    return -1;
  text = json_dumps (fn, JSON_INDENT (2));
  puts (text);
  return 0;
}

static int
fn_ip (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_json json_t *fn = NULL;
  json_int_t port;
  if (plain_args (g, argc, argv, "fn ip", 1, "NAME", err) < 0)
    return -1;
  fn = describe ("fn ip", argv[optind], err);
  if (fn == NULL)
    return -1;
  port = json_integer_value (json_object_get (fn, "port"));
  /* As curl http://$(runfctl fn ip NAME)/ wants it. */
  if (port == 80)
    printf ("%s\n", json_string_value (json_object_get (fn, "address")));
  else
    printf ("%s:%lld\n", json_string_value (json_object_get (fn, "address")), (long long) port);
  return 0;
}

static int
fn_rm (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_json json_t *req = NULL;
  cleanup_json json_t *res = NULL;
  cleanup_free char *text = NULL;
  if (plain_args (g, argc, argv, "fn rm", 1, "NAME", err) < 0)
    return -1;
  req = json_pack ("{s:s}", "functionName", argv[optind]);
  text = json_dumps (req, JSON_COMPACT);
  res = runfctl_api_json ("fn rm", "DELETE", "/system/functions", text, NULL, err);
  return res ? 0 : -1;
}

static int
fn_scale (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_json json_t *req = NULL;
  cleanup_json json_t *res = NULL;
  cleanup_free char *text = NULL;
  cleanup_free char *path = NULL;
  json_int_t n;
  if (plain_args (g, argc, argv, "fn scale", 2, "NAME and a number of instances", err) < 0
      || parse_int ("fn scale", "replicas", argv[optind + 1], &n, err) < 0)
    return -1;
  req = json_pack ("{s:I}", "replicas", n);
  text = json_dumps (req, JSON_COMPACT);
  path = xasprintf ("/system/scale-function/%s", argv[optind]);
  res = runfctl_api_json ("fn scale", "POST", path, text, NULL, err);
  return res ? 0 : -1;
}

static int
fn_logs (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  bool follow = false;
  const char *tail = NULL;
  body_t out = { .stream = stdout };
  cleanup_free char *path = NULL;
  long status = 0;
  int c;
  while ((c = runfctl_getopt (g, argc, argv, "fn logs", logs_options, err)) != -1)
    {
      if (c == '?' || runfctl_api_option (c, err) < 0)
        return -1;
      if (c == 'f')
        follow = true;
      else if (c == OPT_TAIL)
        tail = optarg;
    }
  if (runfctl_positional (argc, argv, 1, "fn logs", "NAME", err) < 0)
    return -1;
  if (tail && (tail[0] == '\0' || strspn (tail, "0123456789") != strlen (tail)))
    return rf_error_make (err, 0, "fn logs: --tail `%s`: expected a whole number of lines", tail);
  path = xasprintf ("/system/logs?format=text&name=%s%s%s%s", argv[optind], follow ? "&follow=1" : "", tail ? "&tail=" : "",
                    tail ? tail : "");
  if (api_call ("GET", path, NULL, NULL, &out, &status, err) < 0)
    return rf_error_wrap (err, "fn logs");
  if (status != 200)
    return rf_error_make (err, 0, "fn logs: `%s`: no such function", argv[optind]);
  return 0;
}

/* POST /async-function/NAME through the admin API: runfd answers 202 with
   the call's id at once and makes the call later. */
static int
invoke_async (const char *name, const char *path, const char *data, const char *callback_url, rf_error_t *err)
{
  const char *spec = api_spec ? api_spec : default_api ();
  cleanup_free char *url = NULL;
  cleanup_free char *auth = NULL;
  cleanup_free char *cb = NULL;
  struct curl_slist *headers = NULL;
  body_t out = { 0 };
  CURL *curl;
  CURLcode rc;
  long status = 0;
  char errbuf[CURL_ERROR_SIZE] = "";
  cleanup_json json_t *doc = NULL;

  if (!rf_function_name_valid_p (name))
    return rf_error_make (err, 0, "fn invoke: `%s` is not a function name", name);
  curl = curl_easy_init ();
  if (strncmp (spec, "unix:", 5) == 0)
    {
      url = xasprintf ("http://localhost/async-function/%s%s%s", name, path[0] == '/' ? "" : "/", path);
      curl_easy_setopt (curl, CURLOPT_UNIX_SOCKET_PATH, spec + 5);
    }
  else
    url = xasprintf ("%s%s/async-function/%s%s%s", strncmp (spec, "tcp:", 4) == 0 ? "http://" : "",
                     strncmp (spec, "tcp:", 4) == 0 ? spec + 4 : spec, name, path[0] == '/' ? "" : "/", path);
  if (token == NULL && getenv ("RUNFD_TOKEN") && *getenv ("RUNFD_TOKEN"))
    token = xstrdup (getenv ("RUNFD_TOKEN"));
  if (token)
    headers = curl_slist_append (headers, auth = xasprintf ("Authorization: Bearer %s", token));
  if (callback_url)
    headers = curl_slist_append (headers, cb = xasprintf ("X-Callback-Url: %s", callback_url));
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_POSTFIELDS, data ? data : "");
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (curl, CURLOPT_NOPROXY, "*");
  rc = curl_easy_perform (curl);
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup (curl);
  curl_slist_free_all (headers);
  if (rc != CURLE_OK)
    {
      free (out.buf);
      return rf_error_make (err, 0, "fn invoke: runfd at `%s`: %s", spec, *errbuf ? errbuf : curl_easy_strerror (rc));
    }
  doc = out.buf ? json_loads (out.buf, 0, NULL) : NULL;
  free (out.buf);
  if (status != 202)
    {
      const char *why = json_string_value (json_object_get (doc, "error"));
      return rf_error_make (err, 0, "fn invoke: %s", why ? why : "runfd did not accept the call");
    }
  printf ("%s\n", json_string_value (json_object_get (doc, "callId")));
  return 0;
}

static int
fn_invoke (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  const char *data = NULL, *method = NULL, *path = "/", *callback_url = NULL;
  bool async = false;
  cleanup_json json_t *fn = NULL;
  cleanup_free char *url = NULL;
  body_t out = { .stream = stdout };
  CURL *curl;
  CURLcode rc;
  long status = 0;
  char errbuf[CURL_ERROR_SIZE] = "";
  int c;

  while ((c = runfctl_getopt (g, argc, argv, "fn invoke", invoke_options, err)) != -1)
    {
      if (c == '?' || runfctl_api_option (c, err) < 0)
        return -1;
      if (c == 'd')
        data = optarg;
      else if (c == 'X')
        method = optarg;
      else if (c == OPT_PATH)
        path = optarg;
      else if (c == OPT_ASYNC)
        async = true;
      else if (c == OPT_CALLBACK)
        callback_url = optarg;
    }
  if (runfctl_positional (argc, argv, 1, "fn invoke", "NAME", err) < 0)
    return -1;
  if (callback_url && !async)
    return rf_error_make (err, 0, "fn invoke: --callback goes with --async");
  if (async)
    return invoke_async (argv[optind], path, data, callback_url, err);
  fn = describe ("fn invoke", argv[optind], err);
  if (fn == NULL)
    return -1;
  url = xasprintf ("http://%s:%lld%s%s", json_string_value (json_object_get (fn, "address")),
                   (long long) json_integer_value (json_object_get (fn, "port")), path[0] == '/' ? "" : "/", path);
  curl = curl_easy_init ();
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (curl, CURLOPT_NOPROXY, "*");
  if (data)
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, data);
  if (method)
    curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
  rc = curl_easy_perform (curl);
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup (curl);
  if (rc != CURLE_OK)
    return rf_error_make (err, 0, "fn invoke: %s: %s", url, *errbuf ? errbuf : curl_easy_strerror (rc));
  if (status >= 400)
    return rf_error_make (err, 0, "fn invoke: %s answered %ld", url, status);
  return 0;
}

static const runfctl_command_t fn_commands[] = {
  { "new", runfctl_fn_new, "NAME", "write a new function from a template: a handler directory and a stack file",
    runfctl_fn_new_options, NULL },
  { "deploy", fn_deploy, "NAME IMAGE|FILE|-", "deploy an image (in the store, an archive file, or - for stdin) as a function",
    deploy_options, NULL },
  { "update", fn_update, "NAME IMAGE|FILE|-", "replace a function; requests in flight finish",
    deploy_options, NULL },
  { "ls", fn_ls, "", "list functions", api_options, NULL },
  { "describe", fn_describe, "NAME", "a function's settings and counts, as JSON", api_options, NULL },
  { "ip", fn_ip, "NAME", "the function's address (curl http://$(runfctl fn ip NAME)/)", api_options, NULL },
  { "invoke", fn_invoke, "NAME", "call a function, print its answer", invoke_options, NULL },
  { "logs", fn_logs, "NAME", "a function's log", logs_options, NULL },
  { "scale", fn_scale, "NAME N", "keep N instances (warm) or N ready (pools)", api_options, NULL },
  { "rm", fn_rm, "NAME", "remove a function", api_options, NULL },
};

const runfctl_group_t runfctl_fn_group = {
  "fn", fn_commands, ARRAY_SIZE (fn_commands),
  "functions: new, deploy, list, call and remove them (through runfd)",
};
