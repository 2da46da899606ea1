/* runfd's deploy requests and the container config made of them
 * (src/runfd/fnspec.c): defaults, the shared size and duration grammar,
 * fields runfd does not know, the instance config and the check of its
 * command against an image's files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runfd/runfd.h"

/* What the loop provides to fnspec.c's callers, unused here. */
rfd_config_t rfd_config;

static void
fn_clear (rfd_function_t *fn)
{
  free (fn->name);
  free (fn->image);
  strv_free (fn->env);
  strv_free (fn->cmd);
  strv_free (fn->caps);
  strv_free (fn->secrets);
  strv_free (fn->constraints);
  memset (fn, 0, sizeof *fn);
}

/* Parse text; on failure the error's text (owned by the caller), else NULL. */
static char *
parse (const char *text, bool strict, rfd_function_t *fn)
{
  json_error_t jerr;
  json_t *req = json_loads (text, 0, &jerr);
  rf_error_t err = NULL;
  char *why = NULL;
  assert_non_null (req);
  memset (fn, 0, sizeof *fn);
  if (rfd_function_parse (req, fn, strict, &err) < 0)
    {
      why = rf_error_text (err);
      rf_error_free (&err);
    }
  json_decref (req);
  return why;
}

static void
expect_error (const char *text, const char *needle)
{
  rfd_function_t fn;
  cleanup_free char *why = parse (text, true, &fn);
  fn_clear (&fn);
  if (why == NULL || strstr (why, needle) == NULL)
    fail_msg ("%s: expected an error naming `%s`, got %s", text, needle, why ? why : "success");
}

static void
test_defaults (void **state)
{
  rfd_function_t fn;
  assert_null (parse ("{\"service\": \"hello\", \"image\": \"x:1\"}", true, &fn));
  assert_string_equal (fn.name, "hello");
  assert_int_equal (fn.mode, RFD_MODE_INETD);
  /* What bounds one client and one function without any option. */
  assert_int_equal (fn.memory, 256 << 20);
  assert_int_equal (fn.pids, 256);
  assert_int_equal (fn.concurrency, 64);
  assert_int_equal (fn.queue_max, 64);
  assert_int_equal (fn.timeout_ns, 30 * RFD_S);
  assert_int_equal (fn.idle_ns, 60 * RFD_S);
  assert_int_equal (fn.limits_given, 0);
  assert_true (fn.read_only);
  fn_clear (&fn);
}

static void
test_unknown_fields (void **state)
{
  rfd_function_t fn;
  char *why;
  /* Fields a user expects to do something are refused, named. */
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"secretz\": [\"db\"]}", "secretz:");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"limits\": {\"memroy\": \"1g\"}}", "limits.memroy:");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"requests\": {\"gpu\": \"1\"}}", "requests.gpu:");
  /* A record of a newer runfd is read all the same. */
  why = parse ("{\"service\": \"a\", \"image\": \"x\", \"lables\": {}}", false, &fn);
  assert_null (why);
  fn_clear (&fn);
}

/* OpenFaaS's FunctionDeployment: what each field becomes, and what is
   refused. */
static void
test_openfaas_fields (void **state)
{
  rfd_function_t fn;
  bool fprocess = false;
  assert_null (parse ("{\"service\": \"a\", \"image\": \"x\", \"namespace\": \"openfaas-fn\", "
                      "\"envProcess\": \"node index.js\", \"secrets\": [\"db\", \"api.key\"], "
                      "\"labels\": {\"k\": \"v\"}, \"annotations\": {\"a\": \"b\"}, "
                      "\"requests\": {\"memory\": \"64m\", \"cpu\": \"100m\"}, \"constraints\": [\"x == y\"], "
                      "\"readOnlyRootFilesystem\": true}",
                      true, &fn));
  for (size_t i = 0; fn.env && fn.env[i]; i++)
    fprocess |= strcmp (fn.env[i], "fprocess=node index.js") == 0;
  assert_true (fprocess);
  assert_string_equal (fn.secrets[0], "db");
  assert_string_equal (fn.secrets[1], "api.key");
  assert_null (fn.secrets[2]);
  assert_true (fn.requests_given);
  assert_string_equal (fn.constraints[0], "x == y");
  fn_clear (&fn);
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"namespace\": \"prod\"}", "namespace `prod`");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"secrets\": [\"../etc\"]}", "secrets[0]");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"secrets\": [\"db\", \"db\"]}", "named twice");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"secrets\": \"db\"}", "secrets");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"labels\": {\"k\": 1}}", "labels.k");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"requests\": {\"memory\": \"lots\"}}", "requests.memory");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"readOnlyRootFilesystem\": false}",
                "readOnlyRootFilesystem: false is not supported yet");
  assert_false (rfd_secret_name_valid_p (""));
  assert_false (rfd_secret_name_valid_p (".."));
  assert_false (rfd_secret_name_valid_p ("a/b"));
  assert_true (rfd_secret_name_valid_p ("A.b-c_1"));
}

