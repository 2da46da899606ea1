/* libFuzzer target: manifests, indexes and image configs from a registry
 * are untrusted; every parser must fail cleanly on any bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "image/manifest.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *buf = (const char *) data;
  rf_error_t err = NULL;
  rf_manifest_kind_t kind;
  rf_manifest_t m;
  rf_index_t idx;
  rf_image_config_t c;
  rf_platform_t want = { .os = "linux", .architecture = "arm64", .variant = NULL };

  if (rf_manifest_kind (buf, size, "application/json", &kind, &err) < 0)
    rf_error_free (&err);
  if (rf_manifest_parse (buf, size, &m, &err) == 0)
    {
      size_t len;
      char *again = rf_manifest_build (&m.config, m.layers, m.n_layers, &len);
      rf_manifest_t back;
      /* What runfctl writes for docker save images must read back. */
      if (rf_manifest_parse (again, len, &back, NULL) < 0)
        abort ();
      rf_manifest_clear (&back);
      free (again);
      rf_manifest_clear (&m);
    }
  else
    rf_error_free (&err);
  if (rf_index_parse (buf, size, &idx, &err) == 0)
    {
      const rf_descriptor_t *d;
      if (rf_index_select (&idx, &want, &d, &err) < 0)
        rf_error_free (&err);
      rf_index_clear (&idx);
    }
  else
    rf_error_free (&err);
  if (rf_image_config_parse (buf, size, &c, &err) == 0)
    rf_image_config_clear (&c);
  else
    rf_error_free (&err);
  return 0;
}
