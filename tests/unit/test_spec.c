/* config.json parsing and validation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/capability.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "common/jsonutil.h"
#include "runtime/capnames.h"
#include "runtime/spec.h"

static rf_spec_t *
parse (const char *text, rf_error_t *err)
{
  cleanup_json json_t *doc = rf_json_load_buffer ("config.json", text, strlen (text), err);
  if (doc == NULL)
    return NULL;
  return rf_spec_parse (doc, err);
}

static void
expect_error (const char *text, const char *needle)
{
  rf_error_t err = NULL;
  rf_spec_t *spec = parse (text, &err);
  assert_null (spec);
  assert_non_null (err);
  if (strstr (err->msg, needle) == NULL)
    fail_msg ("expected `%s` in `%s`", needle, err->msg);
  rf_error_free (&err);
}

#define MINIMAL_PROCESS "\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}"

static void
test_default_spec_parses (void **state)
{
  rf_error_t err = NULL;
  json_t *doc = rf_spec_default (false);
  rf_spec_t *spec = rf_spec_parse (doc, &err);
  assert_null (err);
  assert_non_null (spec);
  assert_string_equal (spec->root_path, "rootfs");
  assert_true (spec->root_readonly);
  assert_string_equal (spec->process.args[0], "sh");
  assert_int_equal (spec->n_namespaces, 5);
  assert_non_null (rf_spec_namespace (spec, CLONE_NEWNET));
  assert_int_equal (spec->process.caps.bounding,
                    (1ULL << CAP_AUDIT_WRITE) | (1ULL << CAP_KILL) | (1ULL << CAP_NET_BIND_SERVICE));
  assert_int_equal (spec->process.n_rlimits, 1);
  assert_int_equal (spec->process.rlimits[0].resource, RLIMIT_NOFILE);
  assert_int_equal (spec->n_mounts, 7);
  rf_spec_free (spec);
  json_decref (doc);
}

static void
test_rootless_default_has_userns (void **state)
{
  rf_error_t err = NULL;
  json_t *doc = rf_spec_default (true);
  rf_spec_t *spec = rf_spec_parse (doc, &err);
  assert_non_null (spec);
  assert_non_null (rf_spec_namespace (spec, CLONE_NEWUSER));
  assert_null (rf_spec_namespace (spec, CLONE_NEWNET));
  assert_int_equal (spec->n_uid_mappings, 1);
  assert_int_equal (spec->uid_mappings[0].container_id, 0);
  rf_spec_free (spec);
  json_decref (doc);
}

static void
test_malformed_json_has_position (void **state)
{
  expect_error ("{\n \"root\": {\"path\": \"r\",}\n}", "config.json:2:");
}

static void
test_type_errors_name_the_field (void **state)
{
  expect_error ("{\"root\": {\"path\": 3}}", "root.path: expected a string, got an integer");
  expect_error ("{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": \"sh\", \"cwd\": \"/\"}}",
                "process.args: expected an array");
  expect_error ("{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"sh\", 1], \"cwd\": \"/\"}}",
                "process.args[1]");
  expect_error ("[]", "expected an object at the top level");
}

static void
test_required_fields (void **state)
{
  expect_error ("{}", "root: missing");
  expect_error ("{\"root\": {}}", "root.path: missing");
  expect_error ("{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [], \"cwd\": \"/\"}}",
                "process.args: must not be empty");
  expect_error ("{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"]}}", "process.cwd");
  expect_error ("{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\": \"x\"}}",
                "must be an absolute path");
}

static void
test_namespaces (void **state)
{
  expect_error ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"linux\": {\"namespaces\": [{\"type\": \"bogus\"}]}}",
                "unknown namespace `bogus`");
  expect_error ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"pid\"}]}}",
                "given twice");
  expect_error ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"linux\": {\"namespaces\": [{\"type\": \"user\"}]}}",
                "needs uidMappings");
  expect_error ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1, \"size\": 1}]}}",
                "need a new user namespace");
  expect_error ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"hostname\": \"h\"}", "uts namespace");
  expect_error ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"linux\": {\"namespaces\": [{\"type\": \"net\", \"path\": \"rel\"}]}}",
                "unknown namespace `net`");
}

static void
test_capabilities (void **state)
{
  /* A name runf does not know is left out with a warning (runc 1.2's
     way): configs written for newer kernels still run. */
  rf_error_t err = NULL;
  rf_spec_t *spec = parse ("{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\": \"/\", "
                           "\"capabilities\": {\"effective\": [\"CAP_NOPE\", \"CAP_KILL\"]}}}",
                           &err);
  assert_null (err);
  assert_non_null (spec);
  assert_int_equal (spec->process.caps.effective, 1ULL << CAP_KILL);
  rf_spec_free (spec);
  expect_error ("{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\": \"/\", "
                "\"capabilities\": {\"effective\": [7]}}}",
                "process.capabilities");
  assert_int_equal (rf_cap_from_name ("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
  assert_int_equal (rf_cap_from_name ("cap_sys_admin"), -1);
  assert_string_equal (rf_cap_name (CAP_CHOWN), "CAP_CHOWN");
}

static void
test_bad_hooks_and_seccomp (void **state)
{
  expect_error ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"hooks\": {\"prestart\": [{\"path\": \"/nonexistent/hook\"}]}}",
                "hooks.prestart[0].path `/nonexistent/hook`");
  expect_error ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"hooks\": {\"poststop\": [{\"path\": \"hook\"}]}}",
                "must be an absolute path");
  expect_error ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"hooks\": {\"poststop\": [{\"path\": \"/bin/true\", \"timeout\": 0}]}}",
                "hooks.poststop[0].timeout");
  expect_error ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"linux\": {\"seccomp\": {}}}",
                "linux.seccomp.defaultAction: missing");
  expect_error ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOPE\"}}}",
                "unknown action `SCMP_ACT_NOPE`");
  expect_error ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", "
                "\"syscalls\": [{\"names\": [\"nosuchcall\"], \"action\": \"SCMP_ACT_ERRNO\"}]}}}",
                "syscalls[0].names: unknown system call `nosuchcall`");
  expect_error ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", "
                "\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_WHAT\"}]}]}}}",
                "unknown operator `SCMP_CMP_WHAT`");
  expect_error ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", "
                "\"architectures\": [\"SCMP_ARCH_Z80\"]}}}",
                "unknown architecture `SCMP_ARCH_Z80`");
  expect_error ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", "
                "\"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}}}",
                "listenerPath");
}

