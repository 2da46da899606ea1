/* Registry credentials: the auths keys login writes, the files they are
   read from (in containers/image's order), and login/logout's edits of a
   file that keep everything else in it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "image/auth.h"
#include "image/fsops.h"

static char dir[] = "/tmp/runf-unit-auth.XXXXXX";

static int
setup (void **state)
{
  if (mkdtemp (dir) == NULL)
    return -1;
  unsetenv ("REGISTRY_AUTH_FILE");
  unsetenv ("DOCKER_CONFIG");
  unsetenv ("XDG_CONFIG_HOME");
  return 0;
}

static int
teardown (void **state)
{
  return rf_rm_tree_at (AT_FDCWD, dir, NULL);
}

static void
key_is (const char *registry, const char *want)
{
  cleanup_free char *key = NULL;
  rf_error_t err = NULL;
  int r = rf_auth_key (registry, &key, &err);
  if (want == NULL)
    {
      assert_int_equal (r, -1);
      assert_non_null (err);
      assert_non_null (strstr (err->msg, "expected a host with a dot or a port"));
      rf_error_free (&err);
      return;
    }
  assert_int_equal (r, 0);
  assert_string_equal (key, want);
}

static void
test_keys (void **state)
{
  key_is ("127.0.0.1:5000", "127.0.0.1:5000");
  key_is ("https://127.0.0.1:5000/v2/", "127.0.0.1:5000");
  key_is ("http://reg.example.com/v1/", "reg.example.com");
  key_is ("localhost", "localhost");
  key_is ("reg.example.com/team/app", "reg.example.com/team/app");
  key_is ("index.docker.io", "docker.io");
  key_is ("https://index.docker.io/v1/", "docker.io");
  key_is ("registry-1.docker.io", "docker.io");
  key_is ("docker.io", "docker.io");
  key_is ("nodots", NULL);
  key_is ("nodots/repo", NULL);
  key_is ("reg.example.com/app:tag", NULL);
  key_is ("reg.example.com/UPPER", NULL);
  key_is ("", NULL);
  key_is ("https://", NULL);
}

static void
write_auth (const char *path, const char *key, const char *userpass_b64)
{
  cleanup_free char *text = xasprintf ("{\"auths\": {\"%s\": {\"auth\": \"%s\"}}}", key, userpass_b64);
  cleanup_free char *copy = xstrdup (path);
  *strrchr (copy, '/') = '\0';
  assert_int_equal (rf_mkdir_p (copy, 0700, NULL), 0);
  assert_int_equal (rf_write_file_atomic (path, text, strlen (text), 0600, NULL), 0);
}

static void
creds_are (const char *authfile, const char *domain, const char *path, const char *user, const char *pass)
{
  cleanup_free char *u = NULL, *p = NULL;
  rf_error_t err = NULL;
  assert_int_equal (rf_creds_lookup (authfile, domain, path, &u, &p, &err), 0);
  if (user == NULL)
    {
      assert_null (u);
      return;
    }
  assert_non_null (u);
  assert_string_equal (u, user);
  assert_string_equal (p, pass);
}

/* base64 of "a:1", "b:2", "c:3", "d:4", "e:5" */
#define A1 "YTox"
#define B2 "Yjoy"
#define C3 "Yzoz"
#define D4 "ZDo0"
#define E5 "ZTo1"

