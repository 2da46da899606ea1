#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* Digits, then an optional "." and more digits: the integer part and the
   fraction in billionths (enough for every unit below).  Returns how many
   characters were read, 0 when there was no number. */
static size_t
read_decimal (const char *s, uint64_t *whole, uint64_t *frac_e9, bool *overflow)
{
  uint64_t scale = 100000000;
  bool any = false;
  size_t i = 0;

  *whole = 0;
  *frac_e9 = 0;
  for (; isdigit ((unsigned char) s[i]); i++)
    {
      any = true;
      if (*whole > (UINT64_MAX - 9) / 10)
        *overflow = true;
      else
        *whole = *whole * 10 + (uint64_t) (s[i] - '0');
    }
  if (s[i] == '.')
    {
      size_t start = ++i;
      for (; isdigit ((unsigned char) s[i]); i++)
        {
          *frac_e9 += (uint64_t) (s[i] - '0') * scale;
          scale /= 10;
        }
      any = any || i > start;
    }
  return any ? i : 0;
}

/* whole.frac * mult, when it fits in int64. */
static int
scale_to_int64 (uint64_t whole, uint64_t frac_e9, uint64_t mult, int64_t *out)
{
  uint64_t v;
  if (whole > (uint64_t) INT64_MAX / mult)
    return -1;
  v = whole * mult;
  /* frac_e9 < 1e9 and mult <= 2^50 would overflow in one product; split. */
  v += (frac_e9 / 1000) * (mult / 1000000) + (frac_e9 / 1000) * (mult % 1000000) / 1000000;
  if (v > (uint64_t) INT64_MAX)
    return -1;
  *out = (int64_t) v;
  return 0;
}

int
rf_parse_ram_bytes (const char *s, int64_t *out)
{
  static const char units[] = "kmgtp";
  uint64_t whole, frac, mult = 1;
  bool overflow = false;
  size_t n;
  const char *u;

  if (s == NULL || (n = read_decimal (s, &whole, &frac, &overflow)) == 0)
    return errno = EINVAL, -1;
  s += n;
  if (*s == ' ')
    s++;
  if (*s && (u = strchr (units, tolower ((unsigned char) *s))) != NULL)
    {
      for (long i = 0; i <= u - units; i++)
        mult *= 1024;
      s++;
    }
  if (*s == 'i' || *s == 'I')
    s++;
  if (*s == 'b' || *s == 'B')
    s++;
  if (*s != '\0')
    return errno = EINVAL, -1;
  if (overflow || scale_to_int64 (whole, frac, mult, out) < 0)
    return errno = ERANGE, -1;
  return 0;
}

int
rf_parse_duration_ns (const char *s, int64_t *out)
{
  static const struct
  {
    const char *name;
    uint64_t ns;
  } units[] = {
    /* Longer names first: "ms" before "m". */
    { "ns", 1 },
    { "us", 1000 },
    { "\xc2\xb5s", 1000 }, /* U+00B5 micro sign */
    { "\xce\xbcs", 1000 }, /* U+03BC Greek mu */
    { "ms", 1000000 },
    { "s", 1000000000ULL },
    { "m", 60000000000ULL },
    { "h", 3600000000000ULL },
  };
  bool negative = false;
  int64_t total = 0;

  if (s == NULL)
    return errno = EINVAL, -1;
  if (*s == '-' || *s == '+')
    negative = *s++ == '-';
  if (strcmp (s, "0") == 0)
    {
      *out = 0;
      return 0;
    }
  if (*s == '\0')
    return errno = EINVAL, -1;
  while (*s)
    {
      uint64_t whole, frac;
      bool overflow = false;
      size_t n = read_decimal (s, &whole, &frac, &overflow), len = 0, best = 0;
      int64_t part;

      if (n == 0)
        return errno = EINVAL, -1;
      s += n;
      while (s[len] && !isdigit ((unsigned char) s[len]) && s[len] != '.')
        len++;
      for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen (units[i].name) == len && strncmp (s, units[i].name, len) == 0)
          best = i + 1;
      if (best == 0)
        return errno = EINVAL, -1;
      s += len;
      if (overflow || scale_to_int64 (whole, frac, units[best - 1].ns, &part) < 0
          || part > INT64_MAX - total)
        return errno = ERANGE, -1;
      total += part;
    }
  *out = negative ? -total : total;
  return 0;
}

int
rf_parse_seconds_ns (const char *s, int64_t *out)
{
  uint64_t whole, frac;
  bool overflow = false;
  size_t n;

  if (s == NULL)
    return errno = EINVAL, -1;
  n = read_decimal (s, &whole, &frac, &overflow);
  if (n == 0 || s[n] != '\0')
    return rf_parse_duration_ns (s, out);
  if (overflow || scale_to_int64 (whole, frac, 1000000000ULL, out) < 0)
    return errno = ERANGE, -1;
  return 0;
}
