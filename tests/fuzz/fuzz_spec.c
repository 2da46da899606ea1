/* libFuzzer target: config.json comes from whoever asks for a container
 * (a bundle on disk, a function's deploy), and rf_spec_parse checks all of
 * it before anything is made; it must fail cleanly, with an error, on any
 * bytes, and what it accepts must free cleanly.  The annotations it
 * accepts then go through the systemd driver's org.systemd.property.*
 * reader (GVariant's text form), as --systemd-cgroup reads them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/jsonutil.h"
#include "common/log.h"
#include "runtime/cgroup_systemd.h"
#include "runtime/spec.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  rf_error_t err = NULL;
  json_t *doc;
  rf_spec_t *spec;

  doc = rf_json_load_buffer ("config.json", (const char *) data, size, &err);
  if (doc == NULL)
    {
      rf_error_free (&err);
      return 0;
    }
  spec = rf_spec_parse (doc, &err);
  if (spec == NULL)
    {
      /* A refusal always says why. */
      if (err == NULL)
        abort ();
      rf_error_free (&err);
    }
  else
    {
      rf_unit_prop_t *props = NULL;
      size_t n = 0;
      if (rf_systemd_annotation_props (spec->annotations, &props, &n, &err) < 0)
        {
          if (err == NULL || props != NULL || n != 0)
            abort ();
          rf_error_free (&err);
        }
      rf_unit_props_free (props, n);
      rf_spec_free (spec);
    }
  json_decref (doc);
  return 0;
}