static void
test_lookup_order (void **state)
{
  cleanup_free char *run = xasprintf ("%s/run", dir);
  cleanup_free char *home = xasprintf ("%s/home", dir);
  cleanup_free char *podman = xasprintf ("%s/containers/auth.json", run);
  cleanup_free char *user = xasprintf ("%s/.config/containers/auth.json", home);
  cleanup_free char *docker = xasprintf ("%s/.docker/config.json", home);
  cleanup_free char *given = xasprintf ("%s/given.json", dir);
  cleanup_free char *legacy = xasprintf ("%s/.dockercfg", home);

  setenv ("XDG_RUNTIME_DIR", run, 1);
  setenv ("HOME", home, 1);
  creds_are (NULL, "r.example.com", "x", NULL, NULL);
  /* Each file in turn, the first that has the registry wins. */
  assert_int_equal (rf_mkdir_p (home, 0700, NULL), 0);
  {
    const char text[] = "{\"r.example.com\": {\"auth\": \"" E5 "\"}}";
    assert_int_equal (rf_write_file_atomic (legacy, text, strlen (text), 0600, NULL), 0);
  }
  creds_are (NULL, "r.example.com", "x", "e", "5");
  write_auth (docker, "https://r.example.com/v1/", D4);
  creds_are (NULL, "r.example.com", "x", "d", "4");
  write_auth (user, "r.example.com", C3);
  creds_are (NULL, "r.example.com", "x", "c", "3");
  write_auth (podman, "r.example.com", B2);
  creds_are (NULL, "r.example.com", "x", "b", "2");
  /* A file another registry's entries are in does not stop the search. */
  write_auth (podman, "other.example.com", B2);
  creds_are (NULL, "r.example.com", "x", "c", "3");
  /* $REGISTRY_AUTH_FILE is the only file; a missing one holds nothing. */
  setenv ("REGISTRY_AUTH_FILE", given, 1);
  creds_are (NULL, "r.example.com", "x", NULL, NULL);
  write_auth (given, "r.example.com/team", A1);
  creds_are (NULL, "r.example.com", "team/app", "a", "1");
  creds_are (NULL, "r.example.com", "other/app", NULL, NULL);
  unsetenv ("REGISTRY_AUTH_FILE");
  /* --authfile must exist. */
  {
    cleanup_free char *u = NULL, *p = NULL;
    cleanup_free char *missing = xasprintf ("%s/missing.json", dir);
    rf_error_t err = NULL;
    assert_int_equal (rf_creds_lookup (missing, "r.example.com", "x", &u, &p, &err), -1);
    rf_error_free (&err);
  }
  /* $DOCKER_CONFIG moves docker's file. */
  {
    cleanup_free char *dc = xasprintf ("%s/dc", dir);
    cleanup_free char *dcfile = xasprintf ("%s/dc/config.json", dir);
    write_auth (dcfile, "docker.example.com", A1);
    setenv ("DOCKER_CONFIG", dc, 1);
    creds_are (NULL, "docker.example.com", "x", "a", "1");
    unsetenv ("DOCKER_CONFIG");
    creds_are (NULL, "docker.example.com", "x", NULL, NULL);
  }
  /* Without XDG_RUNTIME_DIR, podman's file is /run/containers/UID. */
  unsetenv ("XDG_RUNTIME_DIR");
  {
    cleanup_free char *f = rf_auth_file_default ();
    cleanup_free char *want = xasprintf ("/run/containers/%d/auth.json", (int) getuid ());
    assert_string_equal (f, want);
  }
}

static void
test_store_remove (void **state)
{
  cleanup_free char *file = xasprintf ("%s/edit/sub/auth.json", dir);
  cleanup_free char *text = NULL;
  cleanup_json json_t *doc = NULL;
  rf_error_t err = NULL;
  struct stat st;
  bool found;

  assert_int_equal (rf_auth_store (file, "r.example.com", "alice", "s3cret:x", &err), 0);
  assert_int_equal (stat (file, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0600);
  {
    cleanup_free char *d = xasprintf ("%s/edit/sub", dir);
    assert_int_equal (stat (d, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0700);
  }
  creds_are (file, "r.example.com", "x", "alice", "s3cret:x");
  /* Other settings stay; a second registry is added. */
  {
    const char keep[] = "{\"auths\": {\"r.example.com\": {\"auth\": \"" A1 "\"}}, \"credHelpers\": {\"x.io\": \"h\"}}";
    assert_int_equal (rf_write_file_atomic (file, keep, strlen (keep), 0600, NULL), 0);
  }
  assert_int_equal (rf_auth_store (file, "s.example.com:5000", "bob", "pw", &err), 0);
  doc = rf_json_load_file (file, &err);
  assert_non_null (doc);
  assert_string_equal (json_string_value (json_object_get (json_object_get (doc, "credHelpers"), "x.io")), "h");
  assert_int_equal (json_object_size (json_object_get (doc, "auths")), 2);
  json_decref (doc);
  doc = NULL;
  /* Logout of a host takes its other spellings too. */
  {
    const char spellings[] = "{\"auths\": {\"https://r.example.com/v1/\": {\"auth\": \"" A1 "\"}, "
                             "\"r.example.com\": {\"auth\": \"" B2 "\"}, \"r.example.com/team\": {\"auth\": \"" C3 "\"}}}";
    assert_int_equal (rf_write_file_atomic (file, spellings, strlen (spellings), 0600, NULL), 0);
  }
  assert_int_equal (rf_auth_remove (file, "r.example.com", &found, &err), 0);
  assert_true (found);
  doc = rf_json_load_file (file, &err);
  assert_int_equal (json_object_size (json_object_get (doc, "auths")), 1);
  assert_non_null (json_object_get (json_object_get (doc, "auths"), "r.example.com/team"));
  assert_int_equal (rf_auth_remove (file, "q.example.com", &found, &err), 0);
  assert_false (found);
  assert_int_equal (rf_auth_remove (file, NULL, &found, &err), 0);
  assert_true (found);
  /* A file that is not JSON is left alone. */
  assert_int_equal (rf_write_file_atomic (file, "junk", 4, 0600, NULL), 0);
  assert_int_equal (rf_auth_store (file, "r.example.com", "a", "b", &err), -1);
  rf_error_free (&err);
  assert_int_equal (rf_read_file_at (AT_FDCWD, file, 0, &text, NULL, NULL), 0);
  assert_string_equal (text, "junk");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_keys),
    cmocka_unit_test (test_lookup_order),
    cmocka_unit_test (test_store_remove),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