static void
test_sizes (void **state)
{
  rfd_function_t fn;
  /* The grammar of runf update: docker's RAMInBytes. */
  assert_null (parse ("{\"service\": \"a\", \"image\": \"x\", \"limits\": {\"memory\": \"512 MiB\"}}", true, &fn));
  assert_int_equal (fn.memory, 512 << 20);
  assert_int_equal (fn.limits_given, RFD_LIMIT_MEMORY);
  fn_clear (&fn);
  assert_null (parse ("{\"service\": \"a\", \"image\": \"x\", \"limits\": {\"memory\": \"1t\"}}", true, &fn));
  assert_int_equal (fn.memory, 1LL << 40);
  fn_clear (&fn);
  assert_null (parse ("{\"service\": \"a\", \"image\": \"x\", \"limits\": {\"memory\": \"128Mi\"}}", true, &fn));
  assert_int_equal (fn.memory, 128 << 20);
  fn_clear (&fn);
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"limits\": {\"memory\": \"0x10m\"}}", "limits.memory");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"limits\": {\"memory\": \"1e3m\"}}", "limits.memory");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"limits\": {\"memory\": \"512 KiB\"}}", "at least 4m");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"limits\": {\"memory\": 5}}", "limits.memory");
}

static void
test_durations (void **state)
{
  rfd_function_t fn;
  assert_null (parse ("{\"service\": \"a\", \"image\": \"x\", \"timeout\": \"1m30s\", \"idle\": \"0\"}", true, &fn));
  assert_int_equal (fn.timeout_ns, 90 * RFD_S);
  assert_int_equal (fn.idle_ns, 0);
  fn_clear (&fn);
  /* Seconds, as a number or a bare string. */
  assert_null (parse ("{\"service\": \"a\", \"image\": \"x\", \"timeout\": \"2.5\"}", true, &fn));
  assert_int_equal (fn.timeout_ns, 2500 * RFD_MS);
  fn_clear (&fn);
  assert_null (parse ("{\"service\": \"a\", \"image\": \"x\", \"timeout\": 0.25}", true, &fn));
  assert_int_equal (fn.timeout_ns, 250 * RFD_MS);
  fn_clear (&fn);
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"timeout\": \"nan\"}", "timeout `nan`");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"timeout\": \"inf\"}", "timeout");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"timeout\": \"1e3\"}", "timeout");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"timeout\": \"25h\"}", "up to 24h");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"timeout\": \"0\"}", "above 0");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"timeout\": -1}", "timeout");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"timeout\": 1e300}", "timeout");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"idle\": \"-1s\"}", "idle");
}

