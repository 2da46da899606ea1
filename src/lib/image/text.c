#include "text.h"

#include <stdio.h>
#include <string.h>

#include "common/xalloc.h"

char *
rf_printable (const char *s, size_t max)
{
  size_t len, n, i;
  char *out;

  if (s == NULL)
    return xstrdup ("");
  len = strlen (s);
  n = len > max ? max : len;
  out = xmalloc (n + 4);
  for (i = 0; i < n; i++)
    {
      unsigned char c = (unsigned char) s[i];
      out[i] = c < 0x20 || c >= 0x7f ? '?' : (char) c;
    }
  if (len > max)
    memcpy (out + i, "...", 3), i += 3;
  out[i] = '\0';
  return out;
}

void
rf_format_size (double bytes, char *buf, size_t len)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
  size_t u = 0;
  while (bytes >= 1024 && u + 1 < sizeof units / sizeof units[0])
    {
      bytes /= 1024;
      u++;
    }
  if (u == 0)
    snprintf (buf, len, "%.0f %s", bytes, units[u]);
  else
    snprintf (buf, len, "%.1f %s", bytes, units[u]);
}
