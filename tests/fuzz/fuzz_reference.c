/* libFuzzer target: image references and WWW-Authenticate challenges. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/auth.h"
#include "image/reference.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *s = strndup ((const char *) data, size);
  rf_ref_t ref;
  rf_challenge_t ch;
  rf_error_t err = NULL;

  if (rf_ref_parse (s, &ref, &err) == 0)
    {
      /* A normalized name parses to itself. */
      char *text = rf_ref_string (&ref);
      rf_ref_t again;
      char *text2;
      if (rf_ref_parse (text, &again, NULL) < 0)
        abort ();
      text2 = rf_ref_string (&again);
      if (strcmp (text, text2) != 0)
        abort ();
      free (text2);
      free (text);
      rf_ref_clear (&again);
      rf_ref_clear (&ref);
    }
  else
    rf_error_free (&err);
  if (rf_challenge_parse (s, &ch, &err) == 0)
    rf_challenge_clear (&ch);
  else
    rf_error_free (&err);
  free (s);
  return 0;
}