static void
test_seccomp_compiles (void **state)
{
  rf_error_t err = NULL;
  rf_spec_t *spec = parse ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"linux\": {\"seccomp\": {"
                           "\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86_64\"], "
                           "\"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"], "
                           "\"syscalls\": [{\"names\": [\"read\", \"write\", \"cachestat\"], \"action\": \"SCMP_ACT_ALLOW\"}, "
                           "{\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                           "{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"}]}]}}}",
                           &err);
  assert_null (err);
  assert_non_null (spec);
  assert_true (spec->seccomp.n_insns > 4);
  assert_int_equal (spec->seccomp.flags, 2);
  assert_false (spec->seccomp.notify);
  rf_spec_free (spec);
}

static void
test_empty_unsupported_sections_are_fine (void **state)
{
  rf_error_t err = NULL;
  rf_spec_t *spec = parse ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"hooks\": {}, \"linux\": {\"resources\": {}}}", &err);
  assert_non_null (spec);
  rf_spec_free (spec);
}

static void
test_rlimits_and_oom (void **state)
{
  rf_error_t err = NULL;
  rf_spec_t *spec = parse ("{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\": \"/\", "
                           "\"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": 1, \"hard\": 2}], \"oomScoreAdj\": 500}}",
                           &err);
  assert_non_null (spec);
  assert_int_equal (spec->process.rlimits[0].resource, RLIMIT_CORE);
  assert_int_equal (spec->process.rlimits[0].soft, 1);
  assert_int_equal (spec->process.rlimits[0].hard, 2);
  assert_true (spec->process.has_oom_score_adj);
  assert_int_equal (spec->process.oom_score_adj, 500);
  rf_spec_free (spec);
  expect_error ("{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\": \"/\", \"oomScoreAdj\": 2000}}",
                "outside -1000..1000");
  expect_error ("{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\": \"/\", "
                "\"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": -1, \"hard\": 2}]}}",
                "must not be negative");
}

static void
test_devices_and_mappings (void **state)
{
  expect_error ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"linux\": {\"devices\": [{\"path\": \"/dev/x\", \"type\": \"c\"}]}}",
                "needs major and minor");
  expect_error ("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS ", \"linux\": {\"namespaces\": [{\"type\": \"user\"}], "
                "\"uidMappings\": [{\"containerID\": 0, \"hostID\": 4294967295, \"size\": 2}], "
                "\"gidMappings\": [{\"containerID\": 0, \"hostID\": 0, \"size\": 1}]}}",
                "overflows");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_default_spec_parses),
    cmocka_unit_test (test_rootless_default_has_userns),
    cmocka_unit_test (test_malformed_json_has_position),
    cmocka_unit_test (test_type_errors_name_the_field),
    cmocka_unit_test (test_required_fields),
    cmocka_unit_test (test_namespaces),
    cmocka_unit_test (test_capabilities),
    cmocka_unit_test (test_bad_hooks_and_seccomp),
    cmocka_unit_test (test_seccomp_compiles),
    cmocka_unit_test (test_empty_unsupported_sections_are_fine),
    cmocka_unit_test (test_rlimits_and_oom),
    cmocka_unit_test (test_devices_and_mappings),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