static void
test_cpus_and_counts (void **state)
{
  rfd_function_t fn;
  assert_null (parse ("{\"service\": \"a\", \"image\": \"x\", \"limits\": {\"cpu\": \"500m\"}, \"pids\": 10}", true, &fn));
  assert_true (fn.cpus > 0.499 && fn.cpus < 0.501);
  assert_int_equal (fn.pids, 10);
  assert_int_equal (fn.limits_given, RFD_LIMIT_CPU | RFD_LIMIT_PIDS);
  fn_clear (&fn);
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"limits\": {\"cpu\": \"0\"}}", "limits.cpu");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"limits\": {\"cpu\": \"1e3\"}}", "limits.cpu");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"pids\": 0}", "pids");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"concurrency\": 0}", "concurrency");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"min\": 3, \"max\": 2}", "above max");
  expect_error ("{\"service\": \"A\", \"image\": \"x\"}", "service");
  expect_error ("{\"service\": \"a\", \"image\": \"\"}", "image");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"mode\": \"sideways\"}", "mode");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"envVars\": {\"A=B\": \"c\"}}", "envVars");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"cmd\": []}", "cmd");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"readOnly\": false}", "readOnly");
  /* requestsPerInstance: the mode's own policy is accepted, another named. */
  assert_null (parse ("{\"service\": \"a\", \"image\": \"x\", \"requestsPerInstance\": 1}", true, &fn));
  fn_clear (&fn);
  assert_null (parse ("{\"service\": \"a\", \"image\": \"x\", \"mode\": \"warm\", \"requestsPerInstance\": 0}", true,
                      &fn));
  fn_clear (&fn);
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"requestsPerInstance\": 5}",
                "requestsPerInstance 5: mode inetd serves each request in a fresh container (1)");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"mode\": \"warm\", \"requestsPerInstance\": 1}",
                "requestsPerInstance 1: mode warm serves any number of requests per instance (0)");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"requestsPerInstance\": -1}", "requestsPerInstance");
  /* The modes whose handler waits for its requests take any number. */
  assert_null (parse ("{\"service\": \"a\", \"image\": \"x\", \"mode\": \"control-socket\", "
                      "\"requestsPerInstance\": 0}", true, &fn));
  assert_int_equal (fn.per_instance, 0);
  fn_clear (&fn);
  assert_null (parse ("{\"service\": \"a\", \"image\": \"x\", \"mode\": \"http\", \"requestsPerInstance\": 7}",
                      true, &fn));
  assert_int_equal (fn.per_instance, 7);
  fn_clear (&fn);
}

/* http mode: its port, its network, its start timeout. */
static void
test_http_mode (void **state)
{
  rfd_function_t fn;
  (void) state;
  assert_null (parse ("{\"service\": \"a\", \"image\": \"x\", \"mode\": \"http\"}", true, &fn));
  assert_int_equal (fn.mode, RFD_MODE_HTTP);
  assert_int_equal (fn.http_port, 8080);
  assert_int_equal (fn.per_instance, 1);
  assert_int_equal (fn.network, RFD_NET_NONE);
  assert_true (fn.start_timeout_ns == RFD_DEFAULT_START_TIMEOUT);
  fn_clear (&fn);
  assert_null (parse ("{\"service\": \"a\", \"image\": \"x\", \"mode\": \"http\", \"envVars\": {\"PORT\": \"3000\"}, "
                      "\"startTimeout\": \"2s\"}", true, &fn));
  assert_int_equal (fn.http_port, 3000);
  assert_true (fn.start_timeout_ns == 2 * RFD_S);
  fn_clear (&fn);
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"mode\": \"http\", \"envVars\": {\"PORT\": \"http\"}}",
                "envVars.PORT `http`: expected a port from 1 to 65535");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"mode\": \"http\", \"envVars\": {\"PORT\": \"70000\"}}",
                "envVars.PORT");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"mode\": \"http\", \"network\": \"host\"}",
                "network host: mode http gives each instance a network namespace of its own");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"mode\": \"http\", \"network\": \"isolated\"}",
                "isolated networks per instance are not built yet");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"mode\": \"http\", \"startTimeout\": \"0s\"}",
                "startTimeout");
  expect_error ("{\"service\": \"a\", \"image\": \"x\", \"mode\": \"http2\"}",
                "expected inetd, control-socket, warm, stdio or http");
}

/* An image config as rf_bundle_config makes one. */
static json_t *
image_config (void)
{
  return json_pack ("{s:{s:[s], s:[s], s:s, s:{s:i, s:i}}, s:{s:s}, s:{}}", "process", "args", "/handler", "env",
                    "PATH=/bin", "cwd", "/", "user", "uid", 0, "gid", 0, "root", "path", "/store/rootfs/x", "linux");
}

