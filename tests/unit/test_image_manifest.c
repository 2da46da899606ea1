/* Manifests, indexes, image configs and platforms from untrusted JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "image/manifest.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static void
expect_error (int r, rf_error_t *err, const char *want)
{
  assert_int_equal (r, -1);
  assert_non_null (*err);
  if (strstr ((*err)->msg, want) == NULL)
    fail_msg ("expected `%s` in `%s`", want, (*err)->msg);
  assert_null (strchr ((*err)->msg, '\n'));
  rf_error_free (err);
}

static const char oci_manifest[] =
  "{\"schemaVersion\":2,\"mediaType\":\"" RF_MT_OCI_MANIFEST "\","
  "\"config\":{\"mediaType\":\"" RF_MT_OCI_CONFIG "\",\"digest\":\"" D1 "\",\"size\":10},"
  "\"layers\":[{\"mediaType\":\"" RF_MT_OCI_LAYER_GZIP "\",\"digest\":\"" D2 "\",\"size\":20},"
  "{\"mediaType\":\"" RF_MT_OCI_LAYER_ZSTD "\",\"digest\":\"" D3 "\",\"size\":30},"
  "{\"mediaType\":\"" RF_MT_OCI_LAYER "\",\"digest\":\"" D3 "\",\"size\":30}]}";

static void
test_manifest (void **state)
{
  rf_manifest_t m;
  rf_error_t err = NULL;
  rf_manifest_kind_t kind;

  assert_int_equal (rf_manifest_kind (oci_manifest, strlen (oci_manifest), NULL, &kind, &err), 0);
  assert_int_equal (kind, RF_KIND_MANIFEST);
  assert_int_equal (rf_manifest_parse (oci_manifest, strlen (oci_manifest), &m, &err), 0);
  assert_string_equal (m.config.digest, D1);
  assert_int_equal (m.n_layers, 3);
  assert_int_equal (m.compression[0], RF_COMPRESSION_GZIP);
  assert_int_equal (m.compression[1], RF_COMPRESSION_ZSTD);
  assert_int_equal (m.compression[2], RF_COMPRESSION_NONE);
  assert_int_equal (m.layers[1].size, 30);
  rf_manifest_clear (&m);
}

static void
test_docker_manifest_without_media_type_field (void **state)
{
  const char *doc =
    "{\"schemaVersion\":2,"
    "\"config\":{\"mediaType\":\"" RF_MT_DOCKER_CONFIG "\",\"digest\":\"" D1 "\",\"size\":1},"
    "\"layers\":[{\"mediaType\":\"" RF_MT_DOCKER_LAYER_GZIP "\",\"digest\":\"" D2 "\",\"size\":2}]}";
  rf_manifest_kind_t kind;
  rf_manifest_t m;
  rf_error_t err = NULL;
  assert_int_equal (rf_manifest_kind (doc, strlen (doc), RF_MT_DOCKER_MANIFEST, &kind, &err), 0);
  assert_int_equal (kind, RF_KIND_MANIFEST);
  assert_int_equal (rf_manifest_kind (doc, strlen (doc), "application/json", &kind, &err), 0);
  assert_int_equal (kind, RF_KIND_MANIFEST);
  assert_int_equal (rf_manifest_parse (doc, strlen (doc), &m, &err), 0);
  assert_int_equal (m.compression[0], RF_COMPRESSION_GZIP);
  rf_manifest_clear (&m);
}

static void
test_manifest_errors (void **state)
{
  rf_manifest_t m;
  rf_manifest_kind_t kind;
  rf_error_t err = NULL;
  const char *unknown_layer =
    "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" RF_MT_OCI_CONFIG "\",\"digest\":\"" D1
    "\",\"size\":1},\"layers\":[{\"mediaType\":\"application/x-foo\",\"digest\":\"" D2
    "\",\"size\":2}]}";
  const char *helm =
    "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.cncf.helm.config.v1+json\","
    "\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}";
  const char *bad_digest =
    "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" RF_MT_OCI_CONFIG "\",\"digest\":\"sha256:xyz\","
    "\"size\":1},\"layers\":[]}";
  const char *negative =
    "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" RF_MT_OCI_CONFIG "\",\"digest\":\"" D1
    "\",\"size\":-1},\"layers\":[]}";
  const char *schema1 = "{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}";

  expect_error (rf_manifest_parse (unknown_layer, strlen (unknown_layer), &m, &err), &err,
                "layers[0].mediaType: unknown media type `application/x-foo`");
  expect_error (rf_manifest_parse (helm, strlen (helm), &m, &err), &err, "not a container image");
  expect_error (rf_manifest_parse (bad_digest, strlen (bad_digest), &m, &err), &err,
                "config.digest: malformed digest");
  expect_error (rf_manifest_parse (negative, strlen (negative), &m, &err), &err,
                "config.size: must not be negative");
  expect_error (rf_manifest_parse ("[1]", 3, &m, &err), &err, "expected a JSON object");
  expect_error (rf_manifest_parse ("{", 1, &m, &err), &err, "malformed JSON");
  expect_error (rf_manifest_kind (schema1, strlen (schema1), NULL, &kind, &err), &err,
                "schema 1");
  expect_error (rf_manifest_kind ("{\"mediaType\":\"text/html\"}", 25, NULL, &kind, &err), &err,
                "unknown media type `text/html`");
  expect_error (rf_manifest_kind ("{}", 2, "application/vnd.foo", &kind, &err), &err,
                "unknown media type `application/vnd.foo`");
}

static const char index_doc[] =
  "{\"schemaVersion\":2,\"mediaType\":\"" RF_MT_OCI_INDEX "\",\"manifests\":["
  "{\"mediaType\":\"" RF_MT_OCI_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":1,"
  "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
  "{\"mediaType\":\"" RF_MT_OCI_MANIFEST "\",\"digest\":\"" D2 "\",\"size\":1,"
  "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
  "{\"mediaType\":\"" RF_MT_OCI_MANIFEST "\",\"digest\":\"" D3 "\",\"size\":1,"
  "\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}}]}";

static void
select_platform (const char *want, const char *digest)
{
  rf_index_t idx;
  rf_platform_t p;
  rf_error_t err = NULL;
  const rf_descriptor_t *d;
  assert_int_equal (rf_index_parse (index_doc, strlen (index_doc), &idx, &err), 0);
  assert_int_equal (rf_platform_parse (want, &p, &err), 0);
  if (digest)
    {
      assert_int_equal (rf_index_select (&idx, &p, &d, &err), 0);
      assert_string_equal (d->digest, digest);
    }
  else
    expect_error (rf_index_select (&idx, &p, &d, &err), &err,
                  "no manifest for platform linux/s390x (the image has linux/arm64/v8, linux/amd64)");
  rf_platform_clear (&p);
  rf_index_clear (&idx);
}

static void
test_index (void **state)
{
  select_platform ("linux/amd64", D2);
  select_platform ("linux/arm64", D1);
  select_platform ("linux/arm64/v8", D1);
  select_platform ("linux/s390x", NULL);
}

static void
test_platform_parse (void **state)
{
  rf_platform_t p;
  rf_error_t err = NULL;
  assert_int_equal (rf_platform_parse ("linux/arm/v7", &p, &err), 0);
  assert_string_equal (p.variant, "v7");
  rf_platform_clear (&p);
  expect_error (rf_platform_parse ("linux", &p, &err), &err, "expected os/arch[/variant]");
  expect_error (rf_platform_parse ("linux/", &p, &err), &err, "expected os/arch[/variant]");
  expect_error (rf_platform_parse ("linux/a/b/c", &p, &err), &err, "expected os/arch[/variant]");
  rf_platform_host (&p);
  assert_string_equal (p.os, "linux");
  rf_platform_clear (&p);
}

static void
test_config (void **state)
{
  const char *doc =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-01T00:00:00Z\","
    "\"config\":{\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":null,\"Env\":[\"A=1\"],"
    "\"WorkingDir\":\"/w\",\"User\":\"1000:1000\",\"Labels\":{\"k\":\"v\"}},"
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]}}";
  rf_image_config_t c;
  rf_error_t err = NULL;
  assert_int_equal (rf_image_config_parse (doc, strlen (doc), &c, &err), 0);
  assert_string_equal (c.entrypoint[1], "-c");
  assert_null (c.cmd);
  assert_string_equal (c.env[0], "A=1");
  assert_string_equal (c.working_dir, "/w");
  assert_string_equal (c.user, "1000:1000");
  assert_string_equal (c.labels[0], "k");
  assert_string_equal (c.labels[1], "v");
  assert_int_equal (c.n_diff_ids, 2);
  rf_image_config_clear (&c);

  {
    const char *no_rootfs = "{}";
    const char *bad_diff = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"x\"]}}";
    const char *bad_env = "{\"config\":{\"Env\":[1]},\"rootfs\":{\"type\":\"layers\"}}";
    expect_error (rf_image_config_parse (no_rootfs, strlen (no_rootfs), &c, &err), &err,
                  "rootfs: missing");
    expect_error (rf_image_config_parse (bad_diff, strlen (bad_diff), &c, &err), &err,
                  "rootfs.diff_ids[0]");
    expect_error (rf_image_config_parse (bad_env, strlen (bad_env), &c, &err), &err,
                  "config.Env[0]: expected a string");
  }
}

static void
test_build (void **state)
{
  rf_descriptor_t config = { .media_type = RF_MT_OCI_CONFIG, .digest = D1, .size = 5 };
  rf_descriptor_t layers[] = { { .media_type = RF_MT_OCI_LAYER, .digest = D2, .size = 7 } };
  size_t len;
  cleanup_free char *text = rf_manifest_build (&config, layers, 1, &len);
  rf_manifest_t m;
  rf_error_t err = NULL;
  assert_int_equal (rf_manifest_parse (text, len, &m, &err), 0);
  assert_string_equal (m.layers[0].digest, D2);
  assert_int_equal (m.layers[0].size, 7);
  rf_manifest_clear (&m);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_manifest),
    cmocka_unit_test (test_docker_manifest_without_media_type_field),
    cmocka_unit_test (test_manifest_errors),
    cmocka_unit_test (test_index),
    cmocka_unit_test (test_platform_parse),
    cmocka_unit_test (test_config),
    cmocka_unit_test (test_build),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
