/* exec's process: runc's flags over the config's process, and a process
 * object on its own (exec -p). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/capability.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/xalloc.h"
#include "runtime/exec.h"
#include "runtime/capnames.h"

static void
expect_error_text (rf_error_t *err, const char *needle)
{
  assert_non_null (*err);
  if (strstr ((*err)->msg, needle) == NULL)
    fail_msg ("expected `%s` in `%s`", needle, (*err)->msg);
  rf_error_free (err);
}

/* The process of runc's default config.json. */
static void
default_process (rf_process_t *p)
{
  rf_error_t err = NULL;
  json_t *doc = rf_spec_default (false);
  assert_int_equal (rf_process_parse (json_object_get (doc, "process"), p, &err), 0);
  assert_null (err);
  json_decref (doc);
}

static rf_exec_overrides_t
with_args (char **args)
{
  rf_exec_overrides_t o;
  memset (&o, 0, sizeof o);
  o.args = args;
  o.no_new_privs = -1;
  return o;
}

static void
test_parse_user (void **state)
{
  rf_error_t err = NULL;
  uint32_t uid = 7, gid = 7;
  bool has_gid;

  assert_int_equal (rf_exec_parse_user ("1000:1001", &uid, &gid, &has_gid, &err), 0);
  assert_int_equal (uid, 1000);
  assert_int_equal (gid, 1001);
  assert_true (has_gid);
  gid = 7;
  assert_int_equal (rf_exec_parse_user ("0", &uid, &gid, &has_gid, &err), 0);
  assert_int_equal (uid, 0);
  assert_int_equal (gid, 7);
  assert_false (has_gid);
  assert_int_equal (rf_exec_parse_user ("4294967294:4294967294", &uid, &gid, &has_gid, &err), 0);
  assert_int_equal (uid, 4294967294U);

  const char *bad[] = { "", "abc", "1000:", ":1000", "-1", "1000:x", "1:2:3", " 1", "4294967295", "99999999999" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      assert_int_equal (rf_exec_parse_user (bad[i], &uid, &gid, &has_gid, &err), -1);
      expect_error_text (&err, "--user");
    }
}

static void
test_env_set (void **state)
{
  char **env = xzalloc (sizeof (char *));
  rf_env_set (&env, "A=1");
  rf_env_set (&env, "B=2");
  rf_env_set (&env, "A=3");
  rf_env_set (&env, "AB=4");
  rf_env_set (&env, "B=");
  assert_int_equal (strv_len (env), 3);
  assert_string_equal (env[0], "A=3");
  assert_string_equal (env[1], "B=");
  assert_string_equal (env[2], "AB=4");
  strv_free (env);
}

static void
test_overrides_replace_and_add (void **state)
{
  rf_error_t err = NULL;
  rf_process_t p;
  char *args[] = { "ls", "-l", NULL };
  char *env[] = { "TERM=dumb", "NEW=1", NULL };
  char *gids[] = { "5", "20", NULL };
  rf_exec_overrides_t o = with_args (args);

  default_process (&p);
  o.cwd = "/tmp";
  o.env = env;
  o.user = "1000:1000";
  o.additional_gids = gids;
  o.no_new_privs = 0;
  assert_int_equal (rf_exec_apply_overrides (&p, &o, &err), 0);
  assert_null (err);
  assert_string_equal (p.args[0], "ls");
  assert_string_equal (p.args[1], "-l");
  assert_null (p.args[2]);
  assert_string_equal (p.cwd, "/tmp");
  assert_int_equal (p.uid, 1000);
  assert_int_equal (p.gid, 1000);
  assert_int_equal (p.n_additional_gids, 2);
  assert_int_equal (p.additional_gids[1], 20);
  assert_false (p.no_new_privileges);
  /* runc's default env has PATH and TERM=xterm: TERM is replaced in place. */
  assert_int_equal (strv_len (p.env), 3);
  assert_string_equal (p.env[1], "TERM=dumb");
  assert_string_equal (p.env[2], "NEW=1");
  rf_process_free (&p);
}

static void
test_overrides_keep_the_config_by_default (void **state)
{
  rf_error_t err = NULL;
  rf_process_t p, before;
  char *args[] = { "true", NULL };
  rf_exec_overrides_t o = with_args (args);

  default_process (&p);
  default_process (&before);
  p.terminal = true;
  p.gid = 42;
  o.user = "7";
  assert_int_equal (rf_exec_apply_overrides (&p, &o, &err), 0);
  /* As runc: without -t there is no terminal, whatever the config says. */
  assert_false (p.terminal);
  assert_int_equal (p.uid, 7);
  assert_int_equal (p.gid, 42);
  assert_string_equal (p.cwd, before.cwd);
  assert_true (p.no_new_privileges);
  assert_int_equal (p.caps.bounding, before.caps.bounding);
  assert_int_equal (p.n_rlimits, before.n_rlimits);
  rf_process_free (&p);
  rf_process_free (&before);
}