static json_t *
find_mount (json_t *config, const char *dest)
{
  size_t i;
  json_t *m;
  json_array_foreach (json_object_get (config, "mounts"), i, m)
    if (strcmp (json_string_value (json_object_get (m, "destination")), dest) == 0)
      return m;
  return NULL;
}

static void
test_config (void **state)
{
  rfd_config_opts_t o = { .uid_base = 1000000000, .uid_size = 65536, .gid_base = 1000000000, .gid_size = 65536,
                          .shim_path = "/lib/runf/runf-shim", .control_sock = "/run/runfd/sock/a.1/control.sock",
                          .limits_ok = RFD_LIMIT_MEMORY | RFD_LIMIT_PIDS, .nofile_soft = 1024, .nofile_hard = 4096 };
  rfd_function_t fn;
  rf_error_t err = NULL;
  json_t *config = image_config (), *res, *rl;
  char **cmd;

  assert_null (parse ("{\"service\": \"a\", \"image\": \"x\", \"mode\": \"stdio\", \"envVars\": {\"K\": \"v\"}}",
                      true, &fn));
  assert_int_equal (rfd_function_config (&fn, &o, config, &err), 0);
  assert_string_equal (json_string_value (json_array_get (json_object_get (json_object_get (config, "process"),
                                                                           "args"), 0)), "/.runf/shim");
  assert_non_null (find_mount (config, "/.runf/shim"));
  assert_null (find_mount (config, "/control.sock"));
  cmd = rfd_config_command (config, fn.mode);
  assert_string_equal (cmd[0], "/handler");
  assert_null (cmd[1]);
  strv_free (cmd);
  res = json_object_get (json_object_get (config, "linux"), "resources");
  /* The default memory where cgroups can apply it; no pids cgroup for the
     default pids limit, which is RLIMIT_NPROC's. */
  assert_int_equal (json_integer_value (json_object_get (json_object_get (res, "memory"), "limit")), 256 << 20);
  assert_null (json_object_get (res, "pids"));
  rl = json_object_get (json_object_get (config, "process"), "rlimits");
  assert_string_equal (json_string_value (json_object_get (json_array_get (rl, 0), "type")), "RLIMIT_NPROC");
  assert_int_equal (json_integer_value (json_object_get (json_array_get (rl, 0), "soft")), 256);
  assert_string_equal (json_string_value (json_object_get (json_array_get (rl, 1), "type")), "RLIMIT_NOFILE");
  assert_int_equal (json_integer_value (json_object_get (json_array_get (rl, 1), "soft")), 1024);
  assert_int_equal (json_integer_value (json_object_get (json_array_get (rl, 1), "hard")), 4096);
  json_decref (config);
  fn_clear (&fn);

  /* Without a memory controller, no memory limit is written (the deploy
     refuses or warns); a pids limit asked for gets a cgroup. */
  o.limits_ok = RFD_LIMIT_PIDS;
  config = image_config ();
  assert_null (parse ("{\"service\": \"a\", \"image\": \"x\", \"mode\": \"control-socket\", \"pids\": 9}", true, &fn));
  assert_int_equal (rfd_function_config (&fn, &o, config, &err), 0);
  res = json_object_get (json_object_get (config, "linux"), "resources");
  assert_null (json_object_get (res, "memory"));
  assert_int_equal (json_integer_value (json_object_get (json_object_get (res, "pids"), "limit")), 9);
  assert_string_equal (json_string_value (json_object_get (find_mount (config, "/control.sock"), "source")),
                       o.control_sock);
  json_decref (config);
  fn_clear (&fn);

  /* http: a network namespace of each instance's own, and $PORT. */
  config = image_config ();
  assert_null (parse ("{\"service\": \"a\", \"image\": \"x\", \"mode\": \"http\"}", true, &fn));
  assert_int_equal (rfd_function_config (&fn, &o, config, &err), 0);
  {
    json_t *ns = json_object_get (json_object_get (config, "linux"), "namespaces"), *v, *e;
    json_t *env = json_object_get (json_object_get (config, "process"), "env");
    bool net = false, port = false;
    size_t i;
    json_array_foreach (ns, i, v)
      net = net || (strcmp (json_string_value (json_object_get (v, "type")), "network") == 0
                    && json_object_get (v, "path") == NULL);
    json_array_foreach (env, i, e)
      port = port || strcmp (json_string_value (e), "PORT=8080") == 0;
    assert_true (net);
    assert_true (port);
  }
  json_decref (config);
  fn_clear (&fn);

  /* As root the image's user must be inside the mapped range. */
  config = image_config ();
  json_object_set_new (json_object_get (json_object_get (config, "process"), "user"), "uid", json_integer (70000));
  assert_null (parse ("{\"service\": \"a\", \"image\": \"x\"}", true, &fn));
  assert_int_equal (rfd_function_config (&fn, &o, config, &err), -1);
  assert_non_null (strstr (err->msg, "outside the mapped ids"));
  rf_error_free (&err);
  json_decref (config);
  fn_clear (&fn);
}

