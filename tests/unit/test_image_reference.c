/* Image references: docker's normalization and what is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "image/reference.h"

static void
check (const char *in, const char *want, const char *api_host)
{
  rf_ref_t ref;
  rf_error_t err = NULL;
  cleanup_free char *got = NULL;
  if (rf_ref_parse (in, &ref, &err) < 0)
    fail_msg ("%s: %s", in, err->msg);
  got = rf_ref_string (&ref);
  assert_string_equal (got, want);
  if (api_host)
    assert_string_equal (rf_ref_api_host (&ref), api_host);
  rf_ref_clear (&ref);
}

static void
refuse (const char *in, const char *why)
{
  rf_ref_t ref;
  rf_error_t err = NULL;
  assert_int_equal (rf_ref_parse (in, &ref, &err), -1);
  assert_non_null (err);
  if (strstr (err->msg, why) == NULL)
    fail_msg ("%s: expected `%s` in `%s`", in, why, err->msg);
  assert_null (strchr (err->msg, '\n'));
  rf_error_free (&err);
}

static void
test_docker_hub_names (void **state)
{
  check ("alpine", "docker.io/library/alpine:latest", "registry-1.docker.io");
  check ("alpine:3.19", "docker.io/library/alpine:3.19", NULL);
  check ("library/alpine", "docker.io/library/alpine:latest", NULL);
  check ("docker.io/alpine", "docker.io/library/alpine:latest", NULL);
  check ("index.docker.io/user/app:v1", "docker.io/user/app:v1", NULL);
  check ("user/app", "docker.io/user/app:latest", NULL);
}

static void
test_registries (void **state)
{
  check ("localhost/app", "localhost/app:latest", "localhost");
  check ("localhost:5000/a/b/c:t", "localhost:5000/a/b/c:t", "localhost:5000");
  check ("127.0.0.1:5000/app", "127.0.0.1:5000/app:latest", NULL);
  check ("quay.io/org/app:1.2.3", "quay.io/org/app:1.2.3", NULL);
  check ("[::1]:5000/app", "[::1]:5000/app:latest", NULL);
  check ("registry.example.com/a__b/c-d/e.f:T_1",
         "registry.example.com/a__b/c-d/e.f:T_1", NULL);
}

static void
test_digests (void **state)
{
  const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  cleanup_free char *in = xasprintf ("alpine@%s", d);
  cleanup_free char *want = xasprintf ("docker.io/library/alpine@%s", d);
  cleanup_free char *in2 = xasprintf ("alpine:3@%s", d);
  cleanup_free char *want2 = xasprintf ("docker.io/library/alpine:3@%s", d);
  check (in, want, NULL);
  check (in2, want2, NULL);
}

static void
test_refused (void **state)
{
  refuse ("", "empty");
  refuse ("Alpine", "invalid repository name");
  refuse ("alpine:", "invalid tag");
  refuse ("alpine:-x", "invalid tag");
  refuse ("a//b", "invalid repository name");
  refuse ("a/b/", "invalid repository name");
  refuse ("alpine@sha256:abc", "malformed digest");
  refuse ("alpine@md5:0123", "unsupported digest algorithm `md5`");
  refuse ("host:99999999/app", "invalid registry name");
  refuse ("example.com/", "missing repository name");
  refuse ("a\nb", "invalid repository name");
  refuse ("-a", "invalid repository name");
}

static void
test_loopback (void **state)
{
  assert_true (rf_ref_loopback_p ("127.0.0.1:5000"));
  assert_true (rf_ref_loopback_p ("127.1.2.3"));
  assert_true (rf_ref_loopback_p ("localhost:80"));
  assert_true (rf_ref_loopback_p ("[::1]:5000"));
  assert_false (rf_ref_loopback_p ("docker.io"));
  assert_false (rf_ref_loopback_p ("localhost.example.com"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_docker_hub_names),
    cmocka_unit_test (test_registries),
    cmocka_unit_test (test_digests),
    cmocka_unit_test (test_refused),
    cmocka_unit_test (test_loopback),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