static void
test_overrides_add_capabilities (void **state)
{
  rf_error_t err = NULL;
  rf_process_t p;
  char *args[] = { "true", NULL };
  char *caps[] = { "CAP_SYS_ADMIN", NULL };
  rf_exec_overrides_t o = with_args (args);
  uint64_t bit = 1ULL << CAP_SYS_ADMIN;

  default_process (&p);
  o.caps = caps;
  assert_int_equal (rf_exec_apply_overrides (&p, &o, &err), 0);
  assert_true (p.caps.bounding & bit);
  assert_true (p.caps.effective & bit);
  assert_true (p.caps.permitted & bit);
  /* No inheritable capabilities in runc's default: no ambient ones. */
  assert_false (p.caps.ambient & bit);
  rf_process_free (&p);

  /* A process without a capabilities object gets exactly the added one. */
  memset (&p, 0, sizeof p);
  assert_int_equal (rf_exec_apply_overrides (&p, &o, &err), 0);
  assert_true (p.caps.present);
  assert_int_equal (p.caps.bounding, bit);
  rf_process_free (&p);

  /* With inheritable ones, the added capability is ambient too. */
  default_process (&p);
  p.caps.inheritable = 1ULL << CAP_KILL;
  assert_int_equal (rf_exec_apply_overrides (&p, &o, &err), 0);
  assert_true (p.caps.ambient & bit);
  rf_process_free (&p);
}

static void
test_overrides_bad_input (void **state)
{
  static const struct
  {
    const char *field;
    const char *value;
    const char *needle;
  } cases[] = {
    { "cap", "CAP_BOGUS", "unknown capability" },
    { "cap", "sys_admin", "unknown capability" },
    { "env", "NOEQUALS", "KEY=VALUE" },
    { "env", "=x", "KEY=VALUE" },
    { "gid", "-1", "--additional-gids" },
    { "gid", "x", "--additional-gids" },
    { "cwd", "tmp", "absolute" },
    { "user", "root", "--user" },
  };
  char *args[] = { "true", NULL };
  char *none[] = { NULL };

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      rf_error_t err = NULL;
      rf_process_t p;
      char *list[] = { (char *) cases[i].value, NULL };
      rf_exec_overrides_t o = with_args (args);

      default_process (&p);
      if (strcmp (cases[i].field, "cap") == 0)
        o.caps = list;
      else if (strcmp (cases[i].field, "env") == 0)
        o.env = list;
      else if (strcmp (cases[i].field, "gid") == 0)
        o.additional_gids = list;
      else if (strcmp (cases[i].field, "cwd") == 0)
        o.cwd = cases[i].value;
      else
        o.user = cases[i].value;
      assert_int_equal (rf_exec_apply_overrides (&p, &o, &err), -1);
      expect_error_text (&err, cases[i].needle);
      rf_process_free (&p);
    }
  {
    rf_error_t err = NULL;
    rf_process_t p;
    rf_exec_overrides_t o = with_args (none);
    default_process (&p);
    assert_int_equal (rf_exec_apply_overrides (&p, &o, &err), -1);
    expect_error_text (&err, "missing the command");
    rf_process_free (&p);
  }
}

static void
test_process_parse_alone (void **state)
{
  rf_error_t err = NULL;
  rf_process_t p;
  const char *text = "{\"args\": [\"sh\"], \"cwd\": \"/\", \"terminal\": true, "
                     "\"user\": {\"uid\": 5, \"gid\": 6, \"additionalGids\": [7]}, "
                     "\"apparmorProfile\": \"\"}";
  cleanup_json json_t *doc = rf_json_load_buffer ("process.json", text, strlen (text), &err);

  assert_int_equal (rf_process_parse (doc, &p, &err), 0);
  assert_true (p.terminal);
  assert_int_equal (p.uid, 5);
  assert_int_equal (p.additional_gids[0], 7);
  assert_non_null (p.env);
  rf_process_free (&p);

  json_object_set_new (doc, "apparmorProfile", json_string ("docker-default"));
  assert_int_equal (rf_process_parse (doc, &p, &err), -1);
  expect_error_text (&err, "AppArmor is not enabled on this host");
  rf_process_free (&p);

  {
    cleanup_json json_t *arr = json_array ();
    assert_int_equal (rf_process_parse (arr, &p, &err), -1);
    expect_error_text (&err, "expected an object");
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_user),
    cmocka_unit_test (test_env_set),
    cmocka_unit_test (test_overrides_replace_and_add),
    cmocka_unit_test (test_overrides_keep_the_config_by_default),
    cmocka_unit_test (test_overrides_add_capabilities),
    cmocka_unit_test (test_overrides_bad_input),
    cmocka_unit_test (test_process_parse_alone),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