static void
write_file (const char *path, mode_t mode)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  assert_true (fd >= 0);
  close (fd);
  chmod (path, mode);
}

static char *
check (const char *root, json_t *config, rfd_mode_t mode)
{
  rf_error_t err = NULL;
  char *why = NULL;
  int fd = open (root, O_PATH | O_DIRECTORY);
  assert_true (fd >= 0);
  if (rfd_config_check_command (config, mode, fd, &err) < 0)
    {
      why = rf_error_text (err);
      rf_error_free (&err);
    }
  close (fd);
  return why;
}

static void
set_args (json_t *config, const char *first)
{
  json_object_set_new (json_object_get (config, "process"), "args", json_pack ("[s]", first));
}

static void
test_check_command (void **state)
{
  char root[] = "/tmp/test_fnspec.XXXXXX";
  cleanup_free char *bin = NULL;
  cleanup_free char *path = NULL;
  json_t *config = image_config ();
  char *why;

  assert_non_null (mkdtemp (root));
  bin = xasprintf ("%s/bin", root);
  mkdir (bin, 0755);
  path = xasprintf ("%s/bin/handler", root);
  write_file (path, 0755);
  free (path);
  path = xasprintf ("%s/notes", root);
  write_file (path, 0644);
  free (path);
  path = xasprintf ("%s/bin/link", root);
  /* An absolute link resolves inside the image, not on the host. */
  assert_int_equal (symlink ("/bin/handler", path), 0);

  set_args (config, "/bin/handler");
  assert_null (check (root, config, RFD_MODE_INETD));
  set_args (config, "handler");
  assert_null (check (root, config, RFD_MODE_INETD));
  set_args (config, "link");
  assert_null (check (root, config, RFD_MODE_INETD));
  set_args (config, "/nonexistent");
  why = check (root, config, RFD_MODE_INETD);
  assert_non_null (why);
  assert_non_null (strstr (why, "`/nonexistent`: no such file in the image"));
  free (why);
  set_args (config, "/notes");
  why = check (root, config, RFD_MODE_INETD);
  assert_non_null (why);
  assert_non_null (strstr (why, "not executable"));
  free (why);
  set_args (config, "cat");
  why = check (root, config, RFD_MODE_INETD);
  assert_non_null (why);
  assert_non_null (strstr (why, "not found in the image's PATH (/bin)"));
  free (why);
  set_args (config, "/bin");
  why = check (root, config, RFD_MODE_INETD);
  assert_non_null (strstr (why, "not a file"));
  free (why);
  /* stdio: the command after the shim's. */
  json_object_set_new (json_object_get (config, "process"), "args", json_pack ("[sss]", "/.runf/shim", "--", "/x"));
  why = check (root, config, RFD_MODE_STDIO);
  assert_non_null (strstr (why, "`/x`"));
  free (why);
  json_decref (config);
  rf_rm_rf (root, NULL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_defaults),
    cmocka_unit_test (test_http_mode),
    cmocka_unit_test (test_unknown_fields), cmocka_unit_test (test_openfaas_fields), cmocka_unit_test (test_sizes),
    cmocka_unit_test (test_durations),  cmocka_unit_test (test_cpus_and_counts), cmocka_unit_test (test_config),
    cmocka_unit_test (test_check_command),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
