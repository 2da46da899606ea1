#include <string.h>

#include "common/fnname.h"

bool
rf_function_name_valid_p (const char *s)
{
  size_t n = strlen (s);
  if (n == 0 || n > 63 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
      return false;
  return true;
}
